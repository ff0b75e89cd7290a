import type { Design, TileParams } from '../design/design.js';
import { resolveTiles } from '../design/tiles.js';
import type { ModelCard } from '../model/card.js';
import { kvBytesPerTokenPerLayer, kvScaleBytesPerTokenPerLayer, patchesPerTile, tensorScaleCount, weightTensors, type WeightTensor } from '../model/derive.js';
import { SCALE_BYTES, storageBytes, type Precision } from '../units/precision.js';
import { apportion, size, streamLayout, type StreamLayout } from './partition.js';
import { placeRegionWeights } from './placeWeights.js';

/**
 * The mapper: a documented compiler pass from (model, design) to a placement (docs/chip.md).
 *
 * 1. Units. The model is cut into placement units in dataflow order: [vision stem, vision
 *    encoder layers, connector (post-LayerNorm and projection),] token embedding, decoder
 *    layers 0..L-1, LM head (with the final norm). A tied embedding is stored once, with
 *    the LM head.
 * 2. Regions. `mapping.pipelineStages` = S contiguous groups of units with about equal
 *    weight bytes; each group gets a region of tiles, taken in serpentine (boustrophedon)
 *    order so regions are compact, sized in proportion to its weight bytes (at least one
 *    tile). Consecutive stages sit next to each other on the mesh.
 * 3. Weights. Inside a region each model part (text decoder, vision encoder) is
 *    partitioned as `partition.ts` describes: residual slices (with the norm vectors' and
 *    o_proj/down_proj's matching columns and rows), per-KV-head sets for q/k/v and the
 *    KV cache, MLP rows over all tiles, all in proportion to each tile's WMEM capacity
 *    (per-tile overrides are honoured). Embedding and LM-head rows go to the tiles with
 *    the most room left. Each tile's bytes are checked against its WMEM: ROM is
 *    read-only and nothing else may spill into it.
 * 4. KV cache. Each decoder layer's cache lives in the DMEM of its region's tiles: the KV
 *    heads laid end to end over the tiles, each tile holding the same share (a boundary
 *    tile parts of two heads; split-context attention when a head spans several tiles).
 *    DMEM first reserves room for activations; what is left bounds the cached tokens.
 */

export interface WeightSlice {
  readonly tensor: string;
  /** Layer index for per-layer tensors (the first of `layers`), -1 otherwise. */
  readonly layer: number;
  /** Consecutive layers [layer, layer + layers) of a per-layer tensor cut the same way here (1 otherwise). */
  readonly layers: number;
  readonly rowStart: number;
  readonly rowEnd: number;
  /** First column held (vectors and position tables are split by columns; matrices hold whole rows). */
  readonly colStart: number;
  readonly cols: number;
  /** Bytes of the slice in one layer (weights, and quantisation scales). */
  readonly bytes: number;
  readonly scaleBytes: number;
}

export interface PlacementUnit {
  readonly name: string;
  readonly kind: 'vision' | 'connector' | 'embedding' | 'decoder' | 'head';
  /** Layer index within its stack (-1 for non-layer units). */
  readonly layer: number;
  readonly tensors: readonly WeightTensor[];
  readonly weightBytes: number;
}

export interface Region {
  readonly stage: number;
  readonly units: readonly PlacementUnit[];
  readonly tiles: readonly number[];
  /** The tile nearest the region's centroid (where a camera's pixels enter the vision stem). */
  readonly root: number;
  readonly weightBytes: number;
  /** How the text decoder's layers (and the final norm) are partitioned here, if any run here. */
  readonly text?: StreamLayout;
  /** How the vision encoder's layers (stem, post-LayerNorm) are partitioned here, if any run here. */
  readonly vision?: StreamLayout;
}

