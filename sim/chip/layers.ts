import type { Task } from './engine.js';
import { attendedPositions } from './lower.js';
import { apportion, size, type HeadSet, type StreamLayout } from './partition.js';
import { broadcast, gather, gatherUp, ringAllGather, subtreeBytes } from './collectives.js';
import type { StepBuilder, StepSequence } from './step.js';
import { workKey, type TileWork } from './work.js';

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

/** The tile positions of a layout that take part in a collective of `purpose` (those with a slice, or MLP rows). */
function members(b: StepBuilder, region: number, L: StreamLayout, purpose: 'slices' | 'mlp') {
  return b.place.memo(`members:${region}.${L.part}.${purpose}`, () => {
    const ranges = purpose === 'slices' ? L.slices : L.mlpRows;
    const idx: number[] = [];
    ranges.forEach((r, i) => size(r) > 0 && idx.push(i));
    return { idx, tree: b.place.tree(`r${region}.${L.part}.${purpose}`, idx.map((i) => L.tiles[i])) };
  });
}

/**
 * All-gather of a stream's per-tile parts: the tiles in `purpose` hold `rows` rows of
 * their range each (tasks `parts`, aligned with the layout's tiles); the parts are
 * gathered up the tree, then multicast (`total` bytes) to `consumers`. With `stats`, each
 * part also carries one FP32 statistic per row, summed on the way up.
 */
