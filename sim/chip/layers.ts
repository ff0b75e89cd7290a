import type { Task } from './engine.js';
import { attendedPositions } from './lower.js';
import { apportion, size, type HeadSet, type StreamLayout } from './partition.js';
import { broadcast, gather, gatherUp } from './collectives.js';
import type { StepBuilder, StepSequence } from './step.js';
import type { TileWork } from './work.js';

/**
 * One layer of each kind as a distributed task graph (docs/chip.md, "Dataflow", with a
 * diagram per layer kind). Every linear layer is split by output rows (column-parallel);
 * its input reaches the tiles by an all-gather of the slices where it lives; norms reduce
 * their statistics on the way up the gather and scale where the slices live; attention is
 * split by context over the tiles holding each KV head and its partials are merged up a
 * tree within those tiles.
 */

/** How a stream's slices reach the first tasks of the next layer. */
export interface Wire {
  /** A residual delta (the last linear's output) is still to be added where each slice lives. */
  readonly delta: boolean;
  /** Make the dependencies: `consumers` are aligned with `L.tiles` (null where a tile has no slice). */
  readonly wire: (L: StreamLayout, consumers: readonly (Task | null)[]) => void;
}

export interface StreamState {
  readonly region: number;
  readonly layout: StreamLayout;
  /** The task on each tile (aligned with layout.tiles) after which its slice (plus delta) is ready. */
  readonly last: readonly (Task | null)[];
  readonly delta: boolean;
  /** Rows the stream carries. */
  readonly rows: number;
}

/** One task per tile where `make` gives work (aligned with the layout's tiles). */
function perTile(b: StepBuilder, L: StreamLayout, make: (i: number) => TileWork | null, label: string): (Task | null)[] {
  return L.tiles.map((tile, i) => {
    const w = make(i);
    return w ? b.task(tile, w, label) : null;
  });
}

const present = (ts: readonly (Task | null)[]) => ts.filter((t): t is Task => t !== null);

/** The gather tree over the tiles where `ts` has a task, cached per region, part and purpose. */
function treeOver(b: StepBuilder, region: number, L: StreamLayout, purpose: string, ts: readonly (Task | null)[]) {
  const tiles: number[] = [];
  ts.forEach((t, i) => t && tiles.push(L.tiles[i]));
  return b.place.tree(`r${region}.${L.part}.${purpose}:${tiles.length}`, tiles);
}

/**
 * All-gather of the per-tile parts of a stream: each task in `parts` holds `own(i)` bytes;
 * they are gathered up the tree, then multicast (`total` bytes) to `consumers`. With
 * `stats`, each part also carries one FP32 statistic per row, summed on the way up.
 */
function allGather(b: StepBuilder, region: number, L: StreamLayout, purpose: string, parts: readonly (Task | null)[], own: (i: number) => number, total: number, consumers: readonly (Task | null)[], label: string, statsRows = 0): void {
  const tree = treeOver(b, region, L, purpose, parts);
  const idx: number[] = [];
  parts.forEach((t, i) => t && idx.push(i));
  const relay = (): TileWork | null => (statsRows ? { kind: 'vector', op: 'add', width: 1, tokens: statsRows } : null);
  const root = gather(b, tree, present(parts), (k) => own(idx[k]) + 4 * statsRows, relay, label);
  broadcast(root, present(consumers), total + 4 * statsRows);
}

/** Which part of a head's context stores the token at position p (exact proportional fill). */
function partForPosition(p: number, fractions: readonly number[]): number {
  let cum = 0;
  for (let k = 0; k < fractions.length; k++) {
    cum += fractions[k];
    if (Math.floor((p + 1) * cum + 1e-9) > Math.floor(p * cum + 1e-9)) return k;
  }
  return fractions.length - 1;
}