/** The tile of `tiles` nearest their centroid (Manhattan distance; lowest index on ties). */
export function centroidTile(tiles: readonly number[], cols: number): number {
  const cr = tiles.reduce((s, t) => s + Math.floor(t / cols), 0) / tiles.length;
  const cc = tiles.reduce((s, t) => s + (t % cols), 0) / tiles.length;
  let best = tiles[0];
  let bestD = Infinity;
  for (const t of tiles) {
    const d = Math.abs(Math.floor(t / cols) - cr) + Math.abs((t % cols) - cc);
    if (d < bestD - 1e-9 || (Math.abs(d - bestD) <= 1e-9 && t < best)) {
      bestD = d;
      best = t;
    }
  }
  return best;
}

export interface TilePlacement {
  readonly tile: number;
  readonly row: number;
  readonly col: number;
  readonly region: number;
  readonly params: TileParams;
  readonly weightSlices: readonly WeightSlice[];
  readonly romBytes: number;
  readonly romCapacityBytes: number;
  /** KV this tile holds: per decoder layer, parts of KV heads' contexts (fractions 0..1). */
  readonly kvShares: readonly KvShare[];
  /** KV bytes per cached token this tile stores (all its shares). */
  readonly kvBytesPerToken: number;
  /** DMEM reserved for activations (input, outputs, scratch). */
  readonly activationReserveBytes: number;
  readonly dmemCapacityBytes: number;
}

/** A tile's part of one layer's KV cache: for each KV head, a fraction of its positions. */
export interface KvShare {
  readonly layer: number;
  readonly parts: readonly { kvHead: number; fromFraction: number; toFraction: number }[];
}

export interface Shortfall {
  readonly what: 'weights' | 'kv' | 'activations';
  readonly tile: number;
  readonly needBytes: number;
  readonly haveBytes: number;
}

export interface ChipMapping {
  readonly units: readonly PlacementUnit[];
  readonly regions: readonly Region[];
  readonly tiles: readonly TilePlacement[];
  readonly weightBytesTotal: number;
  /** Most tokens whose KV fits in every holding tile's DMEM at once (the chip's KV capacity). */
  readonly kvCapacityTokens: number;
  /**
   * KV tokens a request with images reserves at least: the vision encoder's buffers (its
   * residual slices and keys/values of one crop, the image rows waiting for the prefill)
   * live in the request's own KV allocation, which holds nothing until the encoder is done.
   */
  readonly encoderScratchTokens: number;
  readonly feasible: boolean;
  readonly shortfalls: readonly Shortfall[];
}

export interface MapOptions {
  /** Sequences decoded together at most (sizes the activation reserve and the LM-head output buffer). */
  readonly maxBatch?: number;
  /** Prefill chunk (tokens processed together, sizes the activation reserve). */
  readonly chunkTokens?: number;
  /** Cached tokens the mapping must hold to be feasible (e.g. the longest request). */
  readonly requiredKvTokens?: number;
}

function tensorBytes(w: WeightTensor, rows: number, p: Precision): { bytes: number; scaleBytes: number } {
  const part = { ...w, rows, count: 1 };
  const elems = rows * w.cols;
  return { bytes: w.quantized ? storageBytes(elems, p) : storageBytes(elems, 'fp16'), scaleBytes: tensorScaleCount(part, p) * SCALE_BYTES };
}

