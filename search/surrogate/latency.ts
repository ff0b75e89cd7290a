import type { ModelCard } from '../../sim/model/card.js';
import type { Design } from '../../sim/design/design.js';
import { bytesPerElement, PRECISION_BITS } from '../../sim/units/precision.js';
import { dmemBytesPerCycle, lanesOf, romBytesPerCycle } from '../../sim/chip/bounds.js';
import { packetFlits, zeroLoadLatencyCycles } from '../../sim/noc/packet.js';
import type { NocParams } from '../../sim/design/design.js';

/**
 * An O(1) estimate of one decode step's latency on the mapped chip (docs/search.md
 * "Features"), for the surrogate: the simulator's dataflow (sim/chip/step.ts) in closed
 * form, without building the mapping or the task graph (which costs 50-1000 ms a design).
 *
 * The mapper cuts the model into S = pipelineStages regions of about n / S tiles each
 * (sim/chip/mapping.ts), every matrix split by rows over all of a region's T tiles. Per
 * decoder layer and micro-batch of b rows, each linear group (q/k/v, o, gate/up, down)
 * sends the activation row from the region's root to the T holders (unicast: T packets
 * serialised on the root's injection port; tree multicast: one), each holder computes its
 * row slice at its tightest resource (lanes or ROM port), and the T slices return to the
 * root (serialised on its ejection port). Attention sends each KV holder its query heads,
 * the holders attend over their share of the context (lanes or DMEM ports) and the root
 * combines the partials. Messages travel the region's mean root distance at the zero-load
 * latency (sim/noc/packet.ts). It is a feature, not a bound: contention, kernel
 * efficiency and the pipeline's overlap are left for the model to learn.
 */

export interface StepEstimate {
  /** Estimated cycles of one decode step of a micro-batch (all layers and the head). */
  readonly cycles: number;
  /** Of which: packets serialised at region roots (injection and ejection). */
  readonly serialCycles: number;
  /** Of which: per-hop router and link delays. */
  readonly hopCycles: number;
  /** Of which: holders' work at their resource limits. */
  readonly workCycles: number;
  /** Flit-hops the step moves (each unicast copy over the mean distance; a tree over about T links). */
  readonly flitHops: number;
  /** Tiles per region, T. */
  readonly regionTiles: number;
  /** Rows of one micro-batch, b. */
  readonly rows: number;
  /** Micro-batches in flight. */
  readonly slots: number;
}

/** The step's running totals; methods rather than per-call closures (the estimate is on the search's hot path). */
class StepCost {
  serial = 0;
  hop = 0;
  work = 0;
  flitHops = 0;
  constructor(
    readonly noc: NocParams,
    readonly tree: boolean,
    readonly hops: number,
    readonly regionTiles: number,
    readonly rows: number,
    readonly act: number,
    readonly bpw: number,
    readonly lanes: number,
    readonly romBytesPerCycle: number,
  ) {}

  /** `copies` packets of `bytes` between the root and holders (fan-in: towards the root). */
  message(bytes: number, copies: number, fanIn: boolean): void {
    const f = packetFlits(this.noc, bytes);
    const each = fanIn || !this.tree;
    // unicast fan-out (and every fan-in) serialises the copies' flits at the root
    this.serial += (each ? copies : 1) * f;
    this.hop += zeroLoadLatencyCycles(this.noc, this.hops, 1);
    this.flitHops += (each ? copies * this.hops : Math.max(this.hops, copies)) * f;
  }

  /** A linear group: the row to the holders, their row slices, the slices back. */
  linear(outRows: number, inCols: number, outBytesRows: number): void {
    const holders = Math.min(this.regionTiles, outRows);
    const b = this.rows;
    this.message(b * inCols * this.act, holders, false);
    const rowsEach = outRows / holders;
    this.work += Math.max((rowsEach * inCols * b) / this.lanes, (rowsEach * inCols * this.bpw) / this.romBytesPerCycle);
    this.message((b * outBytesRows * this.act) / holders, holders, true);
  }

