import type { ModelCard } from '../model/card.js';
import type { Design } from '../design/design.js';
import { bytesPerElement } from '../units/precision.js';
import { kvBytesPerTokenPerLayer, kvScaleBytesPerTokenPerLayer } from '../model/derive.js';
import { lowerDecodeStep, lowerVisionTiles, attendedPositions, type Op, type LinearOp, type AttentionOp } from './lower.js';
import { apportion } from './mapping.js';
import { Placement } from './placement.js';
import { Task } from './engine.js';
import type { TileWork } from './work.js';

/**
 * Builds the task graph of one step on the mesh from the lowered operators
 * (docs/chip.md, "Dataflow"). Within a region the activation row lives at the region's
 * root tile. A linear operator multicasts its input from the root to the tiles holding
 * its weight rows, each computes its row slice, and the slices are gathered back at the
 * root; consecutive linear operators on the same input (q/k/v, gate/up) share one
 * multicast, and gate/up fuse the SiLU-gate multiply on the holders. Attention sends each
 * KV-holding tile its query heads (and the new K/V it stores), the holders compute
 * split-context partial attention and the root combines the partials. The LM head's
 * holders take a local argmax of their vocabulary slice; the root picks the winner.
 * Moving to the next region sends the activation row from root to root.
 */

export interface StepSequence {
  /** Tokens already in this sequence's KV cache. */
  readonly contextTokens: number;
  /** Tokens this step appends (1 for decode, the chunk for prefill). */
  readonly newTokens: number;
  /** Of the new tokens, how many are text (read from the embedding table); the rest are image tokens. */
  readonly textTokens: number;
  /** Whether the step ends with a generated token for this sequence. */
  readonly emitsToken: boolean;
  /** Token ids (any value in the vocabulary) used to pick embedding rows. */
  readonly tokenIds: readonly number[];
}

export interface BuiltStep {
  readonly tasks: Task[];
  /** The task whose completion means the step is done (its token, if any, is known). */
  readonly done: Task;
  /** Exact KV and ROM traffic this step implies, for cross-checks. */
  readonly kvPositionsRead: number;
}

interface Ctx {
  readonly card: ModelCard;
  readonly design: Design;
  readonly place: Placement;
  readonly actBytes: number;
  readonly kvEntryBytes: number;
  readonly stepId: number;
  readonly tasks: Task[];
}

function unitOf(card: ModelCard, op: Op): string {
  if (op.part === 'vision') return op.layer >= 0 ? `vision.layer${op.layer}` : op.kind === 'layernorm' ? 'connector' : 'vision.stem';
  if (op.part === 'connector') return 'connector';
  if (op.layer >= 0) return `layer${op.layer}`;
  if (op.kind === 'embedding') return card.text.tieWordEmbeddings ? 'head' : 'embedding';
  return 'head';
}

function task(ctx: Ctx, tile: number, work: Task['work'], label: string): Task {
  const t = new Task(tile, work, label, ctx.stepId);
  t.index = ctx.tasks.length;
  ctx.tasks.push(t);
  return t;
}

/** Layer index of a weight tensor's slices (per-layer tensors carry their layer). */
function tensorLayer(op: LinearOp): number {
  return op.weight.startsWith('text.layers.') || op.weight.startsWith('vision.layers.') ? op.layer : -1;
}

/**
 * Walk the operators, keeping `x` = the root task that produced the current activation.
 * Returns the last task.
 */