/** Per member of a head set: (query, key) pairs, distinct cached positions, new entries written. */
function decoderAttentionShares(head: HeadSet, sequences: readonly StepSequence[], window: number) {
  const fr = head.members.map((m) => m.fraction);
  const pairs = fr.map(() => 0);
  const kv = fr.map(() => 0);
  const writes = fr.map(() => 0);
  let read = 0;
  for (const s of sequences) {
    // query i of the step attends attendedPositions(context + i) keys
    let all = 0;
    for (let q = 0; q < s.newTokens; q++) all += attendedPositions(s.contextTokens + q, window);
    const distinct = attendedPositions(s.contextTokens + s.newTokens - 1, window);
    apportion(all, fr).forEach((x, k) => (pairs[k] += x));
    apportion(distinct, fr).forEach((x, k) => (kv[k] += x));
    read += distinct;
    for (let q = 0; q < s.newTokens; q++) writes[partForPosition(s.contextTokens + q, fr)]++;
  }
  return { pairs, kv, writes, read };
}

interface HeadOutput {
  readonly tile: number;
  readonly task: Task;
}

/**
 * Attention over every head set of a layout: each set's q|k|v rows are gathered up its
 * tree; the root multicasts the queries to the set (plus each new K/V to the tile that
 * stores it); every member attends its part of the context; the partials are merged up
 * the same tree (running max and sum rescaled). Returns each head's merged output.
 */
function attention(b: StepBuilder, label: string, region: number, L: StreamLayout, qkv: readonly (Task | null)[], rows: number, share: (head: HeadSet) => { pairs: number[]; kv: number[]; writes: number[]; sendsKv: boolean; works?: Map<number, TileWork> }): HeadOutput[] {
  const { headDim: hd } = L.shape;
  const perKv = L.shape.queryHeads / L.shape.kvHeads;
  const A = b.actBytes;
  const outs: HeadOutput[] = [];
  for (const head of L.heads) {
    const tiles = head.members.map((m) => L.tiles[m.pos]);
    const tree = b.place.tree(`r${region}.${L.part}.h${head.kvHead}`, tiles);
    const root = gather(b, tree, head.members.map((m) => qkv[m.pos]!), (k) => rows * size(head.members[k].qkvRows) * A, () => null, `${label}.qkv:gather`);
    const sh = share(head);
    const att = head.members.map((m, k) => {
      let w = sh.works?.get(k);
      if (!w) {
        w = { kind: 'attention', queryHeads: perKv, kvHeads: 1, headDim: hd, positions: sh.pairs[k], queries: rows, kvPositions: sh.kv[k], kvWrites: sh.writes[k] || undefined };
        sh.works?.set(k, w);
      }
      return b.task(tiles[k], w, `${label}.attention`);
    });
    // queries (and, in the encoder, keys and values) to every member in one multicast;
    // a tile that stores new K/V entries gets them with its queries
    const qBytes = rows * perKv * hd * A * (sh.sendsKv ? 3 : 1);
    broadcast(root, att.filter((_, k) => !sh.writes[k]), qBytes);
    att.forEach((t, k) => sh.writes[k] && root.sendTo([t], qBytes + sh.writes[k] * 2 * hd * A));
    const merged = gatherUp(b, tree, att, () => rows * perKv * (hd + 2) * A, (_, c) => ({ kind: 'attentionCombine', parts: c + 1, queryHeads: perKv, headDim: hd, tokens: rows }), `${label}.attention:merge`);
    outs.push({ tile: tiles[tree.root], task: merged });
  }
  return outs;
}

/** The heads' merged outputs all-gathered (up a tree over the heads' roots) to the o_proj tiles. */
function gatherHeads(b: StepBuilder, label: string, region: number, L: StreamLayout, outs: readonly HeadOutput[], rows: number, consumers: readonly (Task | null)[]): void {
  const perKv = L.shape.queryHeads / L.shape.kvHeads;
  const bytes = rows * perKv * L.shape.headDim * b.actBytes;
  const tree = b.place.tree(`r${region}.${L.part}.heads`, outs.map((o) => o.tile));
  const root = gather(b, tree, outs.map((o) => o.task), () => bytes, () => null, `${label}.attention:gather`);
  broadcast(root, present(consumers), bytes * outs.length);
}