  /** Decoder layer: q/k/v, attention over `positions` (DMEM at `dmem` bytes/cycle), o, gate/up, down, root vector work. */
  layer(t: ModelCard['text'], positions: number, kvEntryBytes: number, dmem: number): void {
    const hd = t.headDim;
    const T = this.regionTiles;
    const b = this.rows;
    this.linear((t.numHeads + 2 * t.numKvHeads) * hd, t.hiddenSize, (t.numHeads + 2 * t.numKvHeads) * hd);
    // every region tile holds 1/T of the layer's KV: whole heads when T < KV heads, else
    // a part of one head's context; each gets its heads' query group
    const holdersHeads = Math.min(T, t.numKvHeads);
    this.message((b * t.numHeads * hd * this.act) / holdersHeads, T, false);
    this.work += Math.max((2 * t.numHeads * hd * positions * b) / T / this.lanes, (b * positions * 2 * hd * kvEntryBytes * t.numKvHeads) / T / dmem);
    this.message((b * t.numHeads * (hd + 2) * this.act) / holdersHeads, T, true);
    this.work += ((T / holdersHeads) * t.numHeads * hd * b) / this.lanes;
    this.linear(t.hiddenSize, t.numHeads * hd, t.hiddenSize);
    this.linear(2 * t.intermediateSize, t.hiddenSize, t.intermediateSize);
    this.linear(t.hiddenSize, t.intermediateSize, t.hiddenSize);
    // norms, rope, residuals at the root (a handful of vector passes over the row)
    this.work += (6 * t.hiddenSize * b) / this.lanes;
  }

  /** LM head: vocabulary rows over the head region, local argmax, (value, index) back. */
  head(t: ModelCard['text']): void {
    const holders = Math.min(this.regionTiles, t.vocabSize);
    const b = this.rows;
    this.message(b * t.hiddenSize * this.act, holders, false);
    this.work += Math.max(((t.vocabSize / holders) * t.hiddenSize * b) / this.lanes, ((t.vocabSize / holders) * t.hiddenSize * this.bpw) / this.romBytesPerCycle);
    this.message(b * 8, holders, true);
  }
}

export function estimateDecodeStep(card: ModelCard, design: Design, batch: number, contextTokens: number, batching: 'single' | 'continuous' = design.serving.batching): StepEstimate {
  const t = card.text;
  const n = design.mesh.rows * design.mesh.cols;
  // placement units: the decoder layers, the LM head, and the embedding unless tied to the head
  const units = t.numLayers + 1 + (t.tieWordEmbeddings ? 0 : 1);
  const stages = Math.max(1, Math.min(design.mapping.pipelineStages, n, units));
  const T = Math.max(1, n / stages);
  const cols = design.mesh.cols;
  // a region is T tiles of the serpentine order: full mesh rows when T >= cols
  const regionRows = T >= cols ? T / cols : 1;
  const regionCols = Math.min(T, cols);
  const hops = Math.max(1, (regionRows + regionCols) / 4); // mean Manhattan distance to the centroid
  const s = design.serving;
  const slots = batching === 'single' ? 1 : Math.max(1, Math.min(s.microBatches, s.maxBatch));
  const b = Math.max(1, Math.ceil(batch / slots));
  const noc = design.noc;
  const window = design.mapping.kvWindowTokens;
  const positions = window > 0 ? Math.min(contextTokens + 1, window) : contextTokens + 1;
  const layer = new StepCost(noc, noc.multicast === 'tree', hops, T, b, PRECISION_BITS[design.precision.activations] / 8, bytesPerElement(design.precision.weights), lanesOf(design.tile, design), romBytesPerCycle(design.tile));
  layer.layer(t, positions, bytesPerElement(design.precision.kvCache), dmemBytesPerCycle(design.tile));
  const head = new StepCost(noc, layer.tree, hops, T, b, layer.act, layer.bpw, layer.lanes, layer.romBytesPerCycle);
  head.head(t);
  const L = t.numLayers;
  const regionMoves = (stages - 1) * zeroLoadLatencyCycles(noc, Math.max(1, regionRows), packetFlits(noc, b * t.hiddenSize * layer.act));
  const serialCycles = L * layer.serial + head.serial;
  const hopCycles = L * layer.hop + head.hop + regionMoves;
  const workCycles = L * layer.work + head.work;
  return { cycles: serialCycles + hopCycles + workCycles, serialCycles, hopCycles, workCycles, flitHops: L * layer.flitHops + head.flitHops, regionTiles: T, rows: b, slots };
}
