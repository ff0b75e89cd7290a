import { tensorScaleCount, type WeightTensor } from '../model/derive.js';
import { SCALE_BYTES, storageBytes, type Precision } from '../units/precision.js';
import { qkvTensorRows, size, type Range, type StreamLayout } from './partition.js';
import type { PlacementUnit, WeightSlice } from './mapping.js';

/**
 * Weight placement inside one region (docs/chip.md, "Mapping" step 3): every tensor of the
 * region's units is cut as the region's stream layouts say (residual slices, head sets,
 * MLP rows); tables whose rows are read one at a time (the embedding, the LM head's
 * vocabulary rows, the connector's projection) go to the tiles with the most room left.
 */

/** One tile's piece of a tensor: rows x columns. */
interface Cut {
  readonly pos: number;
  readonly rows: Range;
  readonly cols: Range;
}

const ALL = (n: number): Range => ({ start: 0, end: n });

/** Bytes and scale bytes of `rows` x `cols` of a tensor (quantised tensors are cut by whole rows only). */
export function sliceBytes(w: WeightTensor, rows: number, cols: number, p: Precision): { bytes: number; scaleBytes: number } {
  const elems = rows * cols;
  return { bytes: w.quantized ? storageBytes(elems, p) : storageBytes(elems, 'fp16'), scaleBytes: tensorScaleCount({ ...w, rows, cols, count: 1 }, p) * SCALE_BYTES };
}

/** The cuts a layout prescribes for `w`, or undefined when its rows go wherever there is room. */
function layoutCuts(w: WeightTensor, text: StreamLayout | undefined, vision: StreamLayout | undefined): Cut[] | undefined {
  const byRows = (ranges: readonly Range[]) => ranges.map((rows, pos) => ({ pos, rows, cols: ALL(w.cols) }));
  const byCols = (ranges: readonly Range[], per = 1) => ranges.map((r, pos) => ({ pos, rows: ALL(w.rows), cols: { start: per * r.start, end: per * r.end } }));
  const qkv = (L: StreamLayout, which: 'q' | 'k' | 'v', asBias: boolean) => {
    const out: Cut[] = [];
    for (const head of L.heads) {
      for (const m of head.members) {
        const rows = qkvTensorRows(head, m.qkvRows, L.shape.headDim)[which];
        if (size(rows) > 0) out.push(asBias ? { pos: m.pos, rows: ALL(1), cols: rows } : { pos: m.pos, rows, cols: ALL(w.cols) });
      }
    }
    return out;
  };
  const name = w.name;
  if (name.startsWith('text.layers.') && text) {
    const which = name.slice('text.layers.'.length);
    if (which === 'q_proj' || which === 'k_proj' || which === 'v_proj') return qkv(text, which[0] as 'q' | 'k' | 'v', false);
    if (which === 'o_proj' || which === 'down_proj') return byRows(text.slices);
    if (which === 'gate_proj' || which === 'up_proj') return byRows(text.mlpRows);
    if (which === 'input_layernorm' || which === 'post_attention_layernorm') return byCols(text.slices);
  }
  if (name === 'text.norm' && text) return byCols(text.slices);
  if (name.startsWith('vision.') && vision) {
    const which = name.startsWith('vision.layers.') ? name.slice('vision.layers.'.length) : name;
    const bias = which.endsWith('.bias');
    const base = bias ? which.slice(0, -'.bias'.length) : which;
    const rowsOrBias = (ranges: readonly Range[]) => (bias ? byCols(ranges) : byRows(ranges));
    if (base === 'q_proj' || base === 'k_proj' || base === 'v_proj') return qkv(vision, base[0] as 'q' | 'k' | 'v', bias);
    if (base === 'out_proj' || base === 'fc2' || base === 'vision.patch_embedding') return rowsOrBias(vision.slices);
    if (base === 'fc1') return rowsOrBias(vision.mlpRows);
    // LayerNorm weight and bias: 2 values per column of the slice
    if (base === 'layer_norm1' || base === 'layer_norm2' || base === 'vision.post_layernorm') return byCols(vision.slices, 2);
    // position table: every patch's row, the slice's columns
    if (base === 'vision.position_embedding') return byCols(vision.slices);
  }
  return undefined;
}

/**
 * Place the tensors of `units` on the region's tiles (`tiles`, capacities `caps` in
 * bytes), appending to `slices[tile]` and adding to `load[pos]` (aligned with `tiles`).
 */
export function placeRegionWeights(units: readonly PlacementUnit[], tiles: readonly number[], caps: readonly number[], layouts: { text?: StreamLayout; vision?: StreamLayout }, p: Precision, slices: WeightSlice[][], load: number[]): void {
  const put = (w: WeightTensor, layer: number, c: Cut) => {
    const b = sliceBytes(w, size(c.rows), size(c.cols), p);
    slices[tiles[c.pos]].push({ tensor: w.name, layer, rowStart: c.rows.start, rowEnd: c.rows.end, colStart: c.cols.start, cols: size(c.cols), bytes: b.bytes, scaleBytes: b.scaleBytes });
    load[c.pos] += b.bytes + b.scaleBytes;
  };
  const deferred: [WeightTensor, number][] = [];
  for (const unit of units) {
    for (const w of unit.tensors) {
      const cuts = layoutCuts(w, layouts.text, layouts.vision);
      if (!cuts) {
        deferred.push([w, unit.layer]);
        continue;
      }
      for (const c of cuts) if (size(c.rows) > 0 && size(c.cols) > 0) put(w, unit.layer, c);
    }
  }
  // row tables: whole rows to the tiles filled least (relative to capacity)
  for (const [w, layer] of deferred) {
    const one = sliceBytes(w, 1, w.cols, p);
    const parts = balancedParts(w.rows, caps, load, one.bytes + one.scaleBytes);
    let r0 = 0;
    parts.forEach((n, pos) => {
      if (n > 0) put(w, layer, { pos, rows: { start: r0, end: r0 + n }, cols: ALL(w.cols) });
      r0 += n;
    });
  }
}

/**
 * Rows of one table per tile: each tile gets the whole rows of its capacity share, and
 * the leftover rows go to the tiles filled least so far (relative to capacity).
 */
export function balancedParts(rows: number, caps: readonly number[], load: readonly number[], rowBytes: number): number[] {
  const room = caps.map((c, i) => Math.max(1, c - load[i]));
  const sum = room.reduce((s, c) => s + c, 0);
  const parts = room.map((c) => Math.floor((rows * c) / sum));
  let left = rows - parts.reduce((s, x) => s + x, 0);
  if (left > 0) {
    const fill = caps.map((c, i) => [(load[i] + parts[i] * rowBytes) / c, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let k = 0; left > 0; k = (k + 1) % fill.length, left--) parts[fill[k][1]]++;
  }
  return parts;
}