/** q|k|v rows of each tile position, and how many of them are q or k rows (RoPE). */
function qkvLoad(L: StreamLayout): { rows: number[]; rope: number[] } {
  const rows = L.tiles.map(() => 0);
  const rope = L.tiles.map(() => 0);
  const qk = (L.shape.queryHeads / L.shape.kvHeads + 1) * L.shape.headDim;
  for (const h of L.heads) {
    for (const m of h.members) {
      rows[m.pos] += size(m.qkvRows);
      rope[m.pos] += Math.max(0, Math.min(m.qkvRows.end, qk) - m.qkvRows.start);
    }
  }
  return { rows, rope };
}

/**
 * How a layer's input arrives: `normed`, the tasks on each tile after which its slice
 * (the residual added, x·gamma and its sum of squares computed) is ready, when the previous
 * layer ran on the same tiles and folded the norm's local pass into its last linear; or a
 * `wire` from elsewhere (the embedding, another region), for which the layer runs the
 * local pass itself.
 */
export type LayerInput = { readonly normed: readonly (Task | null)[] } | { readonly wire: Wire };

/** One shared work object per distinct shape (the cost model memoises on the object). */
function interned(works: (TileWork | null)[]): (TileWork | null)[] {
  const seen = new Map<string, TileWork>();
  return works.map((w) => {
    if (!w) return null;
    const k = JSON.stringify(w);
    const s = seen.get(k);
    if (s) return s;
    seen.set(k, w);
    return w;
  });
}

/** The per-tile work of a decoder layer on a region, for `rows` rows (the same for every layer there). */
function decoderWorks(b: StepBuilder, region: number, L: StreamLayout, rows: number) {
  return b.place.memo(`decoder:${region}:${rows}`, () => {
    const t = b.sc.card.text;
    const slice = (i: number) => size(L.slices[i]);
    const mlp = (i: number) => size(L.mlpRows[i]);
    const load = qkvLoad(L);
    const each = (make: (i: number) => TileWork | null) => interned(L.tiles.map((_, i) => make(i)));
    const linear = (rowsHere: number, cols: number, extra: Partial<Extract<TileWork, { kind: 'linear' }>> = {}): TileWork => ({ kind: 'linear', rows: rowsHere, cols, tokens: rows, ...extra });
    return {
      /** the norm's local pass when the input came from elsewhere (with or without a delta to add) */
      pre: (residual: boolean) => each((i) => (slice(i) ? { kind: 'vector', op: 'rmsnorm', width: slice(i), tokens: rows, residual } : null)),
      qkv: each((i) => (load.rows[i] ? linear(load.rows[i], t.hiddenSize, { scaleOutputs: true, ropeRows: load.rope[i] || undefined, headDim: t.headDim }) : null)),
      o: each((i) => (slice(i) ? linear(slice(i), t.numHeads * t.headDim, { thenNorm: true }) : null)),
      gu: each((i) => (mlp(i) ? linear(2 * mlp(i), t.hiddenSize, { fusedSiluMul: true, scaleOutputs: true }) : null)),
      down: each((i) => (slice(i) ? linear(slice(i), t.intermediateSize) : null)),
      downNorm: each((i) => (slice(i) ? linear(slice(i), t.intermediateSize, { thenNorm: true }) : null)),
    };
  });
}

/** Tasks for the per-tile works (aligned with the layout's tiles). */
function tasksFor(b: StepBuilder, L: StreamLayout, works: readonly (TileWork | null)[], label: string): (Task | null)[] {
  return L.tiles.map((tile, i) => (works[i] ? b.task(tile, works[i], label) : null));
}

