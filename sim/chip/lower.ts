import type { ModelCard } from '../model/card.js';
import { layerMatrixShapes, patchesPerTile } from '../model/derive.js';

/**
 * Lowering: a model card becomes operator lists for one decode step, one prefill chunk
 * and one vision-encoder tile (docs/chip.md). Shapes only: precisions and placement are
 * the mapper's business. Linear operators name the weight tensor they read (the names of
 * `weightTensors` in sim/model/derive.ts) so the mapper can find its slices.
 */

export type OpKind =
  | 'embedding'
  | 'rmsnorm'
  | 'linear'
  | 'rope'
  | 'kvWrite'
  | 'attention'
  | 'add'
  | 'siluMul'
  | 'argmax'
  | 'patchEmbed'
  | 'layernorm'
  | 'gelu'
  | 'pixelShuffle';

export interface OpBase {
  readonly kind: OpKind;
  /** Unique within the graph, e.g. `L3.q_proj`. */
  readonly name: string;
  /** Decoder (or encoder) layer index; -1 for operators outside the layer stack. */
  readonly layer: number;
  readonly part: 'text' | 'vision' | 'connector';
  /** Rows of activations processed together (batch x tokens). */
  readonly tokens: number;
}

export interface LinearOp extends OpBase {
  readonly kind: 'linear';
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Weight tensor read (one slice per tile holding it). */
  readonly weight: string;
}

export interface VectorOp extends OpBase {
  readonly kind: 'embedding' | 'rmsnorm' | 'rope' | 'add' | 'siluMul' | 'argmax' | 'layernorm' | 'gelu' | 'pixelShuffle' | 'patchEmbed' | 'kvWrite';
  /** Elements per token row. */
  readonly width: number;
}

export interface AttentionOp extends OpBase {
  readonly kind: 'attention';
  readonly queryHeads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Per sequence in the batch: cached positions each new query attends (incl. its own). */
  readonly positions: readonly number[];
  /** Per sequence: query tokens (1 in decode, the chunk length in prefill). */
  readonly queries: readonly number[];
  /** Bidirectional (vision encoder) or causal (decoder). */
  readonly causal: boolean;
}

export type Op = LinearOp | VectorOp | AttentionOp;

/** The sequences of one decode step: each generates one token after `contextTokens`. */
export interface DecodeBatch {
  readonly contextTokens: readonly number[];
  /** Sliding KV window in tokens (0: whole context). */
  readonly kvWindowTokens?: number;
}

/**
 * Positions a new token attends: its cached context plus itself (the new token's K and V
 * are written to the cache first and read back with the rest), capped by the window.
 */
export function attendedPositions(contextTokens: number, kvWindowTokens = 0): number {
  const all = contextTokens + 1;
  return kvWindowTokens > 0 ? Math.min(all, kvWindowTokens) : all;
}

function decoderLayer(card: ModelCard, l: number, tokens: number, attention: AttentionOp): Op[] {
  const t = card.text;
  const h = t.hiddenSize;
  const shapes = Object.fromEntries(layerMatrixShapes(t).map((s) => [s.name, s]));
  const lin = (name: keyof typeof shapes): LinearOp => ({
    kind: 'linear',
    name: `L${l}.${name}`,
    layer: l,
    part: 'text',
    tokens,
    inFeatures: shapes[name].inFeatures,
    outFeatures: shapes[name].outFeatures,
    weight: `text.layers.${name}`,
  });
  const vec = (kind: VectorOp['kind'], name: string, width: number): VectorOp => ({ kind, name: `L${l}.${name}`, layer: l, part: 'text', tokens, width });
  return [
    vec('rmsnorm', 'input_layernorm', h),
    lin('q_proj'),
    lin('k_proj'),
    lin('v_proj'),
    vec('rope', 'rope', (t.numHeads + t.numKvHeads) * t.headDim),
    vec('kvWrite', 'kv_write', 2 * t.numKvHeads * t.headDim),
    attention,
    lin('o_proj'),
    vec('add', 'attn_residual', h),
    vec('rmsnorm', 'post_attention_layernorm', h),
    lin('gate_proj'),
    lin('up_proj'),
    vec('siluMul', 'silu_mul', t.intermediateSize),
    lin('down_proj'),
    vec('add', 'mlp_residual', h),
  ];
}

function head(card: ModelCard, tokens: number): Op[] {
  const t = card.text;
  return [
    { kind: 'rmsnorm', name: 'final_norm', layer: -1, part: 'text', tokens, width: t.hiddenSize },
    { kind: 'linear', name: 'lm_head', layer: -1, part: 'text', tokens, inFeatures: t.hiddenSize, outFeatures: t.vocabSize, weight: t.tieWordEmbeddings ? 'text.embed_tokens' : 'text.lm_head' },
    { kind: 'argmax', name: 'argmax', layer: -1, part: 'text', tokens, width: t.vocabSize },
  ];
}

/**
 * One decode step for a batch: the embedding-row reads, every layer (GQA attention over
 * each sequence's cache), the final norm, the LM head and the distributed argmax.
 * Weights are read once per step whatever the batch size: linear ops carry tokens = B.
 */
