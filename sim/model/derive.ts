import type { ModelCard, TextConfig, VisionConfig } from './card.js';
import { INT4_GROUP_SIZE, SCALE_BYTES, storageBytes, type Precision } from '../units/precision.js';

/**
 * Every derived quantity of a model card comes from here: the weight-tensor inventory,
 * parameter counts, weight bytes per precision, decode/prefill FLOPs, KV-cache bytes and
 * image-token counts. Formulas follow ../shared/reference/models.md (sections 1-4).
 */

export type TensorRole = 'embedding' | 'linear' | 'lmHead' | 'norm' | 'bias' | 'positionEmbedding' | 'patchEmbedding';
export type ModelPart = 'text' | 'vision' | 'connector';

/**
 * One weight tensor (or a group of identical tensors, one per layer).
 * `rows` are output channels (one INT8 scale each; for an embedding table, one row per
 * token); `cols` is the reduction dimension (INT4 groups of 128 run along it).
 */
export interface WeightTensor {
  readonly name: string;
  readonly part: ModelPart;
  readonly role: TensorRole;
  readonly rows: number;
  readonly cols: number;
  /** How many identical tensors (e.g. one per layer). */
  readonly count: number;
  /** Stored at the weight precision (else kept in FP16: norms, biases, position tables). */
  readonly quantized: boolean;
}

/** Linear layers, the LM head and embedding tables are quantised; vectors and position tables stay FP16. */
const QUANTIZED_ROLES: ReadonlySet<TensorRole> = new Set(['embedding', 'linear', 'lmHead', 'patchEmbedding']);

function tensor(name: string, part: ModelPart, role: TensorRole, rows: number, cols: number, count = 1): WeightTensor {
  return { name, part, role, rows, cols, count, quantized: QUANTIZED_ROLES.has(role) };
}

/** Per-layer matrix shapes of the text decoder, [inFeatures, outFeatures] as in models.md section 4. */
export interface LayerMatrixShape {
  readonly name: 'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj';
  readonly inFeatures: number;
  readonly outFeatures: number;
}

export function layerMatrixShapes(t: TextConfig): LayerMatrixShape[] {
  const h = t.hiddenSize;
  const q = t.numHeads * t.headDim;
  const k = t.numKvHeads * t.headDim;
  const I = t.intermediateSize;
  return [
    { name: 'q_proj', inFeatures: h, outFeatures: q },
    { name: 'k_proj', inFeatures: h, outFeatures: k },
    { name: 'v_proj', inFeatures: h, outFeatures: k },
    { name: 'o_proj', inFeatures: q, outFeatures: h },
    { name: 'gate_proj', inFeatures: h, outFeatures: I },
    { name: 'up_proj', inFeatures: h, outFeatures: I },
    { name: 'down_proj', inFeatures: I, outFeatures: h },
  ];
}

/** Linear parameters in one decoder layer (models.md section 3, "linear params/layer"). */
export function linearParamsPerLayer(t: TextConfig): number {
  return layerMatrixShapes(t).reduce((s, m) => s + m.inFeatures * m.outFeatures, 0);
}