/** The norm's local pass on each slice, after whatever brings the slice (an input from elsewhere). */
function normedInput(b: StepBuilder, L: StreamLayout, input: LayerInput, pre: (residual: boolean) => (TileWork | null)[], label: string): readonly (Task | null)[] {
  if ('normed' in input) return input.normed;
  const tasks = tasksFor(b, L, pre(input.wire.delta), label);
  input.wire.wire(L, tasks);
  return tasks;
}

/**
 * A decoder layer (RMSNorm, GQA attention, SwiGLU MLP) on region `region`:
 *
 *   slice --rmsnorm(x·gamma, sum x^2)--> gather+sum up the tree --> multicast x·gamma, 1/rms
 *     --> q|k|v rows (x 1/rms, RoPE) --> per KV head: gather --> queries out --> attention
 *     --> merge tree --> heads' outputs gathered --> multicast --> o_proj rows = delta slice
 *     --> add + rmsnorm --> gather --> multicast --> gate|up rows (x 1/rms, SiLU-gate)
 *     --> gather --> multicast --> down_proj rows = delta slice [--> add + next rmsnorm]
 *
 * With `foldNext` the next layer (or the final norm) runs on the same tiles, so down_proj
 * adds its delta and runs the next norm's local pass; the result is `normed` input for it.
 */
export function decoderLayer(b: StepBuilder, l: number, region: number, input: LayerInput, sequences: readonly StepSequence[], window: number, foldNext: boolean): { state: StreamState; next?: LayerInput } {
  const L = b.place.layout(region, 'text');
  const t = b.sc.card.text;
  const rows = sequences.reduce((s, q) => s + q.newTokens, 0);
  const A = b.actBytes;
  const h = t.hiddenSize;
  const label = `L${l}`;
  const W = decoderWorks(b, region, L, rows);
  const slice = (i: number) => size(L.slices[i]);
  const pre = normedInput(b, L, input, W.pre, `${label}.input_layernorm`);
  const qkv = tasksFor(b, L, W.qkv, `${label}.qkv`);
  allGather(b, region, L, 'slices', pre, (i) => rows * slice(i) * A, rows * h * A, qkv, `${label}.input_layernorm:gather`, rows);
  const outs = attention(b, label, region, L, qkv, rows, (head) => decoderAttention(b, region, head, sequences, window));
  const o = tasksFor(b, L, W.o, `${label}.o_proj+post_attention_layernorm`);
  gatherHeads(b, label, region, L, outs, rows, o);
  const gu = tasksFor(b, L, W.gu, `${label}.gate_up`);
  allGather(b, region, L, 'slices', o, (i) => rows * slice(i) * A, rows * h * A, gu, `${label}.post_attention_layernorm:gather`, rows);
  const down = tasksFor(b, L, foldNext ? W.downNorm : W.down, foldNext ? `${label}.down_proj+next_norm` : `${label}.down_proj`);
  allGather(b, region, L, 'mlp', gu, (i) => rows * size(L.mlpRows[i]) * A, rows * t.intermediateSize * A, down, `${label}.mlp:gather`);
  return { state: { region, layout: L, last: down, delta: !foldNext, rows }, next: foldNext ? { normed: down } : undefined };
}

/** A step's attention shares of one head (the same for every layer of the region: computed once per step). */
function decoderAttention(b: StepBuilder, region: number, head: HeadSet, sequences: readonly StepSequence[], window: number) {
  const s = b.memo(`att:${region}:${head.kvHead}`, () => {
    const shares = decoderAttentionShares(head, sequences, window);
    return { ...shares, sendsKv: false, works: new Map<number, TileWork>() };
  });
  b.kvPositionsRead += s.read;
  return s;
}

/**
 * The final norm and the LM head on the head region, for the `rows` rows that emit a
 * token: gathered like a layer's norm, every vocabulary slice multiplies the whole row
 * and takes its local argmax, and the (value, index) pairs are reduced up a tree.
 */