function allGather(b: StepBuilder, region: number, L: StreamLayout, purpose: 'slices' | 'mlp', parts: readonly (Task | null)[], rows: number, total: number, consumers: readonly (Task | null)[], label: string, stats = false): void {
  const m = members(b, region, L, purpose);
  const plan = b.place.memo(`gather:${region}.${L.part}.${purpose}:${rows}:${stats}`, () => {
    const ranges = purpose === 'slices' ? L.slices : L.mlpRows;
    const extra = stats ? 4 * rows : 0;
    return {
      up: subtreeBytes(m.tree, (k) => rows * size(ranges[m.idx[k]]) * b.actBytes + extra),
      relay: stats ? ({ kind: 'vector', op: 'add', width: 1, tokens: rows } as TileWork) : null,
    };
  });
  const extra = stats ? 4 * rows : 0;
  if (b.sc.design.mapping.allGather === 'ring') {
    const ranges = purpose === 'slices' ? L.slices : L.mlpRows;
    const ring = m.idx.map((i) => ({ tile: L.tiles[i], ready: parts[i]!, bytes: rows * size(ranges[i]) * b.actBytes + extra }));
    ringAllGather(b, ring, b.place.cols, present(consumers), label);
    return;
  }
  const ready = m.idx.map((i) => parts[i]!);
  const root = gatherUp(b, m.tree, ready, (k) => plan.up[k], () => plan.relay, label);
  broadcast(root, present(consumers), total + extra);
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

/** Per head set of a layout: its tiles, tree and the bytes its gathers send up, for `rows` rows (built once per run). */
function headPlans(b: StepBuilder, region: number, L: StreamLayout, rows: number) {
  return b.place.memo(`heads:${region}.${L.part}:${rows}`, () => {
    const { headDim: hd } = L.shape;
    const perKv = L.shape.queryHeads / L.shape.kvHeads;
    const A = b.actBytes;
    const combine: TileWork[] = [];
    const combineWork = (c: number) => (combine[c] ??= { kind: 'attentionCombine', parts: c + 1, queryHeads: perKv, headDim: hd, tokens: rows });
    return L.heads.map((head) => {
      const tiles = head.members.map((m) => L.tiles[m.pos]);
      const tree = b.place.tree(`r${region}.${L.part}.h${head.kvHead}`, tiles);
      return { head, tiles, pos: head.members.map((m) => m.pos), tree, qkvUp: subtreeBytes(tree, (k) => rows * size(head.members[k].qkvRows) * A), mergeBytes: rows * perKv * (hd + 2) * A, combineWork };
    });
  });
}

/** A head's attention work per member for this step (shared by the region's layers). */
interface HeadShare {
  readonly works: readonly (TileWork | null)[];
  /** new K/V entries each member stores */
  readonly writes: readonly number[];
  /** queries (and, in the encoder, keys and values) bytes every member receives */
  readonly qBytes: number;
}

/**
 * Attention over every head set of a layout: each set's q|k|v rows are gathered up its
 * tree; the root multicasts the queries to the set (plus each new K/V to the tile that
 * stores it); every member attends its part of the context; the partials are merged up
 * the same tree (running max and sum rescaled). Returns each head's merged output.
 */
function attention(b: StepBuilder, label: string, region: number, L: StreamLayout, qkv: readonly (Task | null)[], rows: number, share: (head: HeadSet) => HeadShare): HeadOutput[] {
  const hd = L.shape.headDim;
  const A = b.actBytes;
  const outs: HeadOutput[] = [];
  // the labels made once, not once per task (every task keeps its label for the whole run)
  const none = `${label}.qkv:none`;
  const gatherLabel = `${label}.qkv:gather`;
  const attLabel = `${label}.attention`;
  const mergeLabel = `${label}.attention:merge`;
  for (const plan of headPlans(b, region, L, rows)) {
    const n = plan.tiles.length;
    const ready: Task[] = new Array(n);
    // a member with no q|k|v rows (more tiles than row pairs) only relays the gather
    for (let k = 0; k < n; k++) ready[k] = qkv[plan.pos[k]] ?? b.task(plan.tiles[k], null, none);
    const root = gatherUp(b, plan.tree, ready, (k) => plan.qkvUp[k], () => null, gatherLabel);
    const sh = share(plan.head);
    const att: Task[] = new Array(n);
    const plain: Task[] = [];
    for (let k = 0; k < n; k++) {
      att[k] = b.task(plan.tiles[k], sh.works[k], attLabel);
      // a tile that stores new K/V entries gets them with its queries
      if (sh.writes[k]) root.sendTo([att[k]], sh.qBytes + sh.writes[k] * 2 * hd * A);
      else plain.push(att[k]);
    }
    broadcast(root, plain, sh.qBytes);
    const merged = gatherUp(b, plan.tree, att, () => plan.mergeBytes, plan.combineWork, mergeLabel);
    outs.push({ tile: plan.tiles[plan.tree.root], task: merged });
  }
  return outs;
}

/** Attention work of each member of a head set from its shares (none for a member that holds no position yet). */
function shareWorks(L: StreamLayout, rows: number, pairs: readonly number[], kv: readonly number[], writes: readonly number[]): (TileWork | null)[] {
  const perKv = L.shape.queryHeads / L.shape.kvHeads;
  return pairs.map((p, k) => (p === 0 && !writes[k] ? null : { kind: 'attention', queryHeads: perKv, kvHeads: 1, headDim: L.shape.headDim, positions: p, queries: rows, kvPositions: kv[k], kvWrites: writes[k] || undefined }));
}

/** The heads' merged outputs all-gathered (up a tree over the heads' roots) to the o_proj tiles. */
function gatherHeads(b: StepBuilder, label: string, region: number, L: StreamLayout, outs: readonly HeadOutput[], rows: number, consumers: readonly (Task | null)[]): void {
  const perKv = L.shape.queryHeads / L.shape.kvHeads;
  const bytes = rows * perKv * L.shape.headDim * b.actBytes;
  if (b.sc.design.mapping.allGather === 'ring') {
    ringAllGather(b, outs.map((o) => ({ tile: o.tile, ready: o.task, bytes })), b.place.cols, present(consumers), `${label}.attention:gather`);
    return;
  }
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

/** One shared work object per distinct shape (the cost model memoises on the object); an object repeated in `works` is keyed once. */
function interned(works: (TileWork | null)[]): (TileWork | null)[] {
  const seen = new Map<string, TileWork>();
  const resolved = new Map<TileWork, TileWork>();
  return works.map((w) => {
    if (!w) return null;
    const r = resolved.get(w);
    if (r) return r;
    const k = workKey(w);
    const s = seen.get(k) ?? w;
    if (s === w) seen.set(k, w);
    resolved.set(w, s);
    return s;
  });
}

/**
 * `make(i)` for every tile position, made once per distinct `input(i)` (what the work
 * depends on: a slice's size, say), then interned: a region's ~200 tiles have a handful
 * of distinct slices, so this makes a handful of objects and keys rather than one per tile.
 */
function perInput(n: number, input: (i: number) => number, make: (i: number) => TileWork | null): (TileWork | null)[] {
  const made = new Map<number, TileWork | null>();
  const works: (TileWork | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const k = input(i);
    let w = made.get(k);
    if (w === undefined) made.set(k, (w = make(i)));
    works[i] = w;
  }
  return interned(works);
}

/** The per-tile work of a decoder layer on a region, for `rows` rows (the same for every layer there). */
function decoderWorks(b: StepBuilder, region: number, L: StreamLayout, rows: number) {
  return b.place.memo(`decoder:${region}:${rows}`, () => {
    const t = b.sc.card.text;
    const slice = (i: number) => size(L.slices[i]);
    const mlp = (i: number) => size(L.mlpRows[i]);
    const load = qkvLoad(L);
    const n = L.tiles.length;
    // q|k|v rows and RoPE rows as one number (rope <= rows, both far below 2^20)
    const qkvInput = (i: number) => load.rows[i] * 2 ** 20 + load.rope[i];
    const linear = (rowsHere: number, cols: number, extra: Partial<Extract<TileWork, { kind: 'linear' }>> = {}): TileWork => ({ kind: 'linear', rows: rowsHere, cols, tokens: rows, ...extra });
    return {
      /** the norm's local pass when the input came from elsewhere (with or without a delta to add) */
      pre: (residual: boolean) => perInput(n, slice, (i) => (slice(i) ? { kind: 'vector', op: 'rmsnorm', width: slice(i), tokens: rows, residual } : null)),
      qkv: perInput(n, qkvInput, (i) => (load.rows[i] ? linear(load.rows[i], t.hiddenSize, { scaleOutputs: true, ropeRows: load.rope[i] || undefined, headDim: t.headDim }) : null)),
      o: perInput(n, slice, (i) => (slice(i) ? linear(slice(i), t.numHeads * t.headDim, { thenNorm: true }) : null)),
      gu: perInput(n, mlp, (i) => (mlp(i) ? linear(2 * mlp(i), t.hiddenSize, { fusedSiluMul: true, scaleOutputs: true }) : null)),
      down: perInput(n, slice, (i) => (slice(i) ? linear(slice(i), t.intermediateSize) : null)),
      downNorm: perInput(n, slice, (i) => (slice(i) ? linear(slice(i), t.intermediateSize, { thenNorm: true }) : null)),
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
  allGather(b, region, L, 'slices', pre, rows, rows * h * A, qkv, `${label}.input_layernorm:gather`, true);
  const outs = attention(b, label, region, L, qkv, rows, (head) => decoderAttention(b, region, L, head, rows, sequences, window));
  const o = tasksFor(b, L, W.o, `${label}.o_proj+post_attention_layernorm`);
  gatherHeads(b, label, region, L, outs, rows, o);
  const gu = tasksFor(b, L, W.gu, `${label}.gate_up`);
  allGather(b, region, L, 'slices', o, rows, rows * h * A, gu, `${label}.post_attention_layernorm:gather`, true);
  const down = tasksFor(b, L, foldNext ? W.downNorm : W.down, foldNext ? `${label}.down_proj+next_norm` : `${label}.down_proj`);
  allGather(b, region, L, 'mlp', gu, rows, rows * t.intermediateSize * A, down, `${label}.mlp:gather`);
  return { state: { region, layout: L, last: down, delta: !foldNext, rows }, next: foldNext ? { normed: down } : undefined };
}

/** A step's attention shares of one head (the same for every layer of the region: computed once per step). */
function decoderAttention(b: StepBuilder, region: number, L: StreamLayout, head: HeadSet, rows: number, sequences: readonly StepSequence[], window: number): HeadShare {
  const s = b.memo(`att:${region}:${head.kvHead}`, () => {
    const sh = decoderAttentionShares(head, sequences, window);
    return { works: shareWorks(L, rows, sh.pairs, sh.kv, sh.writes), writes: sh.writes, qBytes: rows * (L.shape.queryHeads / L.shape.kvHeads) * L.shape.headDim * b.actBytes, read: sh.read };
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
  allGather(b, region, L, 'slices', pre, rows, rows * t.hiddenSize * A, lm, 'final_norm:gather', true);
  const tree = b.place.tree(`r${region}.vocab`, holders.map((x) => x.tile));
  return gatherUp(b, tree, lm, () => rows * 8, (c) => ({ kind: 'argmax', width: c + 1, tokens: rows }), 'argmax');
}

/** LayerNorm in two passes: (sum, sum of squares) reduced up the tree and multicast back, then the scaling where the slices live. */
function layerNorm(b: StepBuilder, region: number, L: StreamLayout, input: Wire, rows: number, label: string): (Task | null)[] {
  const slice = (i: number) => size(L.slices[i]);
  const stats = L.tiles.map((tile, i) => (slice(i) ? b.task(tile, input.delta ? { kind: 'vector', op: 'add', width: slice(i), tokens: rows } : null, `${label}:stats`) : null));
  input.wire(L, stats);
  const scaled = perTile(b, L, (i) => (slice(i) ? { kind: 'vector', op: 'layernorm', width: slice(i), tokens: rows } : null), label);
  const m = members(b, region, L, 'slices');
  const root = gatherUp(b, m.tree, m.idx.map((i) => stats[i]!), () => rows * 8, () => ({ kind: 'vector', op: 'add', width: 2, tokens: rows }), `${label}:stats`);
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
  allGather(b, region, L, 'slices', ln1, rows, rows * d * A, qkv, `${label}.layer_norm1:gather`);
  const perCrop = rows / crops;
  const outs = attention(b, label, region, L, qkv, rows, (head) =>
    b.memo(`vatt:${region}:${head.kvHead}`, () => {
      // bidirectional within each crop: every member holds its share of each crop's keys
      const keys = apportion(perCrop, head.members.map((m) => m.fraction));
      const none = keys.map(() => 0);
      return { works: shareWorks(L, rows, keys.map((k) => crops * perCrop * k), none, none), writes: none, qBytes: 3 * rows * L.shape.headDim * A };
    }),
  );
  const o = perTile(b, L, (i) => (slice(i) ? { kind: 'linear', rows: slice(i), cols: d, tokens: rows, bias: true } : null), `${label}.out_proj`);
  gatherHeads(b, label, region, L, outs, rows, o);
  const ln2 = layerNorm(b, region, L, { delta: true, wire: (_L, cs) => cs.forEach((c, i) => c && o[i]!.then(c)) }, rows, `${label}.layer_norm2`);
  const mlp = (i: number) => size(L.mlpRows[i]);
  const fc1 = perTile(b, L, (i) => (mlp(i) ? { kind: 'linear', rows: mlp(i), cols: d, tokens: rows, bias: true, gelu: true } : null), `${label}.fc1`);
  allGather(b, region, L, 'slices', ln2, rows, rows * d * A, fc1, `${label}.layer_norm2:gather`);
  const fc2 = perTile(b, L, (i) => (slice(i) ? { kind: 'linear', rows: slice(i), cols: I, tokens: rows, bias: true } : null), `${label}.fc2`);
  allGather(b, region, L, 'mlp', fc1, rows, rows * I * A, fc2, `${label}.mlp:gather`);
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
  allGather(b, region, L, 'slices', ln, rows, rows * d * b.actBytes, proj, 'C.pixel_shuffle:gather');
  const tree = b.place.tree(`r${region}.connector`, holders.map((x) => x.tile));
  const done = gatherUp(b, tree, proj, () => 4, () => null, 'vision:done');
  return { done, holders: holders.map((x) => ({ tile: x.tile, cols: { start: x.rowStart, end: x.rowStart + x.rows } })) };
}
