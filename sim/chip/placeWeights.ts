import { tensorScaleCount, type WeightTensor } from '../model/derive.js';
import { SCALE_BYTES, storageBytes, type Precision } from '../units/precision.js';
import { apportion, qkvTensorRows, size, type Range, type StreamLayout } from './partition.js';
import type { PlacementUnit, WeightSlice } from './mapping.js';

/**
 * Weight placement inside one region (docs/chip.md, "Mapping" step 3): every tensor of the
 * region's units is cut as the region's stream layouts say (residual slices, head sets,
 * MLP rows); tables whose rows are read one at a time (the embedding, the LM head's
 * vocabulary rows, the connector's projection) are split by whole rows over the room left.
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
  return { bytes: w.quantized ? storageBytes(elems, p) : storageBytes(elems, 'fp16'), scaleBytes: tensorScaleCount({ name: w.name, part: w.part, role: w.role, quantized: w.quantized, rows, cols, count: 1 }, p) * SCALE_BYTES };
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
  type Placed = { readonly pos: number; readonly rowStart: number; readonly rowEnd: number; readonly colStart: number; readonly cols: number; readonly bytes: number; readonly scaleBytes: number };
  const placed = (w: WeightTensor, c: Cut): Placed => {
    const b = sliceBytes(w, size(c.rows), size(c.cols), p);
    return { pos: c.pos, rowStart: c.rows.start, rowEnd: c.rows.end, colStart: c.cols.start, cols: size(c.cols), bytes: b.bytes, scaleBytes: b.scaleBytes };
  };
  const put = (w: WeightTensor, layer: number, layers: number, c: Placed) => {
    slices[tiles[c.pos]].push({ tensor: w.name, layer, layers, rowStart: c.rowStart, rowEnd: c.rowEnd, colStart: c.colStart, cols: c.cols, bytes: c.bytes, scaleBytes: c.scaleBytes });
    load[c.pos] += (c.bytes + c.scaleBytes) * layers;
  };
  const deferred: [WeightTensor, number][] = [];
  // the region's units of one kind are consecutive layers of a stack, all cut the same
  // way: one slice per tile covers them all
  const runs: { first: PlacementUnit; count: number }[] = [];
  for (const u of units) {
    const last = runs[runs.length - 1];
    if (last && u.layer >= 0 && last.first.layer >= 0 && last.first.kind === u.kind && last.first.layer + last.count === u.layer) last.count++;
    else runs.push({ first: u, count: 1 });
  }
  for (const { first: unit, count } of runs) {
    for (const w of unit.tensors) {
      const cuts = layoutCuts(w, layouts.text, layouts.vision);
      if (!cuts) {
        for (let l = 0; l < count; l++) deferred.push([w, unit.layer < 0 ? -1 : unit.layer + l]);
        continue;
      }
      for (const c of cuts) if (size(c.rows) > 0 && size(c.cols) > 0) put(w, unit.layer, count, placed(w, c));
    }
  }
  // row tables: whole rows in proportion to the room each tile has left, so they even out
  // the layers' rounding (tiles with equal room get equal slices, which cost the same)
  for (const [w, layer] of deferred) {
    const parts = apportion(w.rows, caps.map((c, i) => Math.max(1, c - load[i])));
    let r0 = 0;
    parts.forEach((n, pos) => {
      if (n > 0) put(w, layer, 1, placed(w, { pos, rows: { start: r0, end: r0 + n }, cols: ALL(w.cols) }));
      r0 += n;
    });
  }
}

