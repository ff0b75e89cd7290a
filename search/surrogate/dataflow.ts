import type { ModelCard } from '../../sim/model/card.js';
import type { Design, NocParams } from '../../sim/design/design.js';
import { bytesPerElement, PRECISION_BITS } from '../../sim/units/precision.js';
import { dmemBytesPerCycle, lanesOf, romBytesPerCycle } from '../../sim/chip/bounds.js';
import { packetFlits, zeroLoadLatencyCycles } from '../../sim/noc/packet.js';
import { cyclesPerFlit, injectionCreditRoundTripCycles, linkCreditRoundTripCycles, spanCycles } from '../../sim/noc/creditFlow.js';
import { kvBytesPerTokenPerLayer, kvScaleBytesPerTokenPerLayer } from '../../sim/model/derive.js';
import { groupUnits, placementUnits, regionTileCounts, STREAM_ROWS, type PlacementUnit } from '../../sim/chip/mapping.js';
import { apportion } from '../../sim/chip/partition.js';
import type { TileWork } from '../../sim/chip/work.js';

/**
 * The critical path of one decode step on the simulator's distributed dataflow
 * (sim/chip/layers.ts, collectives.ts, trees.ts; docs/chip.md "Dataflow"), in closed form
 * over the region's shape, for the surrogate (docs/search.md "Features"). It follows what
 * the simulator's mapping bound measures on the built task graph (each task at its tile's
 * tightest resource, each message at its zero-load latency) without building the mapping
 * or the graph (50 ms to 1 s a design):
 *
 * - a region is T = n / S tiles of the serpentine order: T / cols full mesh rows, or a
 *   run of T tiles in one row;
 * - an all-gather (tree) goes up a k-ary tree built by recursive bisection (each level
 *   cuts the wider side into k parts, children at their part's centre) and comes back as
 *   one multicast from the root: the path is, per level, the farthest child's message of
 *   its subtree's bytes, then the multicast to the farthest corner; a ring all-gather
 *   (dimension-ordered) is the row ring's steps, the column ring's steps and the leaders'
 *   multicast along a row;
 * - per layer: norm gather, q|k|v rows, each KV head's gather, query multicast, split-
 *   context attention and merge tree, the heads' gather and multicast, o_proj, the second
 *   norm's gather, gate|up rows, the MLP gather, down_proj; the LM head after the last.
 */

export interface PathEstimate {
  /** Critical-path cycles of one micro-batch's step. */
  readonly cycles: number;
  /** Of which: message latencies. */
  readonly netCycles: number;
  /** Of which: tile work at resource limits. */
  readonly workCycles: number;
  /** Not in `cycles`: the per-step waits at busy ports (unicast copies at a root, children at a parent), which the simulator has and the bound does not. */
  readonly serialCycles: number;
  /** The busiest tile's work in one step (its region's layers; the regions are balanced by weight bytes). */
  readonly busiestTileCycles: number;
  /** Rows of one micro-batch step and the micro-batch steps in flight. */
  readonly rows: number;
  readonly slots: number;
}

/** A rectangle of tiles (a region or a part of one): its sides and how many tiles it holds. */
interface Rect {
  readonly w: number;
  readonly h: number;
  readonly m: number;
}

class PathModel {
  /** Cycles messages wait for a port the critical path ignores (the simulator does not): copies and children serialised at one tile. */
  serial = 0;
  constructor(
    readonly noc: NocParams,
    readonly radix: number,
  ) {
    this.linkRt = linkCreditRoundTripCycles(noc);
    this.injRt = injectionCreditRoundTripCycles(noc);
    this.perFlit = cyclesPerFlit(noc.bufferDepthFlits, Math.max(this.linkRt, this.injRt));
  }

  /** Cycles per flit where the buffers do not cover the credit round trip (sim/noc/creditFlow.ts: max(1, R / D)). */
  readonly perFlit: number;
  private readonly linkRt: number;
  private readonly injRt: number;

  /**
   * An idle path's message latency as the simulator's message-level NoC has it: the head at
   * its zero-load latency, the tail `spanCycles` behind it on the slowest credit loop
   * (injection or links: D buffer slots against a round trip R), so a shallow buffer
   * stretches a long packet (creditFlow.ts; equal to the zero-load latency when D >= R).
   */
  msg(hops: number, bytes: number): number {
    if (bytes <= 0) return 0;
    const h = Math.max(0, Math.round(hops));
    const flits = packetFlits(this.noc, bytes);
    const d = this.noc.bufferDepthFlits;
    const span = Math.max(spanCycles(flits, d, this.injRt), h > 0 ? spanCycles(flits, d, this.linkRt) : 0);
    return zeroLoadLatencyCycles(this.noc, h, 1) + span;
  }

