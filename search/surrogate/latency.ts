import type { ModelCard } from '../../sim/model/card.js';
import type { Design } from '../../sim/design/design.js';
import { bytesPerElement, PRECISION_BITS } from '../../sim/units/precision.js';
import { dmemBytesPerCycle, lanesOf, romBytesPerCycle } from '../../sim/chip/bounds.js';
import { packetFlits, zeroLoadLatencyCycles } from '../../sim/noc/packet.js';

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

export function estimateDecodeStep(card: ModelCard, design: Design, batch: number, contextTokens: number): StepEstimate {
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
  const slots = s.batching === 'single' ? 1 : Math.max(1, Math.min(s.microBatches, s.maxBatch));
  const b = Math.max(1, Math.ceil(batch / slots));
  const act = PRECISION_BITS[design.precision.activations] / 8;
  const bpw = bytesPerElement(design.precision.weights);
  const lanes = lanesOf(design.tile, design);
  const rom = romBytesPerCycle(design.tile);
  const dmem = dmemBytesPerCycle(design.tile);
  const noc = design.noc;
  const tree = noc.multicast === 'tree';
  let serial = 0;
  let hop = 0;
  let work = 0;
  let flitHops = 0;
  const message = (bytes: number, copies: number, fanIn: boolean) => {
    const f = packetFlits(noc, bytes);
    // unicast fan-out (and every fan-in) serialises the copies' flits at the root
    serial += (fanIn || !tree ? copies : 1) * f;
    hop += zeroLoadLatencyCycles(noc, hops, 1);
    flitHops += (fanIn || !tree ? copies * hops : Math.max(hops, copies)) * f;
  };
  const linear = (outRows: number, inCols: number, outBytesRows: number) => {
    const holders = Math.min(T, outRows);
    message(b * inCols * act, holders, false);
    const rowsEach = outRows / holders;
    work += Math.max((rowsEach * inCols * b) / lanes, (rowsEach * inCols * bpw) / rom);
    message((b * outBytesRows * act) / holders, holders, true);
  };
  const hd = t.headDim;
  const kvEntry = bytesPerElement(design.precision.kvCache);
  const window = design.mapping.kvWindowTokens;
  const positions = window > 0 ? Math.min(contextTokens + 1, window) : contextTokens + 1;
  const layer = () => {
    linear((t.numHeads + 2 * t.numKvHeads) * hd, t.hiddenSize, (t.numHeads + 2 * t.numKvHeads) * hd);
    // attention: queries to the KV holders, split-context partials back to the root
    // every region tile holds 1/T of the layer's KV: whole heads when T < KV heads, else
    // a part of one head's context; each gets its heads' query group
    const holdersHeads = Math.min(T, t.numKvHeads);
    message((b * t.numHeads * hd * act) / holdersHeads, T, false);
    work += Math.max((2 * t.numHeads * hd * positions * b) / T / lanes, (b * positions * 2 * hd * kvEntry * t.numKvHeads) / T / dmem);
    message((b * t.numHeads * (hd + 2) * act) / holdersHeads, T, true);
    work += ((T / holdersHeads) * t.numHeads * hd * b) / lanes;
    linear(t.hiddenSize, t.numHeads * hd, t.hiddenSize);
    linear(2 * t.intermediateSize, t.hiddenSize, t.intermediateSize);
    linear(t.hiddenSize, t.intermediateSize, t.hiddenSize);
    // norms, rope, residuals at the root (a handful of vector passes over the row)
    work += (6 * t.hiddenSize * b) / lanes;
  };
  layer();
  const perLayer = { serial, hop, work, flitHops };
  // LM head: vocabulary rows over the head region, local argmax, (value, index) back
  serial = hop = work = flitHops = 0;
  const holders = Math.min(T, t.vocabSize);
  message(b * t.hiddenSize * act, holders, false);
  work += Math.max(((t.vocabSize / holders) * t.hiddenSize * b) / lanes, ((t.vocabSize / holders) * t.hiddenSize * bpw) / rom);
  message(b * 8, holders, true);
  const L = t.numLayers;
  const regionMoves = (stages - 1) * zeroLoadLatencyCycles(noc, Math.max(1, regionRows), packetFlits(noc, b * t.hiddenSize * act));
  const serialCycles = L * perLayer.serial + serial;
  const hopCycles = L * perLayer.hop + hop + regionMoves;
  const workCycles = L * perLayer.work + work;
  return { cycles: serialCycles + hopCycles + workCycles, serialCycles, hopCycles, workCycles, flitHops: L * perLayer.flitHops + flitHops, regionTiles: T, rows: b, slots };
}