export function lowerDecodeStep(card: ModelCard, batch: DecodeBatch): Op[] {
  const t = card.text;
  const B = batch.contextTokens.length;
  if (B === 0) return [];
  const ops: Op[] = [{ kind: 'embedding', name: 'embed_tokens', layer: -1, part: 'text', tokens: B, width: t.hiddenSize }];
  const positions = batch.contextTokens.map((c) => attendedPositions(c, batch.kvWindowTokens));
  for (let l = 0; l < t.numLayers; l++) {
    const attention: AttentionOp = { kind: 'attention', name: `L${l}.attention`, layer: l, part: 'text', tokens: B, queryHeads: t.numHeads, kvHeads: t.numKvHeads, headDim: t.headDim, positions, queries: positions.map(() => 1), causal: true };
    ops.push(...decoderLayer(card, l, B, attention));
  }
  ops.push(...head(card, B));
  return ops;
}

/**
 * One prefill chunk of `chunkTokens` prompt tokens appended to `cachedTokens` already in
 * the cache. Query i of the chunk attends cachedTokens + i + 1 positions; the LM head runs
 * for the last position only (the first output token).
 */
export function lowerPrefillChunk(card: ModelCard, chunkTokens: number, cachedTokens: number, kvWindowTokens = 0): Op[] {
  const t = card.text;
  const ops: Op[] = [{ kind: 'embedding', name: 'embed_tokens', layer: -1, part: 'text', tokens: chunkTokens, width: t.hiddenSize }];
  // total attended positions over the chunk, summed as in prefillFlops (sim/model/derive.ts)
  let positions = 0;
  for (let i = 0; i < chunkTokens; i++) positions += attendedPositions(cachedTokens + i, kvWindowTokens);
  for (let l = 0; l < t.numLayers; l++) {
    const attention: AttentionOp = { kind: 'attention', name: `L${l}.attention`, layer: l, part: 'text', tokens: chunkTokens, queryHeads: t.numHeads, kvHeads: t.numKvHeads, headDim: t.headDim, positions: [positions], queries: [chunkTokens], causal: true };
    ops.push(...decoderLayer(card, l, chunkTokens, attention));
  }
  ops.push(...head(card, 1));
  return ops;
}

/**
 * The vision encoder and connector for `tiles` encoder tiles of one image: patch
 * embedding, every SigLIP layer (bidirectional attention over the tile's patches), the
 * post-LayerNorm, pixel shuffle and the connector projection to the text width.
 */
export function lowerVisionTiles(card: ModelCard, tiles: number): Op[] {
  const v = card.vision;
  const c = card.connector;
  if (!v || !c || tiles <= 0) return [];
  const N = patchesPerTile(v);
  const d = v.hiddenSize;
  const rows = N * tiles;
  const ops: Op[] = [{ kind: 'patchEmbed', name: 'V.patch_embedding', layer: -1, part: 'vision', tokens: rows, width: v.numChannels * v.patchSizePx * v.patchSizePx }];
  ops.push({ kind: 'linear', name: 'V.patch_projection', layer: -1, part: 'vision', tokens: rows, inFeatures: v.numChannels * v.patchSizePx * v.patchSizePx, outFeatures: d, weight: 'vision.patch_embedding' });
  for (let l = 0; l < v.numLayers; l++) {
    const lin = (name: string, inF: number, outF: number): LinearOp => ({ kind: 'linear', name: `V${l}.${name}`, layer: l, part: 'vision', tokens: rows, inFeatures: inF, outFeatures: outF, weight: `vision.layers.${name}` });
    const vec = (kind: VectorOp['kind'], name: string, width: number): VectorOp => ({ kind, name: `V${l}.${name}`, layer: l, part: 'vision', tokens: rows, width });
    ops.push(
      vec('layernorm', 'layer_norm1', d),
      lin('q_proj', d, d),
      lin('k_proj', d, d),
      lin('v_proj', d, d),
      { kind: 'attention', name: `V${l}.attention`, layer: l, part: 'vision', tokens: rows, queryHeads: v.numHeads, kvHeads: v.numHeads, headDim: d / v.numHeads, positions: Array(tiles).fill(N), queries: Array(tiles).fill(N), causal: false },
      lin('out_proj', d, d),
      vec('add', 'attn_residual', d),
      vec('layernorm', 'layer_norm2', d),
      lin('fc1', d, v.intermediateSize),
      vec('gelu', 'gelu', v.intermediateSize),
      lin('fc2', v.intermediateSize, d),
      vec('add', 'mlp_residual', d),
    );
  }
  ops.push({ kind: 'layernorm', name: 'V.post_layernorm', layer: -1, part: 'vision', tokens: rows, width: d });
  const r2 = c.scaleFactor * c.scaleFactor;
  ops.push({ kind: 'pixelShuffle', name: 'C.pixel_shuffle', layer: -1, part: 'connector', tokens: rows / r2, width: d * r2 });
  ops.push({ kind: 'linear', name: 'C.proj', layer: -1, part: 'connector', tokens: rows / r2, inFeatures: d * r2, outFeatures: card.text.hiddenSize, weight: 'connector.proj' });
  return ops;
}

/** Multiply-accumulates of an operator list (linear layers and attention). */
export function opMacs(op: Op): number {
  if (op.kind === 'linear') return op.tokens * op.inFeatures * op.outFeatures;
  if (op.kind === 'attention') {
    // QK^T and PV: per query head, per attended position, headDim MACs each
    let pairs = 0;
    op.positions.forEach((p, i) => (pairs += op.causal || op.queries[i] === 1 ? p : p * op.queries[i]));
    return 2 * op.queryHeads * op.headDim * pairs;
  }
  return 0;
}