/** The complete weight inventory of a model. */
export function weightTensors(card: ModelCard): WeightTensor[] {
  const t = card.text;
  const L = t.numLayers;
  const out: WeightTensor[] = [tensor('text.embed_tokens', 'text', 'embedding', t.vocabSize, t.hiddenSize)];
  for (const m of layerMatrixShapes(t)) out.push(tensor(`text.layers.${m.name}`, 'text', 'linear', m.outFeatures, m.inFeatures, L));
  out.push(tensor('text.layers.input_layernorm', 'text', 'norm', 1, t.hiddenSize, L));
  out.push(tensor('text.layers.post_attention_layernorm', 'text', 'norm', 1, t.hiddenSize, L));
  out.push(tensor('text.norm', 'text', 'norm', 1, t.hiddenSize));
  if (!t.tieWordEmbeddings) out.push(tensor('text.lm_head', 'text', 'lmHead', t.vocabSize, t.hiddenSize));

  const v = card.vision;
  const c = card.connector;
  if (v && c) {
    const d = v.hiddenSize;
    const patches = patchesPerTile(v);
    const Lv = v.numLayers;
    out.push(tensor('vision.patch_embedding', 'vision', 'patchEmbedding', d, v.numChannels * v.patchSizePx * v.patchSizePx));
    out.push(tensor('vision.patch_embedding.bias', 'vision', 'bias', 1, d));
    out.push(tensor('vision.position_embedding', 'vision', 'positionEmbedding', patches, d));
    for (const name of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      out.push(tensor(`vision.layers.${name}`, 'vision', 'linear', d, d, Lv));
      out.push(tensor(`vision.layers.${name}.bias`, 'vision', 'bias', 1, d, Lv));
    }
    out.push(tensor('vision.layers.fc1', 'vision', 'linear', v.intermediateSize, d, Lv));
    out.push(tensor('vision.layers.fc1.bias', 'vision', 'bias', 1, v.intermediateSize, Lv));
    out.push(tensor('vision.layers.fc2', 'vision', 'linear', d, v.intermediateSize, Lv));
    out.push(tensor('vision.layers.fc2.bias', 'vision', 'bias', 1, d, Lv));
    // LayerNorm: weight and bias, two per layer plus the post-encoder norm
    out.push(tensor('vision.layers.layer_norm1', 'vision', 'norm', 1, 2 * d, Lv));
    out.push(tensor('vision.layers.layer_norm2', 'vision', 'norm', 1, 2 * d, Lv));
    out.push(tensor('vision.post_layernorm', 'vision', 'norm', 1, 2 * d));
    out.push(tensor('connector.proj', 'connector', 'linear', t.hiddenSize, d * c.scaleFactor * c.scaleFactor));
  }
  return out;
}

export function tensorElements(w: WeightTensor): number {
  return w.rows * w.cols * w.count;
}

/** Number of FP16 scales a quantised tensor needs at precision p (0 for FP16 or unquantised). */
export function tensorScaleCount(w: WeightTensor, p: Precision): number {
  if (!w.quantized || p === 'fp16') return 0;
  if (p === 'int8') return w.rows * w.count; // per output channel
  return w.rows * Math.ceil(w.cols / INT4_GROUP_SIZE) * w.count; // int4: per group of 128
}

export interface ByteCount {
  /** Bytes of weight values. */
  readonly weightBytes: number;
  /** Bytes of quantisation scales (FP16), counted separately. */
  readonly scaleBytes: number;
  readonly totalBytes: number;
}

function bytesOf(tensors: readonly WeightTensor[], p: Precision): ByteCount {
  let weightBytes = 0;
  let scaleBytes = 0;
  for (const w of tensors) {
    const elems = tensorElements(w);
    weightBytes += w.quantized ? storageBytes(elems, p) : storageBytes(elems, 'fp16');
    scaleBytes += tensorScaleCount(w, p) * SCALE_BYTES;
  }
  return { weightBytes, scaleBytes, totalBytes: weightBytes + scaleBytes };
}

export interface ParameterCounts {
  readonly text: number;
  readonly vision: number;
  readonly connector: number;
  readonly total: number;
}

export function parameterCounts(card: ModelCard): ParameterCounts {
  const sum = (part: ModelPart) =>
    weightTensors(card)
      .filter((w) => w.part === part)
      .reduce((s, w) => s + tensorElements(w), 0);
  const text = sum('text');
  const vision = sum('vision');
  const connector = sum('connector');
  return { text, vision, connector, total: text + vision + connector };
}

/** Bytes to store all weights at precision p (what the chip's weight ROM must hold). */
export function weightBytes(card: ModelCard, p: Precision): ByteCount {
  return bytesOf(weightTensors(card), p);
}