/** Placement units in dataflow order. */
export function placementUnits(card: ModelCard, p: Precision): PlacementUnit[] {
  const all = weightTensors(card);
  const bytesOf = (ts: WeightTensor[]) => ts.reduce((s, w) => s + tensorBytes(w, w.rows, p).bytes * w.count + tensorBytes(w, w.rows, p).scaleBytes * w.count, 0);
  const perLayer = (ts: WeightTensor[]) => ts.map((w) => ({ ...w, count: 1 }));
  const units: PlacementUnit[] = [];
  if (card.vision) {
    const vis = all.filter((w) => w.part === 'vision');
    const layerT = perLayer(vis.filter((w) => w.count > 1 || w.name.startsWith('vision.layers.')));
    const stem = vis.filter((w) => !w.name.startsWith('vision.layers.') && w.name !== 'vision.post_layernorm');
    units.push({ name: 'vision.stem', kind: 'vision', layer: -1, tensors: stem, weightBytes: bytesOf(stem) });
    for (let l = 0; l < card.vision.numLayers; l++) units.push({ name: `vision.layer${l}`, kind: 'vision', layer: l, tensors: layerT, weightBytes: bytesOf(layerT) });
    // the post-encoder LayerNorm runs with the connector, where pixel shuffle needs its output
    const conn = [...vis.filter((w) => w.name === 'vision.post_layernorm'), ...all.filter((w) => w.part === 'connector')];
    units.push({ name: 'connector', kind: 'connector', layer: -1, tensors: conn, weightBytes: bytesOf(conn) });
  }
  const text = all.filter((w) => w.part === 'text');
  const embed = text.filter((w) => w.name === 'text.embed_tokens');
  const layerT = perLayer(text.filter((w) => w.name.startsWith('text.layers.')));
  const headT = text.filter((w) => w.name === 'text.norm' || w.name === 'text.lm_head');
  const tied = card.text.tieWordEmbeddings;
  if (!tied) units.push({ name: 'embedding', kind: 'embedding', layer: -1, tensors: embed, weightBytes: bytesOf(embed) });
  for (let l = 0; l < card.text.numLayers; l++) units.push({ name: `layer${l}`, kind: 'decoder', layer: l, tensors: layerT, weightBytes: bytesOf(layerT) });
  const headAll = tied ? [...headT, ...embed] : headT;
  units.push({ name: 'head', kind: 'head', layer: -1, tensors: headAll, weightBytes: bytesOf(headAll) });
  return units;
}

/** Tiles in serpentine order: row 0 left to right, row 1 right to left, ... */
export function serpentineOrder(rows: number, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) out.push(r * cols + (r % 2 === 0 ? i : cols - 1 - i));
  return out;
}

export { apportion };

/** Group units into `stages` contiguous groups of about equal weight bytes (the pipeline regions). */
export function groupUnits(units: readonly PlacementUnit[], stages: number): PlacementUnit[][] {
  const s = Math.min(stages, units.length);
  const total = units.reduce((a, u) => a + u.weightBytes, 0);
  const groups: PlacementUnit[][] = [];
  let cur: PlacementUnit[] = [];
  let acc = 0;
  units.forEach((u, i) => {
    cur.push(u);
    acc += u.weightBytes;
    const remainingUnits = units.length - i - 1;
    const remainingGroups = s - groups.length - 1;
    const target = (total * (groups.length + 1)) / s;
    if (remainingGroups > 0 && (acc >= target || remainingUnits === remainingGroups)) {
      groups.push(cur);
      cur = [];
    }
  });
  if (cur.length) groups.push(cur);
  return groups;
}

/** Tiles per region out of `n`: proportional to the regions' weight bytes, at least one each. */
export function regionTileCounts(n: number, regionBytes: readonly number[]): number[] {
  return apportion(n - regionBytes.length, regionBytes).map((x) => x + 1);
}


/** Rows a tile computes and ships at a time (output row blocks, double-buffered). */
export const ROW_BLOCK = 64;
/** Rows that stream through a tile's transient buffers at once (the GEMM's weight-stationary token tile). */
export const STREAM_ROWS = 8;

/** Per tile position of a layout: q|k|v rows it computes and its coverage of the heads (sum of fractions). */
function headLoad(L: StreamLayout): { qkvRows: number[]; coverage: number[] } {
  const qkvRows = L.tiles.map(() => 0);
  const coverage = L.tiles.map(() => 0);
  for (const h of L.heads) for (const m of h.members) {
    qkvRows[m.pos] += size(m.qkvRows);
    coverage[m.pos] += m.fraction;
  }
  return { qkvRows, coverage };
}

