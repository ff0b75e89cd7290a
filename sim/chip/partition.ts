/**
 * How one model part (the text decoder or the vision encoder) is partitioned over a
 * region's tiles (docs/chip.md, "Mapping" and "Dataflow"). Tensor parallelism without a
 * hub: every tile owns a slice of the residual stream, and every linear layer is split by
 * output rows.
 *
 * - Residual slices: the hidden dimension is cut into one contiguous slice per tile, in
 *   proportion to each tile's ROM capacity. A tile keeps its slice of the residual stream,
 *   applies the norm's scaling and the residual adds to it, and holds the same rows of
 *   every layer's o_proj and down_proj (their outputs land where the slice lives).
 * - Head sets: the KV heads are laid end to end over the tiles (tile i of n covers
 *   [iH/n, (i+1)H/n) of them), so each tile holds the same share of the KV cache; the
 *   tiles covering a head hold its context split by positions (split-context attention)
 *   and compute the rows of q_proj, k_proj and v_proj that produce it (in whole RoPE
 *   pairs, so each tile rotates its own rows).
 * - MLP rows: gate_proj and up_proj are split by the same rows over all the region's tiles
 *   (a tile's gate and up rows coincide, so it applies SiLU-gate locally).
 *
 * Pure functions of the shapes and capacities; the mapper (mapping.ts) turns them into
 * weight slices and KV shares, the step builder (step.ts) into tasks and messages.
 */

export interface Range {
  readonly start: number;
  readonly end: number;
}

export const size = (r: Range): number => r.end - r.start;

/**
 * Split [0, total) into contiguous ranges in proportion to `weights` (largest remainders),
 * in whole units of `unit` elements (the last range takes any remainder of total / unit).
 */
export function splitRange(total: number, weights: readonly number[], unit = 1): Range[] {
  const units = Math.floor(total / unit);
  const parts = apportion(units, weights);
  const out: Range[] = [];
  let at = 0;
  parts.forEach((p, i) => {
    const end = i === parts.length - 1 ? total : at + p * unit;
    out.push({ start: at, end });
    at = end;
  });
  return out;
}

/**
 * Like `splitRange` (contiguous ranges in proportion to `weights`, whole `unit`s), but the
 * units left over after every member's whole share go to the members filled least so far:
 * member k is tile position `pos[k]`, filled `load[pos] / capacity[pos]`, and each unit
 * adds `unitLoad` to its load. Successive splits then spread their rounding over
 * different tiles instead of piling it on the first ones.
 */
export function splitBalanced(total: number, weights: readonly number[], unit: number, pos: readonly number[], load: number[], capacity: readonly number[], unitLoad: number): Range[] {
  const units = Math.floor(total / unit);
  const sum = weights.reduce((s, w) => s + w, 0);
  const parts = weights.map((w) => (sum > 0 ? Math.floor((units * w) / sum) : 0));
  let left = units - parts.reduce((s, x) => s + x, 0);
  if (left > 0) {
    // each member's fill, computed once before sorting (the same keys the comparator reads)
    const fill = Float64Array.from(parts, (p, k) => (load[pos[k]] + p * unitLoad) / Math.max(1, capacity[pos[k]]));
    // ties spread evenly over the members (golden-ratio order), not to the first ones
    const spread = Float64Array.from(parts, (_, k) => (k * 0.6180339887498949) % 1);
    const order = parts.map((_, k) => k).sort((a, b) => fill[a] - fill[b] || spread[a] - spread[b] || a - b);
    for (let i = 0; left > 0; i = (i + 1) % order.length, left--) parts[order[i]]++;
  }
  const out: Range[] = [];
  let at = 0;
  parts.forEach((p, k) => {
    const end = k === parts.length - 1 ? total : at + p * unit;
    out.push({ start: at, end });
    load[pos[k]] += (end - at) * unitLoad;
    at = end;
  });
  return out;
}

/** Split `total` into integer parts proportional to `weights` (largest remainders; ties to the lower index). */
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

/** The parts [start, end) of `a` and `b` that overlap, with the indices of the ranges they come from. */
export function overlaps(a: readonly Range[], b: readonly Range[]): { from: number; to: number; range: Range }[] {
  const out: { from: number; to: number; range: Range }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const start = Math.max(a[i].start, b[j].start);
    const end = Math.min(a[i].end, b[j].end);
    if (end > start) out.push({ from: i, to: j, range: { start, end } });
    if (a[i].end <= b[j].end) i++;
    else j++;
  }
  return out;
}