  /** Port time of a packet of `bytes` (its flits at the credit loop's rate). */
  portCycles(bytes: number): number {
    return packetFlits(this.noc, bytes) * this.perFlit;
  }

  /** Up a bisection tree over `r`, each member adding `own` bytes (plus `relay` cycles at each interior level). */
  gather(r: Rect, own: number, relay = 0): number {
    let cycles = 0;
    let { w, h, m } = r;
    while (m > 1) {
      // a fractional set (a KV head's share of tiles) still has at least one child part
      const parts = Math.max(1, Math.min(this.radix, m - 1));
      const wide = w >= h;
      const side = wide ? w : h;
      // the farthest part's centre from the set's centre; a part's subtree sends its bytes up
      const child = (m - 1) / parts;
      const bytes = child * own;
      cycles += this.msg((side - side / parts) / 2, bytes) + relay;
      // the other children's packets queue at the parent's ejection port
      this.serial += (parts - 1) * this.portCycles(bytes);
      if (wide) w = Math.max(1, w / parts);
      else h = Math.max(1, h / parts);
      m = child;
    }
    return cycles;
  }

  /** The root (at the centre) multicasts `bytes` to every tile of `r`. */
  multicast(r: Rect, bytes: number): number {
    if (r.m <= 1) return 0;
    // unicast fan-out: the copies leave the root's injection port one after another
    if (this.noc.multicast !== 'tree') this.serial += Math.max(0, Math.ceil(r.m) - 2) * this.portCycles(bytes);
    return this.msg((r.w - 1) / 2 + (r.h - 1) / 2, bytes);
  }

  /** Dimension-ordered ring all-gather: row rings, the leaders' column ring, the leaders' multicast along their row. */
  ring(r: Rect, own: number): number {
    const perRow = Math.min(r.m, r.w);
    const rows = Math.max(1, Math.ceil(r.m / Math.max(1, r.w)));
    const rowBytes = perRow * own;
    let c = (perRow - 1) * this.msg(Math.min(2, perRow - 1), own);
    if (rows > 1) c += (rows - 1) * this.msg(2, rowBytes) + this.msg(perRow - 1, (rows - 1) * rowBytes);
    return c;
  }

  allGather(ring: boolean, r: Rect, own: number): number {
    return ring ? this.ring(r, own) : this.gather(r, own) + this.multicast(r, own * r.m);
  }
}

/**
 * Cycles of one tile's work, for the path's work terms: at the tile's tightest resource
 * (the closed form below, the default), or from the tile model's own kernels
 * (`kernelWork`, search/surrogate/kernels.ts) when the caller pays for them. `tileRuns`:
 * how many times the step runs that work over all tiles (its activity counts that often).
 */
export type WorkCycles = (work: TileWork, tileRuns: number) => number | undefined;