/**
 * Activation buffers a tile keeps in DMEM for the text decoder (the paper's D_in + D_out +
 * D_scratch, Eq. 15): its residual slice and the slice's normalised copy for every row a
 * step processes together; and, for STREAM_ROWS rows at a time, double-buffered: its
 * widest output block (q|k|v rows, gate and up rows, its vocabulary rows up to 1,024 for
 * the LM head's local argmax), one activation chunk (lanes elements) of the gathered input
 * (inputs stream in as the kernel consumes them) and one partial attention result.
 */
function textReserve(L: StreamLayout, pos: number, loads: ReturnType<typeof headLoad>, lanes: number, vocabRows: number, rowsTogether: number, actBytes: number): number {
  const slice = size(L.slices[pos]);
  const perKv = L.shape.queryHeads / L.shape.kvHeads;
  const out = Math.max(loads.qkvRows[pos], 2 * size(L.mlpRows[pos]), slice, Math.min(1024, vocabRows));
  const partial = Math.ceil(loads.coverage[pos]) * perKv * (L.shape.headDim + 2);
  return Math.ceil(actBytes * (rowsTogether * 2 * slice + 2 * Math.min(rowsTogether, STREAM_ROWS) * (out + lanes + partial)));
}

/**
 * The vision encoder's buffers on a tile for one crop of `rows` patches: its residual
 * slice of every row, the keys and values of its part of the heads' positions, and
 * double-buffered blocks as in the text reserve.
 */
function visionScratch(L: StreamLayout, pos: number, loads: ReturnType<typeof headLoad>, lanes: number, rows: number, actBytes: number): number {
  const slice = size(L.slices[pos]);
  const kv = Math.ceil(loads.coverage[pos] * rows) * 2 * L.shape.headDim;
  const out = Math.max(loads.qkvRows[pos], size(L.mlpRows[pos]), slice);
  return Math.ceil(actBytes * (rows * slice + kv + 2 * STREAM_ROWS * (out + lanes + Math.ceil(loads.coverage[pos]) * (L.shape.headDim + 2))));
}

/**
 * What `placeTile` reads from the mapping around one tile, and the chip-wide figures it
 * updates (the shortfalls found, the KV tokens every holder fits, the encoder's scratch).
 */
interface TileBudgetContext {
  readonly card: ModelCard;
  readonly cols: number;
  readonly regions: readonly Region[];
  readonly regionOf: readonly number[];
  /** Per tile, its position in its region's tile list. */
  readonly posOf: Int32Array;
  readonly slices: readonly (readonly WeightSlice[])[];
  readonly kvShares: readonly (readonly KvShare[])[];
  readonly loads: readonly { readonly text: ReturnType<typeof headLoad> | undefined; readonly vision: ReturnType<typeof headLoad> | undefined }[];
  /** KV bytes per cached token of one KV head (all layers' shares are fractions of heads). */
  readonly kvBytesPerHeadToken: number;
  readonly rowsTogether: number;
  readonly actBytes: number;
  readonly shortfalls: Shortfall[];
  kvCapacityTokens: number;
  encoderScratchTokens: number;
}

/**
 * Tile x's budget: ROM bytes of its weight slices, KV bytes per cached token, activation
 * reserve, against its WMEM and DMEM. A module-level function with loops rather than a
 * closure with reduce callbacks inside `mapModel`: a closure made per mapping loses its
 * optimised code once the mapping is collected, and V8 compiled it and its callbacks again
 * on warm runs (33 mapping.ts compilations over 10 warm fast decode:1@512 runs on
 * paper-llama-3nm before, 17 after; about 5% of the compiler's instructions per run).
 */