export function finalNormAndHead(b: StepBuilder, region: number, input: LayerInput, rows: number): Task {
  const L = b.place.layout(region, 'text');
  const t = b.sc.card.text;
  const A = b.actBytes;
  const pre = normedInput(b, L, input, (residual) => interned(L.tiles.map((_, i) => (size(L.slices[i]) ? { kind: 'vector', op: 'rmsnorm', width: size(L.slices[i]), tokens: rows, residual } : null))), 'final_norm');
  const holders = b.place.holdersOf(t.tieWordEmbeddings ? 'text.embed_tokens' : 'text.lm_head', -1);
  const lm = holders.map((x) => b.task(x.tile, { kind: 'linear', rows: x.rows, cols: t.hiddenSize, tokens: rows, argmax: true }, 'lm_head'));
  allGather(b, region, L, 'slices', pre, (i) => rows * size(L.slices[i]) * A, rows * t.hiddenSize * A, lm, 'final_norm:gather', rows);
  const tree = b.place.tree(`r${region}.vocab`, holders.map((x) => x.tile));
  return gatherUp(b, tree, lm, () => rows * 8, (_, c) => ({ kind: 'argmax', width: c + 1, tokens: rows }), 'argmax');
}

/** LayerNorm in two passes: (sum, sum of squares) reduced up the tree and multicast back, then the scaling where the slices live. */
function layerNorm(b: StepBuilder, region: number, L: StreamLayout, input: Wire, rows: number, label: string): (Task | null)[] {
  const slice = (i: number) => size(L.slices[i]);
  const stats = L.tiles.map((tile, i) => (slice(i) ? b.task(tile, input.delta ? { kind: 'vector', op: 'add', width: slice(i), tokens: rows } : null, `${label}:stats`) : null));
  input.wire(L, stats);
  const scaled = perTile(b, L, (i) => (slice(i) ? { kind: 'vector', op: 'layernorm', width: slice(i), tokens: rows } : null), label);
  const tree = treeOver(b, region, L, 'slices', stats);
  const root = gather(b, tree, present(stats), () => rows * 8, () => ({ kind: 'vector', op: 'add', width: 2, tokens: rows }), `${label}:stats`);
  broadcast(root, present(scaled), rows * 8);
  return scaled;
}

/**
 * A SigLIP encoder layer (LayerNorm, multi-head attention, GELU MLP, biases) over the
 * patches of `crops` crops:
 *
 *   slice --(sum, sum x^2) up the tree, multicast--> LayerNorm on the slice --> gather
 *     --> multicast --> q|k|v rows (+bias) --> per head: gather --> Q, K, V out
 *     --> attention over the crop's keys held here --> merge tree --> heads gathered
 *     --> out_proj rows (+bias) = delta --> LayerNorm --> fc1 rows (+bias, GELU)
 *     --> gather --> multicast --> fc2 rows (+bias) = delta
 */