function emitOps(ctx: Ctx, ops: readonly Op[], x: Task, width0: number, opts: { sequences?: readonly StepSequence[]; kvWindowTokens: number }): { last: Task; kvPositionsRead: number } {
  const { card, place, actBytes } = ctx;
  let region = place.regionOfUnit(unitOf(card, ops[0]));
  let width = width0;
  let kvRead = 0;
  let i = 0;
  const moveTo = (r: number, rows: number) => {
    if (r === region) return;
    const join = task(ctx, place.regionRoot[r], null, `to-region${r}`);
    x.sendTo([join], rows * width * actBytes);
    x = join;
    region = r;
  };
  while (i < ops.length) {
    const op = ops[i];
    if (op.kind === 'embedding') {
      i++;
      continue; // handled by the caller (it produced x)
    }
    moveTo(place.regionOfUnit(unitOf(card, op)), op.tokens);
    const root = place.regionRoot[region];
    if (op.kind === 'linear') {
      // group consecutive linear ops on the same input
      const group: LinearOp[] = [op];
      while (i + group.length < ops.length) {
        const n = ops[i + group.length];
        if (n.kind === 'linear' && n.layer === op.layer && n.inFeatures === op.inFeatures && n.part === op.part && n.tokens === op.tokens) group.push(n);
        else break;
      }
      const next = ops[i + group.length];
      const fuseSilu = next?.kind === 'siluMul';
      const fuseArgmax = next?.kind === 'argmax';
      const rowsByTile = new Map<number, number>();
      const outByTile = new Map<number, number>();
      group.forEach((g, gi) => {
        for (const h of place.holdersOf(g.weight, tensorLayer(g))) {
          rowsByTile.set(h.tile, (rowsByTile.get(h.tile) ?? 0) + h.rows);
          // fused gate/up: the output is the gate-sized slice
          if (!fuseSilu || gi === 0) outByTile.set(h.tile, (outByTile.get(h.tile) ?? 0) + h.rows);
        }
      });
      const label = group.map((g) => g.name).join('+');
      const join = task(ctx, root, fuseArgmax ? { kind: 'argmax', width: rowsByTile.size, tokens: op.tokens } : null, fuseArgmax ? 'argmax' : `${label}:gather`);
      const holders: Task[] = [];
      // holders with equal row counts share one work object (the cost model memoises on it)
      const works = new Map<number, { linear: TileWork; argmax: TileWork }>();
      for (const [tile, rows] of rowsByTile) {
        let w = works.get(rows);
        if (!w) works.set(rows, (w = { linear: { kind: 'linear', rows, cols: op.inFeatures, tokens: op.tokens, fusedSiluMul: fuseSilu }, argmax: { kind: 'argmax', width: rows, tokens: op.tokens } }));
        const t = task(ctx, tile, w.linear, label);
        holders.push(t);
        if (fuseArgmax) {
          const am = task(ctx, tile, w.argmax, 'argmax:local');
          t.then(am);
          am.sendTo([join], op.tokens * 8); // (value, index) per row
        } else {
          t.sendTo([join], op.tokens * (outByTile.get(tile) ?? 0) * actBytes);
        }
      }
      x.sendTo(holders, op.tokens * op.inFeatures * actBytes);
      x = join;
      width = fuseSilu ? group[0].outFeatures : group.reduce((s, g) => s + g.outFeatures, 0);
      i += group.length + (fuseSilu || fuseArgmax ? 1 : 0);
      continue;
    }
    if (op.kind === 'attention') {
      const r = op.part === 'vision' ? visionAttention(ctx, op, x, region) : decoderAttention(ctx, op, x, opts.sequences ?? [], opts.kvWindowTokens);
      kvRead += r.kvPositionsRead;
      x = r.join;
      width = op.queryHeads * op.headDim;
      i++;
      continue;
    }
    if (op.kind === 'kvWrite') {
      i++;
      continue; // folded into attention: the holders store the new K/V
    }
    // element-wise and row-wise vector work at the root
    const work: TileWork =
      op.kind === 'argmax'
        ? { kind: 'argmax', width: op.width, tokens: op.tokens }
        : { kind: 'vector', op: op.kind as Extract<TileWork, { kind: 'vector' }>['op'], width: op.width, tokens: op.tokens, ...(op.kind === 'rope' ? { headDim: card.text.headDim } : {}) };
    const t = task(ctx, root, work, op.name);
    x.then(t);
    x = t;
    if (op.kind === 'pixelShuffle') width = op.width;
    i++;
  }
  return { last: x, kvPositionsRead: kvRead };
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

function decoderAttention(ctx: Ctx, op: AttentionOp, x: Task, sequences: readonly StepSequence[], window: number): { join: Task; kvPositionsRead: number } {
  const { card, place, actBytes } = ctx;
  const t = card.text;
  const group = t.numHeads / t.numKvHeads;
  const hd = t.headDim;
  const heads = place.kvParts[op.layer];
  // per holder tile: pairs (query x key positions), distinct KV positions, KV writes, heads held, parts
  const acc = new Map<number, { pairs: number; kv: number; writes: number; heads: Set<number>; parts: number }>();
  const get = (tile: number) => {
    let a = acc.get(tile);
    if (!a) acc.set(tile, (a = { pairs: 0, kv: 0, writes: 0, heads: new Set(), parts: 0 }));
    return a;
  };
  let kvRead = 0;
  heads.forEach((parts, h) => {
    const fr = parts.map((p) => p.fraction);
    parts.forEach((p) => {
      const a = get(p.tile);
      a.heads.add(h);
      a.parts++;
    });
    for (const s of sequences) {
      // query i of the step attends attendedPositions(context + i) keys
      let pairs = 0;
      for (let q = 0; q < s.newTokens; q++) pairs += attendedPositions(s.contextTokens + q, window);
      const distinct = attendedPositions(s.contextTokens + s.newTokens - 1, window);
      const pairShare = apportion(pairs, fr);
      const kvShare = apportion(distinct, fr);
      parts.forEach((p, k) => {
        const a = get(p.tile);
        a.pairs += pairShare[k];
        a.kv += kvShare[k];
      });
      kvRead += distinct;
      for (let q = 0; q < s.newTokens; q++) get(parts[partForPosition(s.contextTokens + q, fr)].tile).writes++;
    }
  });
  const rows = sequences.reduce((s, q) => s + q.newTokens, 0);
  const root = place.regionRoot[place.regionOfUnit(`layer${op.layer}`)];
  const join = task(ctx, root, { kind: 'attentionCombine', parts: Math.max(...heads.map((p) => p.length)), queryHeads: t.numHeads, headDim: hd, tokens: rows }, `${op.name}:combine`);
  const targets: Task[] = [];
  const bytesIn: number[] = [];
  for (const [tile, a] of acc) {
    const qHeads = group * a.heads.size;
    let first: Task | null = null;
    let last: Task | null = null;
    // each write stores one K and one V vector of one KV head
    if (a.writes > 0) first = last = task(ctx, tile, { kind: 'kvWrite', width: 2 * hd, tokens: a.writes }, `${op.name}:kv_write`);
    const att = task(ctx, tile, { kind: 'attention', queryHeads: group, kvHeads: a.parts, headDim: hd, positions: a.pairs, queries: rows, kvPositions: a.kv }, op.name);
    if (last) last.then(att);
    else first = att;
    att.sendTo([join], rows * qHeads * (hd + 2) * actBytes);
    targets.push(first!);
    bytesIn.push(rows * qHeads * hd * actBytes + a.writes * 2 * hd * ctx.kvEntryBytes);
  }
  // one message per holder (their payloads differ): queries and the K/V they store
  targets.forEach((tt, k) => x.sendTo([tt], bytesIn[k]));
  // KV positions are read once per KV head; kvRead counted per head above
  return { join, kvPositionsRead: kvRead };
}

function visionAttention(ctx: Ctx, op: AttentionOp, x: Task, region: number): { join: Task; kvPositionsRead: number } {
  const { place, actBytes } = ctx;
  const tiles = ctx.place.mapping.regions[region].tiles;
  const root = place.regionRoot[region];
  const N = op.queries[0];
  const imageTiles = op.queries.length;
  const heldBy = new Map<number, number>();
  for (let h = 0; h < op.queryHeads; h++) heldBy.set(tiles[h % tiles.length], (heldBy.get(tiles[h % tiles.length]) ?? 0) + 1);
  const join = task(ctx, root, null, `${op.name}:gather`);
  for (const [tile, heads] of heldBy) {
    const t = task(ctx, tile, { kind: 'attention', queryHeads: heads, kvHeads: heads, headDim: op.headDim, positions: imageTiles * N * N, queries: imageTiles * N, kvPositions: 0 }, op.name);
    t.sendTo([join], imageTiles * N * heads * op.headDim * actBytes);
    x.sendTo([t], imageTiles * N * heads * 3 * op.headDim * actBytes);
  }
  return { join, kvPositionsRead: 0 };
}

export interface StepContext {
  readonly card: ModelCard;
  readonly design: Design;
  readonly place: Placement;
}

/**
 * A text step (decode rows and/or a prefill chunk) for `sequences`. `imageInput`, when
 * given, names the tile (the connector's root) holding `rows` image-token rows this step
 * consumes; they join the embedding rows before layer 0.
 */
export function buildTextStep(sc: StepContext, stepId: number, sequences: readonly StepSequence[], kvWindowTokens: number, imageInput?: { tile: number; rows: number }): BuiltStep {
  const { card, design, place } = sc;
  const ctx: Ctx = {
    card,
    design,
    place,
    actBytes: bytesPerElement(design.precision.activations),
    kvEntryBytes: (kvBytesPerTokenPerLayer(card, design.precision.kvCache) + kvScaleBytesPerTokenPerLayer(card, design.precision.kvCache)) / (2 * card.text.numKvHeads * card.text.headDim),
    stepId,
    tasks: [],
  };
  const rows = sequences.reduce((s, q) => s + q.newTokens, 0);
  const emitting = sequences.filter((s) => s.emitsToken).length;
  // lowered ops for the rows this step processes; the head only for emitting sequences
  const ops = lowerDecodeStep(card, { contextTokens: Array(rows).fill(0), kvWindowTokens }).filter((o) => !(o.layer < 0 && o.kind !== 'embedding'));
  const headOps = emitting > 0 ? lowerDecodeStep(card, { contextTokens: Array(emitting).fill(0) }).filter((o) => o.layer < 0 && o.kind !== 'embedding') : [];
  const h = card.text.hiddenSize;
  // embedding rows: each from the tile holding that row
  const embedTensor = 'text.embed_tokens';
  const firstRegion = place.regionOfUnit('layer0');
  const entry = task(ctx, place.regionRoot[firstRegion], null, 'embed:join');
  const byTile = new Map<number, number>();
  for (const s of sequences) for (let k = 0; k < s.textTokens; k++) {
    const tile = place.rowHolder(embedTensor, s.tokenIds[k % s.tokenIds.length] % card.text.vocabSize);
    byTile.set(tile, (byTile.get(tile) ?? 0) + 1);
  }
  for (const [tile, n] of byTile) {
    const read = task(ctx, tile, { kind: 'embeddingRead', width: h, rows: n }, 'embed');
    read.sendTo([entry], n * h * ctx.actBytes);
  }
  if (imageInput && imageInput.rows > 0) task(ctx, imageInput.tile, null, 'image:rows').sendTo([entry], imageInput.rows * h * ctx.actBytes);
  const layers = emitOps(ctx, ops, entry, h, { sequences, kvWindowTokens });
  let last = layers.last;
  if (headOps.length) {
    const head = emitOps(ctx, headOps, (() => {
      // move the emitting rows to the head region
      const r = place.regionOfUnit('head');
      const join = task(ctx, place.regionRoot[r], null, 'to-head');
      layers.last.sendTo([join], emitting * h * ctx.actBytes);
      return join;
    })(), h, { kvWindowTokens });
    last = head.last;
  }
  return { tasks: ctx.tasks, done: last, kvPositionsRead: layers.kvPositionsRead };
}

/** The vision encoder and connector for `imageTiles` encoder tiles of one request. */
export function buildVisionStep(sc: StepContext, stepId: number, imageTiles: number): BuiltStep {
  const { card, design, place } = sc;
  const ctx: Ctx = { card, design, place, actBytes: bytesPerElement(design.precision.activations), kvEntryBytes: 0, stepId, tasks: [] };
  const ops = lowerVisionTiles(card, imageTiles);
  const v = card.vision!;
  const stem = place.regionRoot[place.regionOfUnit('vision.stem')];
  // the image pixels arrive at the stem's root (from the camera interface)
  const entry = task(ctx, stem, null, 'image:in');
  const { last } = emitOps(ctx, ops, entry, v.numChannels * v.patchSizePx * v.patchSizePx, { kvWindowTokens: 0 });
  return { tasks: ctx.tasks, done: last, kvPositionsRead: 0 };
}
