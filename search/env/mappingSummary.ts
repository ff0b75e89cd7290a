import type { ModelCard } from '../../sim/model/card.js';
import type { Design } from '../../sim/design/design.js';
import { apportion, placementUnits, type PlacementUnit } from '../../sim/chip/mapping.js';
import { kvBytesPerTokenPerLayer, kvScaleBytesPerTokenPerLayer, tensorScaleCount } from '../../sim/model/derive.js';
import { SCALE_BYTES, storageBytes, type Precision } from '../../sim/units/precision.js';
import type { LabelWorkload } from '../workload.js';

/**
 * The mapping summary an environment step needs (docs/explore.md "Observation"): memory
 * pressure, load balance and feasibility of the model on a design, in O(placement units)
 * instead of the mapping pass's O(tensors x tiles).
 *
 * Why not the mapping pass itself: `planMapping` materialises every weight slice of every
 * tile (about 500,000 for Llama 3.1 8B on 41x42 tiles) and measured 270-350 ms per Llama
 * design and 60 ms per SmolLM2 design on this machine (docs/explore.md), while a search
 * takes 20,000 steps per node. This summary follows the pass's documented steps for
 * uniform tiles (sim/chip/mapping.ts): pipeline groups of about equal weight bytes, tiles
 * per region in proportion to them (at least one), each region's weights spread over its
 * tiles, every decoder layer's KV cache spread evenly over its region, and the same
 * activation reserve (Eq. 15). Exact for regions, KV bytes per token and the reserve; a
 * tile's ROM load is the region's even share plus one row of its widest matrix (the
 * pass's row granularity), so the weight verdict can differ only for a design within one
 * row of its WMEM. `test/explore-env.test.ts` checks the verdicts and pressures against
 * `planMapping` on sampled designs. Heterogeneous designs are summarised as the pass
 * sizes them: every tile's WMEM holds its slices, DMEM is its need + 10% up to 1 MiB.
 */

export interface MappingSummary {
  /** The mapping would be feasible (weights, activations and the workload's KV fit). */
  readonly feasible: boolean;
  readonly regions: number;
  /** Largest tile ROM load over its WMEM (> 1: the weights do not fit). */
  readonly weightPressure: number;
  /** Largest tile DMEM need (activation reserve + KV of the workload's context) over its DMEM. */
  readonly dmemPressure: number;
  /** Paper Eq. 17, max over tiles: W_used / W_alloc + 0.5 D_used / D_alloc. */
  readonly memoryPressure: number;
  /** Tiles' ROM load: coefficient of variation, max / mean, min / max. */
  readonly loadCv: number;
  readonly loadMaxOverMean: number;
  readonly loadMinOverMax: number;
  /** Cached tokens the chip holds over those the workload needs. */
  readonly kvCapacityRatio: number;
  /** Relative shortfall: sum over what does not fit of (need - have) / have (0 when feasible). */
  readonly shortfall: number;
}

/** Per (card, precision) placement units and their row sizes, computed once. */
interface UnitInfo {
  readonly units: readonly PlacementUnit[];
  /** Bytes of one row of the unit's widest matrix (values + scales). */
  readonly maxRowBytes: readonly number[];
}

const unitCache = new WeakMap<ModelCard, Map<Precision, UnitInfo>>();

function unitInfo(card: ModelCard, p: Precision): UnitInfo {
  let m = unitCache.get(card);
  if (!m) unitCache.set(card, (m = new Map()));
  let info = m.get(p);
  if (!info) {
    const units = placementUnits(card, p);
    const rowBytes = (u: PlacementUnit) =>
      u.tensors.filter((w) => w.rows > 1).reduce((mx, w) => Math.max(mx, (w.quantized ? storageBytes(w.cols, p) : storageBytes(w.cols, 'fp16')) + tensorScaleCount({ ...w, rows: 1, count: 1 }, p) * SCALE_BYTES), 0);
    info = { units, maxRowBytes: units.map(rowBytes) };
    m.set(p, info);
  }
  return info;
}

/** Group units into `stages` contiguous groups of about equal weight bytes (the pass's step 2). */
function groupSizes(units: readonly PlacementUnit[], stages: number): number[][] {
  const s = Math.min(stages, units.length);
  const total = units.reduce((a, u) => a + u.weightBytes, 0);
  const groups: number[][] = [];
  let cur: number[] = [];
  let acc = 0;
  units.forEach((u, i) => {
    cur.push(i);
    acc += u.weightBytes;
    const remainingUnits = units.length - i - 1;
    const remainingGroups = s - groups.length - 1;
    if (remainingGroups > 0 && (acc >= (total * (groups.length + 1)) / s || remainingUnits === remainingGroups)) {
      groups.push(cur);
      cur = [];
    }
  });
  if (cur.length) groups.push(cur);
  return groups;
}

