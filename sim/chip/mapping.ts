import type { Design, TileParams } from '../design/design.js';
import { resolveTiles } from '../design/tiles.js';
import type { ModelCard } from '../model/card.js';
import { kvBytesPerTokenPerLayer, kvScaleBytesPerTokenPerLayer, tensorScaleCount, weightTensors, type WeightTensor } from '../model/derive.js';
import { SCALE_BYTES, storageBytes, type Precision } from '../units/precision.js';

/**
 * The mapper: a documented compiler pass from (model, design) to a placement (docs/chip.md).
 *
 * 1. Units. The model is cut into placement units in dataflow order: [vision encoder
 *    layers, connector,] token embedding, decoder layers 0..L-1, LM head (with the final
 *    norm). A tied embedding is stored once, with the LM head.
 * 2. Regions. `mapping.pipelineStages` = S contiguous groups of units with about equal
 *    weight bytes; each group gets a region of tiles, taken in serpentine (boustrophedon)
 *    order so regions are compact, sized in proportion to its weight bytes (at least one
 *    tile). Consecutive stages sit next to each other on the mesh.
 * 3. Weights. Inside a region every matrix is split by output rows across all the
 *    region's tiles, in proportion to each tile's WMEM capacity (per-tile overrides are
 *    honoured), by largest remainders; vectors (norms, biases) go whole to the region's
 *    first tile. Each tile's bytes are checked against its WMEM: ROM is read-only and
 *    nothing else may spill into it.
 * 4. KV cache. Each decoder layer's cache lives in the DMEM of its region's tiles: KV
 *    heads are spread round-robin over the tiles, and when a region has more tiles than
 *    KV heads each head's context is split evenly across tiles (split-context attention).
 *    DMEM first reserves room for activations; what is left bounds the cached tokens.
 */

export interface WeightSlice {
  readonly tensor: string;
  /** Layer index for per-layer tensors, -1 otherwise. */
  readonly layer: number;
  readonly rowStart: number;
  readonly rowEnd: number;
  readonly cols: number;
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
  /** The tile nearest the region's centroid: it keeps the activation row and the norm vectors. */
  readonly root: number;
  readonly weightBytes: number;
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
    const stem = vis.filter((w) => !w.name.startsWith('vision.layers.'));
    units.push({ name: 'vision.stem', kind: 'vision', layer: -1, tensors: stem, weightBytes: bytesOf(stem) });
    for (let l = 0; l < card.vision.numLayers; l++) units.push({ name: `vision.layer${l}`, kind: 'vision', layer: l, tensors: layerT, weightBytes: bytesOf(layerT) });
    const conn = all.filter((w) => w.part === 'connector');
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

/** Split `total` into integer parts proportional to `weights` (largest remainders). */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((s, w) => s + w, 0);
  if (sum <= 0) return weights.map((_, i) => (i === 0 ? total : 0));
  const exact = weights.map((w) => (total * w) / sum);
  const parts = exact.map(Math.floor);
  let left = total - parts.reduce((s, x) => s + x, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) parts[order[k][1]]++;
  return parts;
}

/**
 * Rows of one matrix per tile: each tile gets the whole rows of its capacity share, and
 * the leftover rows go to the tiles filled least so far (relative to capacity), so small
 * matrices (fewer rows than tiles) do not always land on the same tiles.
 */