/**
 * Weight bytes one decode step streams (batch of any size: weights are read once per
 * step): every text-decoder layer tensor, the final norm, the LM head matrix (the
 * embedding table when tied) and one embedding row (with its scales) for the new token.
 */
export function decodeWeightBytesPerStep(card: ModelCard, p: Precision): ByteCount {
  const t = card.text;
  const streamed = weightTensors(card).filter((w) => w.part === 'text' && w.role !== 'embedding');
  const head = t.tieWordEmbeddings ? weightTensors(card).filter((w) => w.name === 'text.embed_tokens') : [];
  const row = tensor('text.embed_tokens[row]', 'text', 'embedding', 1, t.hiddenSize);
  return bytesOf([...streamed, ...head, row], p);
}

/**
 * Decode FLOPs for one new token with c tokens already in the KV cache (models.md
 * section 3): 2 x (L x linear params + V x h) + 4 x L x n_heads x head_dim x c.
 * Element-wise work (norms, RoPE, softmax, SiLU) is not counted.
 */
export function decodeFlopsPerToken(card: ModelCard, contextTokens: number): number {
  const t = card.text;
  return 2 * (t.numLayers * linearParamsPerLayer(t) + t.vocabSize * t.hiddenSize) + 4 * t.numLayers * t.numHeads * t.headDim * contextTokens;
}

/**
 * Prefill FLOPs for a prompt of P tokens appended to c0 cached tokens: the linear term
 * per token, attention over the positions before each token, and the LM head once
 * (only the last position's logits are needed).
 */
export function prefillFlops(card: ModelCard, promptTokens: number, cachedTokens = 0): number {
  const t = card.text;
  const P = promptTokens;
  const attnPositions = P * cachedTokens + (P * (P - 1)) / 2;
  return 2 * t.numLayers * linearParamsPerLayer(t) * P + 4 * t.numLayers * t.numHeads * t.headDim * attnPositions + 2 * t.vocabSize * t.hiddenSize;
}

/** KV-cache bytes per token per layer: 2 (K and V) x KV heads x head_dim x bytes per element. */
export function kvBytesPerTokenPerLayer(card: ModelCard, kv: Precision = 'fp16'): number {
  const t = card.text;
  return storageBytes(2 * t.numKvHeads * t.headDim, kv);
}

/** Quantised KV keeps one FP16 scale per KV head for K and for V, per token and layer. */
export function kvScaleBytesPerTokenPerLayer(card: ModelCard, kv: Precision): number {
  return kv === 'fp16' ? 0 : 2 * card.text.numKvHeads * SCALE_BYTES;
}

/** KV-cache bytes per token over all layers, scales included. */
export function kvBytesPerToken(card: ModelCard, kv: Precision = 'fp16'): number {
  return card.text.numLayers * (kvBytesPerTokenPerLayer(card, kv) + kvScaleBytesPerTokenPerLayer(card, kv));
}

// ---- vision ------------------------------------------------------------------------

/** Patches per encoder tile: a stride-p convolution gives floor(image / p) per side. */
export function patchesPerTile(v: VisionConfig): number {
  return Math.floor(v.imageSizePx / v.patchSizePx) ** 2;
}

/** Patches per encoder tile and image tokens each tile yields after pixel shuffle. */
export function imageTokensPerTile(card: ModelCard): number {
  const v = card.vision;
  const c = card.connector;
  if (!v || !c) return 0;
  const patches = patchesPerTile(v);
  return patches / (c.scaleFactor * c.scaleFactor);
}

/**
 * Encoder tiles for an image of widthPx x heightPx, following the Idefics3 image
 * processor: rescale so the longest edge equals `longestEdgePx` (keeping the aspect
 * ratio; small images are upscaled), round each side up to a multiple of the encoder
 * tile, cut into tiles, and add one downscaled global view when there is more than one
 * tile. Without splitting an image is a single tile.
 */