/** The activation buffer a tile of a region of `regionTiles` keeps in DMEM (the pass's Eq. 15 reserve). */
function activationReserveBytes(card: ModelCard, actBytes: number, rowsTogether: number, emittingRows: number, regionTiles: number): number {
  const t = card.text;
  const widest = Math.max(t.hiddenSize, t.numHeads * t.headDim, card.vision?.hiddenSize ?? 0);
  const slice = Math.ceil(Math.max(t.intermediateSize, card.vision?.intermediateSize ?? 0) / regionTiles);
  const vocabBlock = Math.min(1024, Math.ceil(t.vocabSize / regionTiles));
  const rowBlock = 64;
  const outBlock = Math.max(Math.min(rowsTogether, rowBlock) * slice, Math.min(emittingRows, rowBlock) * vocabBlock);
  return Math.ceil((rowsTogether * widest * actBytes) / regionTiles + 2 * outBlock * actBytes);
}

/** Cached tokens the workload's decode run needs per sequence (its context and outputs, windowed). */
export function requiredKvTokens(design: Design, workload: LabelWorkload): number {
  const all = workload.decode.contextTokens + workload.decode.outputTokens;
  const w = design.mapping.kvWindowTokens;
  return w > 0 ? Math.min(all, w) : all;
}

export function mappingSummary(card: ModelCard, design: Design, workload: LabelWorkload): MappingSummary {
  const { units, maxRowBytes } = unitInfo(card, design.precision.weights);
  const tiles = design.mesh.rows * design.mesh.cols;
  const groups = groupSizes(units, design.mapping.pipelineStages);
  const groupBytes = groups.map((g) => g.reduce((s, i) => s + units[i].weightBytes, 0));
  const sizes = apportion(tiles - groups.length, groupBytes).map((x) => x + 1);
  // planMapping's serving limits: the batch decoded together and the rows a prefill chunk moves at once
  const maxBatch = design.serving.batching === 'single' ? 1 : design.serving.maxBatch;
  const rowsTogether = Math.max(maxBatch, design.serving.prefillChunkTokens);
  const actBytes = design.precision.activations === 'fp16' ? 2 : 1;
  const kvToken = kvBytesPerTokenPerLayer(card, design.precision.kvCache) + kvScaleBytesPerTokenPerLayer(card, design.precision.kvCache);
  const need = requiredKvTokens(design, workload);
  const hetero = design.mapping.heterogeneousTiles;
  let wP = 0;
  let dP = 0;
  let mem = 0;
  let shortfall = 0;
  let kvCap = Infinity;
  let sum = 0;
  let sumSq = 0;
  let maxLoad = 0;
  let minLoad = Infinity;
  groups.forEach((g, r) => {
    const n = sizes[r];
    const load = groupBytes[r] / n + Math.max(0, ...g.map((i) => maxRowBytes[i]));
    const decoders = g.filter((i) => units[i].kind === 'decoder').length;
    const kvPerToken = (decoders * kvToken) / n;
    const reserve = activationReserveBytes(card, actBytes, rowsTogether, maxBatch, n);
    const dNeed = reserve + kvPerToken * need;
    // heterogeneous designs: the pass sizes WMEM to the slices (+2%) and DMEM to the need (+10%, at most 1 MiB)
    const wmem = hetero ? Math.max(256 * 1024, load * 1.02) : design.tile.wmemKiB * 1024;
    const dmem = hetero ? Math.min(1024 * 1024, Math.max(16 * 1024, Math.ceil((dNeed * 1.1) / 16384) * 16384)) : design.tile.dmemKiB * 1024;
    wP = Math.max(wP, load / wmem);
    dP = Math.max(dP, dNeed / dmem);
    mem = Math.max(mem, load / wmem + (0.5 * dNeed) / dmem);
    if (load > wmem) shortfall += (load - wmem) / wmem;
    if (dNeed > dmem) shortfall += (dNeed - dmem) / dmem;
    if (kvPerToken > 0) kvCap = Math.min(kvCap, Math.max(0, Math.floor((dmem - reserve) / kvPerToken)));
    const even = groupBytes[r] / n;
    sum += even * n;
    sumSq += even * even * n;
    maxLoad = Math.max(maxLoad, even);
    minLoad = Math.min(minLoad, even);
  });
  const mean = sum / tiles;
  const cv = mean > 0 ? Math.sqrt(Math.max(0, sumSq / tiles - mean * mean)) / mean : 0;
  return {
    feasible: shortfall === 0,
    regions: groups.length,
    weightPressure: wP,
    dmemPressure: dP,
    memoryPressure: mem,
    loadCv: cv,
    loadMaxOverMean: mean > 0 ? maxLoad / mean : 1,
    loadMinOverMax: maxLoad > 0 ? minLoad / maxLoad : 1,
    kvCapacityRatio: Number.isFinite(kvCap) ? kvCap / Math.max(1, need) : 1,
    shortfall,
  };
}