export function estimateCriticalPath(card: ModelCard, design: Design, batch: number, contextTokens: number, batching: 'single' | 'continuous' = design.serving.batching, kernels?: WorkCycles): PathEstimate {
  const t = card.text;
  const n = design.mesh.rows * design.mesh.cols;
  const cols = design.mesh.cols;
  const s = design.serving;
  const slots = batching === 'single' ? 1 : Math.max(1, Math.min(s.microBatches, s.maxBatch));
  const b = Math.max(1, Math.ceil(batch / slots));
  const A = PRECISION_BITS[design.precision.activations] / 8;
  const bpw = bytesPerElement(design.precision.weights);
  const kvB = bytesPerElement(design.precision.kvCache);
  const lanes = lanesOf(design.tile, design);
  const rom = romBytesPerCycle(design.tile);
  const dmem = dmemBytesPerCycle(design.tile);
  const pm = new PathModel(design.noc, Math.max(1, design.mapping.treeRadix));
  const ring = design.mapping.allGather === 'ring';
  const linear = (rows: number, cols_: number) => Math.max(Math.ceil((rows * cols_ * b) / lanes), Math.ceil((rows * cols_ * bpw) / rom));
  const vector = (width: number) => Math.ceil((width * b) / lanes);
  const window = design.mapping.kvWindowTokens;
  const positions = window > 0 ? Math.min(contextTokens + 1, window) : contextTokens + 1;
  const hd = t.headDim;
  const perKv = t.numHeads / t.numKvHeads;
  const h = t.hiddenSize;
  const I = t.intermediateSize;
  // the works as the simulator's step builder makes them (sim/chip/layers.ts decoderWorks),
  // the busiest tile's share of each (ceil); at resource limits unless `kernels` is given
  // (a work the tile model refuses stays at its limit)
  const exact = (w: TileWork, limit: number, runs: number) => (kernels ? (kernels(w, runs) ?? limit) : limit);
  const lin = (rows: number, cols_: number, extra: Partial<Extract<TileWork, { kind: 'linear' }>>, limit: number, runs: number) => exact({ kind: 'linear', rows: Math.max(1, Math.ceil(rows)), cols: cols_, tokens: b, ...extra }, limit, runs);
  const rectOf = (T: number): Rect => (T >= cols ? { w: cols, h: T / cols, m: T } : { w: T, h: 1, m: T });

  /** One decoder layer on a region of T tiles (run `layers` times there): its message and work cycles and port waits. */
  const layer = (T: number, layers: number) => {
    const region = rectOf(T);
    const runs = layers * T;
    const serial0 = pm.serial;
    let net = 0;
    let work = 0;
    const sliceW = h / T;
    work += exact({ kind: 'vector', op: 'rmsnorm', width: Math.max(1, Math.ceil(sliceW)), tokens: b, residual: true }, vector(sliceW), runs); // norm's local pass
    net += pm.allGather(ring, region, b * sliceW * A + 4 * b);
    const qkvRows = ((t.numHeads + 2 * t.numKvHeads) * hd) / T;
    // RoPE on the q and k rows of the slice (layers.ts qkvLoad)
    work += lin(qkvRows, h, { scaleOutputs: true, ropeRows: Math.min(Math.ceil(qkvRows), Math.ceil(((t.numHeads + t.numKvHeads) * hd) / T)), headDim: hd }, linear(qkvRows, h), runs);
    // a KV head's tiles: a run of T / KV tiles (split context), or one tile holding KV / T heads
    const headTiles = Math.max(1, T / t.numKvHeads);
    const headRect: Rect = { w: Math.min(headTiles, cols), h: Math.max(1, headTiles / cols), m: headTiles };
    const headsHere = Math.max(1, t.numKvHeads / T);
    net += pm.gather(headRect, (b * (perKv + 2) * hd * A) / headTiles);
    net += pm.multicast(headRect, b * perKv * hd * A);
    const share = (positions / headTiles) * headsHere;
    const keys = Math.max(1, Math.ceil(positions / headTiles));
    const attLimit = Math.max(Math.ceil((2 * perKv * hd * share * b) / lanes), Math.ceil((share * b * 2 * hd * kvB) / dmem));
    const heads = Math.ceil(headsHere);
    work += heads * exact({ kind: 'attention', queryHeads: perKv, kvHeads: 1, headDim: hd, positions: b * keys, queries: b, kvPositions: b * keys, kvWrites: b }, attLimit / heads, runs * heads);
    net += pm.gather(headRect, b * perKv * (hd + 2) * A, headTiles > 1 ? vector(perKv * hd) : 0);
    // the heads' outputs: a tree over the KV heads' roots (spread over the region), then a multicast
    const rootsRect: Rect = { w: region.w, h: region.h, m: Math.min(T, t.numKvHeads) };
    if (ring) net += pm.ring(rootsRect, b * perKv * hd * A * headsHere);
    else net += pm.gather(rootsRect, b * perKv * hd * A * headsHere) + pm.multicast(region, b * t.numHeads * hd * A);
    work += lin(sliceW, t.numHeads * hd, { thenNorm: true }, linear(sliceW, t.numHeads * hd) + 2 * vector(sliceW), runs);
    net += pm.allGather(ring, region, b * sliceW * A + 4 * b);
    work += lin((2 * I) / T, h, { fusedSiluMul: true, scaleOutputs: true }, linear((2 * I) / T, h) + vector(I / T), runs);
    net += pm.allGather(ring, region, (b * I * A) / T);
    work += lin(sliceW, I, { thenNorm: true }, linear(sliceW, I) + 2 * vector(sliceW), runs);
    const serial = pm.serial - serial0;
    pm.serial = serial0;
    return { net, work, serial };
  };

  // --- the step: each region's layers (regions sized by weight bytes, mapping.ts mapModel),
  // the moves between regions, the LM head and its argmax tree on the last region ---
  const regions = regionsOf(unitsOf(card, design.precision.weights), Math.max(1, Math.min(design.mapping.pipelineStages, n)));
  const sizes = regionTileCounts(n, regions.map((r) => r.bytes));
  const same = new Map<number, { net: number; work: number; serial: number }>();
  let netCycles = 0;
  let workCycles = 0;
  let serialCycles = 0;
  let busiestTileCycles = 0;
  regions.forEach((r, i) => {
    const T = sizes[i];
    const region = rectOf(T);
    let tileWork = 0;
    if (r.layers > 0) {
      // equal regions give equal layers: computed once, except that kernels count every run
      let c = kernels ? undefined : same.get(T);
      if (!c) same.set(T, (c = layer(T, r.layers)));
      netCycles += r.layers * c.net;
      workCycles += r.layers * c.work;
      serialCycles += r.layers * c.serial;
      tileWork += r.layers * c.work;
    }
    const sliceW = h / T;
    if (i > 0) netCycles += pm.msg(region.h, b * sliceW * A);
    if (r.head) {
      const serial0 = pm.serial;
      netCycles += pm.allGather(ring, region, b * sliceW * A + 4 * b) + pm.gather(region, 8 * b);
      serialCycles += pm.serial - serial0;
      pm.serial = serial0;
      const headWork = lin(t.vocabSize / T, h, { argmax: true }, linear(t.vocabSize / T, h), T);
      workCycles += headWork;
      tileWork += headWork;
    }
    busiestTileCycles = Math.max(busiestTileCycles, tileWork);
  });
  return { cycles: netCycles + workCycles, netCycles, workCycles, serialCycles, busiestTileCycles, rows: b, slots };
}