function placeTile(ctx: TileBudgetContext, tp: TileParams, x: number): TilePlacement {
  const t = ctx.card.text;
  const v = ctx.card.vision;
  const region = ctx.regions[ctx.regionOf[x]];
  const pos = ctx.posOf[x];
  const slices = ctx.slices[x];
  let romBytes = 0;
  for (let i = 0; i < slices.length; i++) romBytes += (slices[i].bytes + slices[i].scaleBytes) * slices[i].layers;
  const romCap = tp.wmemKiB * 1024;
  if (romBytes > romCap) ctx.shortfalls.push({ what: 'weights', tile: x, needBytes: romBytes, haveBytes: romCap });
  const shares = ctx.kvShares[x];
  let kvPerToken = 0;
  for (let i = 0; i < shares.length; i++) {
    let heads = 0;
    for (let j = 0; j < shares[i].parts.length; j++) heads += shares[i].parts[j].toFraction - shares[i].parts[j].fromFraction;
    kvPerToken += heads * ctx.kvBytesPerHeadToken;
  }
  const dmemCap = tp.dmemKiB * 1024;
  let vocabRows = 0;
  for (let i = 0; i < slices.length; i++) {
    const w = slices[i];
    if (w.tensor === 'text.lm_head' || (w.tensor === 'text.embed_tokens' && t.tieWordEmbeddings)) vocabRows = vocabRows + w.rowEnd - w.rowStart;
  }
  const lanes = Math.floor(tp.vlenBits / (ctx.actBytes * 8));
  const reserve = region.text ? textReserve(region.text, pos, ctx.loads[region.stage].text!, lanes, vocabRows, ctx.rowsTogether, ctx.actBytes) : 0;
  if (reserve > dmemCap) ctx.shortfalls.push({ what: 'activations', tile: x, needBytes: reserve, haveBytes: dmemCap });
  const room = Math.max(0, dmemCap - reserve);
  if (kvPerToken > 0) ctx.kvCapacityTokens = Math.min(ctx.kvCapacityTokens, Math.floor(room / kvPerToken));
  if (region.vision && v) {
    const scratch = visionScratch(region.vision, pos, ctx.loads[region.stage].vision!, lanes, patchesPerTile(v), ctx.actBytes);
    if (scratch > room) ctx.shortfalls.push({ what: 'activations', tile: x, needBytes: reserve + scratch, haveBytes: dmemCap });
    // the scratch lives in the request's KV allocation: as many tokens as it takes on the tightest tile
    ctx.encoderScratchTokens = Math.max(ctx.encoderScratchTokens, kvPerToken > 0 ? Math.ceil(scratch / kvPerToken) : 0);
  }
  return {
    tile: x,
    row: Math.floor(x / ctx.cols),
    col: x % ctx.cols,
    region: ctx.regionOf[x],
    params: tp,
    weightSlices: slices,
    romBytes,
    romCapacityBytes: romCap,
    kvShares: shares,
    kvBytesPerToken: kvPerToken,
    activationReserveBytes: reserve,
    dmemCapacityBytes: dmemCap,
  };
}