export function balancedParts(rows: number, caps: readonly number[], load: readonly number[], rowBytes: number): number[] {
  const sum = caps.reduce((s, c) => s + c, 0);
  const parts = caps.map((c) => Math.floor((rows * c) / sum));
  let left = rows - parts.reduce((s, x) => s + x, 0);
  if (left > 0) {
    const fill = caps.map((c, i) => [(load[i] + parts[i] * rowBytes) / c, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let k = 0; left > 0; k = (k + 1) % fill.length, left--) parts[fill[k][1]]++;
  }
  return parts;
}

/** Group units into `stages` contiguous groups of about equal weight bytes. */
function groupUnits(units: readonly PlacementUnit[], stages: number): PlacementUnit[][] {
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

/** Rows a tile computes and ships at a time (output row blocks, double-buffered). */
export const ROW_BLOCK = 64;

/**
 * Activation buffer a tile keeps in DMEM (the paper's D_in + D_out + D_scratch, Eq. 15):
 * its 1/n share of the region's activation rows (the widest activation of the step,
 * stored distributed over the region's n tiles), plus two output blocks of up to
 * ROW_BLOCK rows of its widest operator slice (double-buffered while they stream out).
 */
function activationReserve(card: ModelCard, actBytes: number, rowsTogether: number, emittingRows: number, regionTiles: number): number {
  const t = card.text;
  const widest = Math.max(t.hiddenSize, t.numHeads * t.headDim, card.vision?.hiddenSize ?? 0);
  const slice = Math.ceil(Math.max(t.intermediateSize, card.vision?.intermediateSize ?? 0) / regionTiles);
  // the LM head's logits exist only for the rows that emit a token, and the local argmax
  // consumes them in blocks of at most 1,024 as the GEMV produces them
  const vocabBlock = Math.min(1024, Math.ceil(t.vocabSize / regionTiles));
  const outBlock = Math.max(Math.min(rowsTogether, ROW_BLOCK) * slice, Math.min(emittingRows, ROW_BLOCK) * vocabBlock);
  return Math.ceil((rowsTogether * widest * actBytes) / regionTiles + 2 * outBlock * actBytes);
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
  // tiles per region, proportional to weight, at least one each
  const n = order.length;
  const extra = apportion(n - groups.length, groupBytes);
  const sizes = extra.map((x) => x + 1);

  const regions: Region[] = [];
  let cursor = 0;
  groups.forEach((g, s) => {
    const tiles = order.slice(cursor, cursor + sizes[s]);
    regions.push({ stage: s, units: g, tiles, root: centroidTile(tiles, cols), weightBytes: groupBytes[s] });
    cursor += sizes[s];
  });

  const slices: WeightSlice[][] = params.map(() => []);
  const kvShares: KvShare[][] = params.map(() => []);
  const regionOf = new Array<number>(n).fill(0);
  const kvHeads = card.text.numKvHeads;
  const kvTokenBytes = kvBytesPerTokenPerLayer(card, kvP) + kvScaleBytesPerTokenPerLayer(card, kvP);

  for (const region of regions) {
    const tiles = region.tiles;
    for (const t of tiles) regionOf[t] = region.stage;
    const caps = tiles.map((t) => params[t].wmemKiB * 1024);
    const load = tiles.map(() => 0);
    const rootIdx = tiles.indexOf(region.root);
    // vectors (norms, biases) first, whole, on the root where the element-wise work runs
    for (const unit of region.units) {
      for (const w of unit.tensors) {
        if (w.rows !== 1) continue;
        const b = tensorBytes(w, 1, p);
        slices[region.root].push({ tensor: w.name, layer: unit.layer, rowStart: 0, rowEnd: 1, cols: w.cols, bytes: b.bytes, scaleBytes: b.scaleBytes });
        load[rootIdx] += b.bytes + b.scaleBytes;
      }
    }
    // matrices split by rows in proportion to the capacity each tile has left
    const room = caps.map((c, i) => Math.max(1, c - load[i]));
    for (const unit of region.units) {
      for (const w of unit.tensors) {
        if (w.rows === 1) continue;
        const one = tensorBytes(w, 1, p);
        const parts = balancedParts(w.rows, room, load, one.bytes + one.scaleBytes);
        let r0 = 0;
        parts.forEach((rowsHere, i) => {
          if (rowsHere === 0) return;
          const b = tensorBytes(w, rowsHere, p);
          slices[tiles[i]].push({ tensor: w.name, layer: unit.layer, rowStart: r0, rowEnd: r0 + rowsHere, cols: w.cols, bytes: b.bytes, scaleBytes: b.scaleBytes });
          load[i] += b.bytes + b.scaleBytes;
          r0 += rowsHere;
        });
      }
    }
    for (const unit of region.units) {
      if (unit.kind === 'decoder') {
        // Flatten the layer's KV into [0, H) head units; tile i of n holds [iH/n, (i+1)H/n),
        // so every tile holds 1/n of the layer's KV (heads split by context when n > H).
        tiles.forEach((t, i) => {
          const a = (i * kvHeads) / tiles.length;
          const b = ((i + 1) * kvHeads) / tiles.length;
          const parts = [];
          for (let h = Math.floor(a); h < Math.min(kvHeads, Math.ceil(b)); h++) {
            const from = Math.max(h, a) - h;
            const to = Math.min(h + 1, b) - h;
            if (to > from) parts.push({ kvHead: h, fromFraction: from, toFraction: to });
          }
          if (parts.length) kvShares[t].push({ layer: unit.layer, parts });
        });
      }
    }
  }

  const rowsTogether = Math.max(options.maxBatch ?? 1, options.chunkTokens ?? 1);
  const shortfalls: Shortfall[] = [];
  let kvCapacityTokens = Number.POSITIVE_INFINITY;
  const tilesOut: TilePlacement[] = params.map((tp, t) => {
    const romBytes = slices[t].reduce((s, x) => s + x.bytes + x.scaleBytes, 0);
    const romCap = tp.wmemKiB * 1024;
    if (romBytes > romCap) shortfalls.push({ what: 'weights', tile: t, needBytes: romBytes, haveBytes: romCap });
    const kvPerToken = kvShares[t].reduce((s, k) => s + k.parts.reduce((a, q) => a + (q.toFraction - q.fromFraction), 0) * (kvTokenBytes / kvHeads), 0);
    const dmemCap = tp.dmemKiB * 1024;
    const reserve = activationReserve(card, actBytes, rowsTogether, options.maxBatch ?? 1, regions[regionOf[t]].tiles.length);
    if (reserve > dmemCap) shortfalls.push({ what: 'activations', tile: t, needBytes: reserve, haveBytes: dmemCap });
    if (kvPerToken > 0) kvCapacityTokens = Math.min(kvCapacityTokens, Math.max(0, Math.floor((dmemCap - reserve) / kvPerToken)));
    return {
      tile: t,
      row: Math.floor(t / cols),
      col: t % cols,
      region: regionOf[t],
      params: tp,
      weightSlices: slices[t],
      romBytes,
      romCapacityBytes: romCap,
      kvShares: kvShares[t],
      kvBytesPerToken: kvPerToken,
      activationReserveBytes: reserve,
      dmemCapacityBytes: dmemCap,
    };
  });
  if (!Number.isFinite(kvCapacityTokens)) kvCapacityTokens = 0;
  const need = options.requiredKvTokens ?? 0;
  if (need > kvCapacityTokens) {
    // report the tightest KV-holding tile
    const holders = tilesOut.filter((t) => t.kvBytesPerToken > 0);
    const room = (t: TilePlacement) => (t.dmemCapacityBytes - t.activationReserveBytes) / t.kvBytesPerToken;
    const worst = holders.reduce((w, t) => (room(t) < room(w) ? t : w), holders[0]);
    shortfalls.push({ what: 'kv', tile: worst.tile, needBytes: Math.ceil(need * worst.kvBytesPerToken) + worst.activationReserveBytes, haveBytes: worst.dmemCapacityBytes });
  }
  return {
    units,
    regions,
    tiles: tilesOut,
    weightBytesTotal: units.reduce((s, u) => s + u.weightBytes, 0),
    kvCapacityTokens,
    feasible: shortfalls.length === 0,
    shortfalls,
  };
}