export function imageTiles(card: ModelCard, widthPx: number, heightPx: number): { rows: number; cols: number; tiles: number } {
  const v = card.vision;
  const ip = card.imageProcessor;
  if (!v || !ip) return { rows: 0, cols: 0, tiles: 0 };
  if (!ip.splitImages) return { rows: 1, cols: 1, tiles: 1 };
  const tile = v.imageSizePx;
  const scale = ip.longestEdgePx / Math.max(widthPx, heightPx);
  const w = Math.max(1, Math.round(widthPx * scale));
  const h = Math.max(1, Math.round(heightPx * scale));
  const cols = Math.ceil(w / tile);
  const rows = Math.ceil(h / tile);
  const n = rows * cols;
  return { rows, cols, tiles: n > 1 ? n + 1 : 1 };
}

/** Image tokens an image adds to the prompt (separator tokens are part of the text prompt). */
export function imageTokens(card: ModelCard, widthPx: number, heightPx: number): number {
  return imageTiles(card, widthPx, heightPx).tiles * imageTokensPerTile(card);
}

/**
 * Vision FLOPs for one encoder tile (models.md section 2): patch embedding +
 * L x [2N(4d^2 + 2dI) + 4N^2 d] + connector, with N patches per tile.
 */
export function visionFlopsPerTile(card: ModelCard): number {
  const v = card.vision;
  const c = card.connector;
  if (!v || !c) return 0;
  const N = patchesPerTile(v);
  const d = v.hiddenSize;
  const patchEmbed = 2 * N * v.numChannels * v.patchSizePx * v.patchSizePx * d;
  const layers = v.numLayers * (2 * N * (4 * d * d + 2 * d * v.intermediateSize) + 4 * N * N * d);
  const connector = 2 * (N / (c.scaleFactor * c.scaleFactor)) * d * c.scaleFactor * c.scaleFactor * card.text.hiddenSize;
  return patchEmbed + layers + connector;
}

/** A one-stop summary of a card's derived quantities (what `tessera validate` prints). */
export interface ModelSummary {
  readonly name: string;
  readonly displayName: string;
  readonly architecture: ModelCard['architecture'];
  readonly parameters: number;
  readonly parameterBreakdown: ParameterCounts;
  readonly weightBytes: Record<Precision, ByteCount>;
  readonly decodeWeightBytesPerStep: Record<Precision, ByteCount>;
  readonly kvBytesPerTokenPerLayer: number;
  readonly kvBytesPerToken: Record<Precision, number>;
  readonly decodeFlopsPerTokenAtContext0: number;
  readonly decodeFlopsPerCachedToken: number;
  readonly maxContextTokens: number;
  readonly imageTokensPerTile?: number;
  readonly visionFlopsPerTile?: number;
}

export function summarizeModel(card: ModelCard): ModelSummary {
  const precisions: Precision[] = ['fp16', 'int8', 'int4'];
  const per = <T>(f: (p: Precision) => T) => Object.fromEntries(precisions.map((p) => [p, f(p)])) as Record<Precision, T>;
  const counts = parameterCounts(card);
  return {
    name: card.name,
    displayName: card.displayName,
    architecture: card.architecture,
    parameters: counts.total,
    parameterBreakdown: counts,
    weightBytes: per((p) => weightBytes(card, p)),
    decodeWeightBytesPerStep: per((p) => decodeWeightBytesPerStep(card, p)),
    kvBytesPerTokenPerLayer: kvBytesPerTokenPerLayer(card, 'fp16'),
    kvBytesPerToken: per((p) => kvBytesPerToken(card, p)),
    decodeFlopsPerTokenAtContext0: decodeFlopsPerToken(card, 0),
    decodeFlopsPerCachedToken: decodeFlopsPerToken(card, 1) - decodeFlopsPerToken(card, 0),
    maxContextTokens: card.text.maxPositionEmbeddings,
    ...(card.vision ? { imageTokensPerTile: imageTokensPerTile(card), visionFlopsPerTile: visionFlopsPerTile(card) } : {}),
  };
}