export function mapModel(card: ModelCard, design: Design, options: MapOptions = {}): ChipMapping {
  const p = design.precision.weights;
  const kvP = design.precision.kvCache;
  const actBytes = design.precision.activations === 'fp16' ? 2 : 1;
  const params = resolveTiles(design);
  const { rows, cols } = design.mesh;
  const order = serpentineOrder(rows, cols);
  const units = placementUnits(card, p);
  const groups = groupUnits(units, design.mapping.pipelineStages);
  const groupBytes = groups.map((g) => g.reduce((s, u) => s + u.weightBytes, 0));
  const n = order.length;
  const sizes = regionTileCounts(n, groupBytes);
  const t = card.text;
  const v = card.vision;
  const textShape = { width: t.hiddenSize, mlp: t.intermediateSize, queryHeads: t.numHeads, kvHeads: t.numKvHeads, headDim: t.headDim };
  const visionShape = v ? { width: v.hiddenSize, mlp: v.intermediateSize, queryHeads: v.numHeads, kvHeads: v.numHeads, headDim: v.hiddenSize / v.numHeads } : undefined;

  const slices: WeightSlice[][] = params.map(() => []);
  const kvShares: KvShare[][] = params.map(() => []);
  const regionOf = new Array<number>(n).fill(0);
  const regions: Region[] = [];
  let cursor = 0;
  groups.forEach((g, s) => {
    const tiles = order.slice(cursor, cursor + sizes[s]);
    cursor += sizes[s];
    const caps = tiles.map((x) => params[x].wmemKiB * 1024);
    const text = g.some((u) => u.kind === 'decoder' || u.kind === 'head') ? streamLayout('text', textShape, tiles, caps) : undefined;
    const vision = visionShape && g.some((u) => u.kind === 'vision' || u.kind === 'connector') ? streamLayout('vision', visionShape, tiles, caps) : undefined;
    regions.push({ stage: s, units: g, tiles, root: centroidTile(tiles, cols), weightBytes: groupBytes[s], text, vision });
    for (const x of tiles) regionOf[x] = s;
    placeRegionWeights(g, tiles, caps, { text, vision }, p, slices, tiles.map(() => 0));
    if (text && g.some((u) => u.kind === 'decoder')) {
      // every decoder layer of the region splits its KV heads the same way: one parts list per tile, shared by the layers
      const parts: { kvHead: number; fromFraction: number; toFraction: number }[][] = tiles.map(() => []);
      for (const h of text.heads) {
        let from = 0;
        for (const m of h.members) {
          parts[m.pos].push({ kvHead: h.kvHead, fromFraction: from, toFraction: from + m.fraction });
          from += m.fraction;
        }
      }
      for (const u of g) {
        if (u.kind !== 'decoder') continue;
        parts.forEach((ps, pos) => ps.length && kvShares[tiles[pos]].push({ layer: u.layer, parts: ps }));
      }
    }
  });

  const kvHeads = t.numKvHeads;
  const kvTokenBytes = kvBytesPerTokenPerLayer(card, kvP) + kvScaleBytesPerTokenPerLayer(card, kvP);
  const rowsTogether = Math.max(options.maxBatch ?? 1, options.chunkTokens ?? 1);
  const shortfalls: Shortfall[] = [];
  let kvCapacityTokens = Number.POSITIVE_INFINITY;
  let encoderScratchTokens = 0;
  const loads = regions.map((r) => ({ text: r.text && headLoad(r.text), vision: r.vision && headLoad(r.vision) }));
  const posOf = new Int32Array(n);
  for (const r of regions) r.tiles.forEach((x, i) => (posOf[x] = i));
  const ctx: TileBudgetContext = { card, cols, regions, regionOf, posOf, slices, kvShares, loads, kvBytesPerHeadToken: kvTokenBytes / kvHeads, rowsTogether, actBytes, shortfalls, kvCapacityTokens, encoderScratchTokens };
  const tilesOut: TilePlacement[] = [];
  for (let x = 0; x < params.length; x++) tilesOut.push(placeTile(ctx, params[x], x));
  kvCapacityTokens = ctx.kvCapacityTokens;
  encoderScratchTokens = ctx.encoderScratchTokens;
  if (!Number.isFinite(kvCapacityTokens)) kvCapacityTokens = 0;
  const need = options.requiredKvTokens ?? 0;
  if (need > kvCapacityTokens) {
    // report the tightest KV-holding tile
    const holders = tilesOut.filter((x) => x.kvBytesPerToken > 0);
    const room = (x: TilePlacement) => (x.dmemCapacityBytes - x.activationReserveBytes) / x.kvBytesPerToken;
    const worst = holders.reduce((w, x) => (room(x) < room(w) ? x : w), holders[0]);
    shortfalls.push({ what: 'kv', tile: worst.tile, needBytes: Math.ceil(need * worst.kvBytesPerToken) + worst.activationReserveBytes, haveBytes: worst.dmemCapacityBytes });
  }
  return {
    units,
    regions,
    tiles: tilesOut,
    weightBytesTotal: units.reduce((s, u) => s + u.weightBytes, 0),
    kvCapacityTokens,
    encoderScratchTokens,
    feasible: shortfalls.length === 0,
    shortfalls,
  };
}