export function visionLayer(b: StepBuilder, l: number, region: number, input: Wire, rows: number, crops: number): StreamState {
  const L = b.place.layout(region, 'vision');
  const { width: d, mlp: I } = L.shape;
  const A = b.actBytes;
  const label = `V${l}`;
  const slice = (i: number) => size(L.slices[i]);
  const ln1 = layerNorm(b, region, L, input, rows, `${label}.layer_norm1`);
  const load = qkvLoad(L);
  const qkv = perTile(b, L, (i) => (load.rows[i] ? { kind: 'linear', rows: load.rows[i], cols: d, tokens: rows, bias: true } : null), `${label}.qkv`);
  allGather(b, region, L, 'slices', ln1, (i) => rows * slice(i) * A, rows * d * A, qkv, `${label}.layer_norm1:gather`);
  const perCrop = rows / crops;
  const outs = attention(b, label, region, L, qkv, rows, (head) => {
    // bidirectional within each crop: every member holds its share of each crop's keys
    const keys = apportion(perCrop, head.members.map((m) => m.fraction));
    return { pairs: keys.map((k) => crops * perCrop * k), kv: keys.map(() => 0), writes: keys.map(() => 0), sendsKv: true };
  });
  const o = perTile(b, L, (i) => (slice(i) ? { kind: 'linear', rows: slice(i), cols: d, tokens: rows, bias: true } : null), `${label}.out_proj`);
  gatherHeads(b, label, region, L, outs, rows, o);
  const ln2 = layerNorm(b, region, L, { delta: true, wire: (_L, cs) => cs.forEach((c, i) => c && o[i]!.then(c)) }, rows, `${label}.layer_norm2`);
  const mlp = (i: number) => size(L.mlpRows[i]);
  const fc1 = perTile(b, L, (i) => (mlp(i) ? { kind: 'linear', rows: mlp(i), cols: d, tokens: rows, bias: true, gelu: true } : null), `${label}.fc1`);
  allGather(b, region, L, 'slices', ln2, (i) => rows * slice(i) * A, rows * d * A, fc1, `${label}.layer_norm2:gather`);
  const fc2 = perTile(b, L, (i) => (slice(i) ? { kind: 'linear', rows: slice(i), cols: I, tokens: rows, bias: true } : null), `${label}.fc2`);
  allGather(b, region, L, 'mlp', fc1, (i) => rows * mlp(i) * A, rows * I * A, fc2, `${label}.mlp:gather`);
  return { region, layout: L, last: fc2, delta: true, rows };
}

/**
 * The vision stem: the pixels enter at the region's centre tile (the camera interface),
 * which cuts them into patches (im2col) and multicasts them; every tile projects its rows
 * of the patch embedding and adds its columns of the position table.
 */
export function visionStem(b: StepBuilder, region: number, rows: number): StreamState {
  const L = b.place.layout(region, 'vision');
  const v = b.sc.card.vision!;
  const patch = v.numChannels * v.patchSizePx * v.patchSizePx;
  const entry = b.task(b.place.region(region).root, { kind: 'vector', op: 'patchEmbed', width: patch, tokens: rows }, 'V.patch_embedding:im2col');
  const proj = perTile(b, L, (i) => (size(L.slices[i]) ? { kind: 'linear', rows: size(L.slices[i]), cols: patch, tokens: rows, bias: true, positionTable: true } : null), 'V.patch_embedding');
  broadcast(entry, present(proj), rows * patch * b.actBytes);
  return { region, layout: L, last: proj, delta: false, rows };
}

/**
 * The connector: post-LayerNorm on the slices, gathered (pixel shuffle regroups the same
 * bytes: r x r patches become one row) and multicast to the projection's tiles, each of
 * which keeps its columns of the image-token rows for the prefill.
 */
export function connector(b: StepBuilder, region: number, input: Wire, rows: number): { done: Task; holders: { tile: number; cols: { start: number; end: number } }[] } {
  const L = b.place.layout(region, 'vision');
  const card = b.sc.card;
  const r2 = card.connector!.scaleFactor ** 2;
  const d = L.shape.width;
  const ln = layerNorm(b, region, L, input, rows, 'V.post_layernorm');
  const holders = b.place.holdersOf('connector.proj', -1);
  const proj = holders.map((x) => b.task(x.tile, { kind: 'linear', rows: x.rows, cols: d * r2, tokens: rows / r2 }, 'C.proj'));
  allGather(b, region, L, 'slices', ln, (i) => rows * size(L.slices[i]) * b.actBytes, rows * d * b.actBytes, proj, 'C.pixel_shuffle:gather');
  const tree = b.place.tree(`r${region}.connector`, holders.map((x) => x.tile));
  const done = gatherUp(b, tree, proj, () => 4, () => null, 'vision:done');
  return { done, holders: holders.map((x) => ({ tile: x.tile, cols: { start: x.rowStart, end: x.rowStart + x.rows } })) };
}