/** The pipeline regions as mapping.ts groups them (`groupUnits`): each region's layers, weight bytes and whether it holds the LM head. */
function regionsOf(units: readonly PlacementUnit[], stages: number): { layers: number; bytes: number; head: boolean }[] {
  return groupUnits(units, stages).map((g) => ({
    layers: g.reduce((a, u) => a + (u.kind === 'decoder' ? 1 : 0), 0),
    bytes: g.reduce((a, u) => a + u.weightBytes, 0),
    head: g.some((u) => u.kind === 'head'),
  }));
}

const unitsCache = new WeakMap<ModelCard, Map<string, PlacementUnit[]>>();
function unitsOf(card: ModelCard, p: Design['precision']['weights']): PlacementUnit[] {
  let m = unitsCache.get(card);
  if (!m) unitsCache.set(card, (m = new Map()));
  let u = m.get(p);
  if (!u) m.set(p, (u = placementUnits(card, p)));
  return u;
}

/**
 * Tokens the KV cache holds per sequence slot, as the mapping pass finds it (sim/chip/
 * mapping.ts): per region of T_r tiles (sized by weight bytes) holding L_r layers, each tile
 * keeps L_r / T_r of a token's KV bytes in its DMEM after its activation reserve (the
 * paper's D_in + D_out + D_scratch, mapping.ts `textReserve`); the tightest tile decides.
 * Heterogeneous tiles are sized for `needTokens` (one sequence's KV need) plus 10%.
 */
export function kvCapacityTokensEstimate(card: ModelCard, design: Design, needTokens: number): number {
  const t = card.text;
  const n = design.mesh.rows * design.mesh.cols;
  const regions = regionsOf(unitsOf(card, design.precision.weights), design.mapping.pipelineStages);
  const total = regions.reduce((s, r) => s + r.bytes, 0);
  const kvToken = kvBytesPerTokenPerLayer(card, design.precision.kvCache) + kvScaleBytesPerTokenPerLayer(card, design.precision.kvCache);
  const A = PRECISION_BITS[design.precision.activations] / 8;
  const s = design.serving;
  const together = Math.max(s.batching === 'single' ? 1 : s.maxBatch, s.prefillChunkTokens);
  const stream = Math.min(together, STREAM_ROWS);
  const lanes = lanesOf(design.tile, design);
  const perKv = t.numHeads / t.numKvHeads;
  const dmem = design.tile.dmemKiB * 1024;
  let cap = Infinity;
  for (const r of regions) {
    if (r.layers === 0) continue;
    const T = Math.max(1, 1 + ((n - regions.length) * r.bytes) / total);
    const slice = Math.ceil(t.hiddenSize / T);
    const vocabRows = r.head ? Math.min(1024, Math.ceil(t.vocabSize / T)) : 0;
    const out = Math.max(Math.ceil(((t.numHeads + 2 * t.numKvHeads) * t.headDim) / T), Math.ceil((2 * t.intermediateSize) / T), slice, vocabRows);
    const partial = Math.ceil(t.numKvHeads / T) * perKv * (t.headDim + 2);
    const reserve = A * (together * 2 * slice + 2 * stream * (out + lanes + partial));
    const perToken = (r.layers * kvToken) / T;
    // heterogeneous tiles get DMEM for their reserve and `needTokens` of KV + 10% (sim/chip/heterogeneous.ts), 16-1024 KiB
    const room = design.mapping.heterogeneousTiles ? Math.min(1024 * 1024, Math.max(16 * 1024, 1.1 * (reserve + perToken * needTokens))) - reserve : dmem - reserve;
    cap = Math.min(cap, Math.floor(Math.max(0, room) / perToken));
  }
  return Number.isFinite(cap) ? cap : 0;
}