/**
 * The tiles that hold one KV head's context (docs/chip.md): the heads are laid end to end
 * over the layout's tiles, tile i of n covering [iH/n, (i+1)H/n) of them, so every tile
 * holds the same share of the KV cache and a tile on a boundary holds parts of two heads.
 */
export interface HeadSet {
  readonly kvHead: number;
  readonly queryHeads: Range;
  /**
   * Positions (into the layout's `tiles`) of the tiles holding part of this head's
   * context: the fraction of the positions each holds, and its rows of the head's q|k|v
   * output (indices into [q rows of the head's query heads | k rows | v rows]).
   */
  readonly members: readonly { readonly pos: number; readonly fraction: number; readonly qkvRows: Range }[];
}

export interface StreamShape {
  /** Residual width (hidden size). */
  readonly width: number;
  /** MLP width (intermediate size). */
  readonly mlp: number;
  readonly queryHeads: number;
  readonly kvHeads: number;
  readonly headDim: number;
}

export interface StreamLayout {
  readonly part: 'text' | 'vision';
  readonly shape: StreamShape;
  /** The region's tiles in serpentine order. */
  readonly tiles: readonly number[];
  /** Residual slice of each tile (aligned with `tiles`): its columns of the hidden state, its rows of o_proj and down_proj. */
  readonly slices: readonly Range[];
  /** gate_proj / up_proj (fc1) rows of each tile. */
  readonly mlpRows: readonly Range[];
  /** One per KV head (per head in the vision encoder, which has no grouped queries). */
  readonly heads: readonly HeadSet[];
}

/** Rows of q_proj, k_proj and v_proj behind a range of a head's q|k|v concatenation. */
export function qkvTensorRows(head: HeadSet, rows: Range, headDim: number): { q: Range; k: Range; v: Range } {
  const q0 = head.queryHeads.start * headDim;
  const qn = size(head.queryHeads) * headDim;
  const k0 = head.kvHead * headDim;
  const cut = (from: number, len: number, base: number): Range => {
    const s = Math.min(Math.max(rows.start - from, 0), len);
    const e = Math.min(Math.max(rows.end - from, 0), len);
    return { start: base + s, end: base + e };
  };
  return { q: cut(0, qn, q0), k: cut(qn, headDim, k0), v: cut(qn + headDim, headDim, k0) };
}

/** The KV heads laid end to end over `n` tiles: per head, the tiles covering it and the fraction of it each covers. */
export function headCoverage(kvHeads: number, n: number): { pos: number; fraction: number }[][] {
  const out: { pos: number; fraction: number }[][] = Array.from({ length: kvHeads }, () => []);
  for (let i = 0; i < n; i++) {
    const a = (i * kvHeads) / n;
    const b = ((i + 1) * kvHeads) / n;
    for (let h = Math.floor(a); h < Math.min(kvHeads, Math.ceil(b)); h++) {
      const f = Math.min(h + 1, b) - Math.max(h, a);
      if (f > 1e-12) out[h].push({ pos: i, fraction: f });
    }
  }
  return out;
}

/** Rows are apportioned by the tiles' ROM capacity (`capacity`, aligned with `tiles`). */
export function streamLayout(part: 'text' | 'vision', shape: StreamShape, tiles: readonly number[], capacity: readonly number[]): StreamLayout {
  const perKv = shape.queryHeads / shape.kvHeads;
  const pairUnit = shape.headDim % 2 === 0 ? 2 : 1;
  const rowsPerHead = (perKv + 2) * shape.headDim;
  const all = tiles.map((_, i) => i);
  // weights a unit of each split places on a tile (per layer): a residual element is a row
  // of o_proj and one of down_proj, an MLP row a row of gate_proj and one of up_proj
  const load = tiles.map(() => 0);
  const slices = splitBalanced(shape.width, capacity, 1, all, load, capacity, perKv * shape.kvHeads * shape.headDim + shape.mlp);
  const mlpRows = splitBalanced(shape.mlp, capacity, 1, all, load, capacity, 2 * shape.width);
  const heads = headCoverage(shape.kvHeads, tiles.length).map((cover, h): HeadSet => {
    const pos = cover.map((c) => c.pos);
    const rows = splitBalanced(rowsPerHead, cover.map((c) => c.fraction * capacity[c.pos]), pairUnit, pos, load, capacity, shape.width);
    return { kvHead: h, queryHeads: { start: h * perKv, end: (h + 1) * perKv }, members: cover.map((c, k) => ({ pos: c.pos, fraction: c.fraction, qkvRows: rows[k] })) };
  });
  return { part, shape, tiles, slices, mlpRows, heads };
}
