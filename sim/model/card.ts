import { z } from 'zod';
import { refineIssue } from '../validate/zod.js';

/**
 * Model card: the JSON description of a transformer workload (docs/formats.md).
 * Llama-architecture text decoders (RMSNorm, RoPE, SwiGLU, no biases) and Idefics3
 * vision-language models (SigLIP encoder -> pixel-shuffle connector -> Llama decoder).
 * Every card cites where its numbers come from.
 */

const int = (min: number, max: number, what: string) => z.number().int().min(min).max(max).describe(what);
const pos = (max: number, what: string) => z.number().positive().max(max).describe(what);

export const TextConfigSchema = z
  .strictObject({
    hiddenSize: int(1, 65536, 'model width h'),
    intermediateSize: int(1, 524288, 'MLP width I'),
    numLayers: int(1, 1024, 'decoder layers L'),
    numHeads: int(1, 1024, 'query heads'),
    numKvHeads: int(1, 1024, 'key/value heads (GQA groups)'),
    headDim: int(1, 1024, 'per-head dimension'),
    vocabSize: int(1, 4194304, 'vocabulary size V'),
    maxPositionEmbeddings: int(1, 16777216, 'longest supported context in tokens'),
    ropeTheta: pos(1e12, 'RoPE base'),
    rmsNormEps: pos(1, 'RMSNorm epsilon'),
    tieWordEmbeddings: z.boolean().describe('LM head shares the embedding matrix'),
  })
  .superRefine((t, ctx) => {
    if (t.hiddenSize % t.numHeads !== 0) {
      refineIssue(ctx, ['numHeads'], `must divide hiddenSize (${t.hiddenSize}); ${t.hiddenSize} / ${t.numHeads} is not whole`, 'use a head count that divides hiddenSize');
    }
    if (t.numHeads % t.numKvHeads !== 0) {
      refineIssue(ctx, ['numKvHeads'], `must divide numHeads (${t.numHeads}) so query heads group evenly (GQA)`, 'use a divisor of numHeads');
    }
  });

export const VisionConfigSchema = z
  .strictObject({
    imageSizePx: int(16, 8192, 'encoder input side in pixels (one tile)'),
    patchSizePx: int(1, 256, 'patch side in pixels'),
    numChannels: int(1, 16, 'input channels').default(3),
    hiddenSize: int(1, 65536, 'encoder width'),
    numLayers: int(1, 1024, 'encoder layers'),
    numHeads: int(1, 1024, 'encoder attention heads'),
    intermediateSize: int(1, 524288, 'encoder MLP width'),
    layerNormEps: pos(1, 'LayerNorm epsilon'),
  })
  .superRefine((v, ctx) => {
    if (v.patchSizePx > v.imageSizePx) {
      refineIssue(ctx, ['patchSizePx'], `must not exceed imageSizePx (${v.imageSizePx})`, 'use a patch smaller than the encoder tile');
    }
    if (v.hiddenSize % v.numHeads !== 0) {
      refineIssue(ctx, ['numHeads'], `must divide hiddenSize (${v.hiddenSize})`, 'use a head count that divides hiddenSize');
    }
  });

export const ConnectorConfigSchema = z.strictObject({
  scaleFactor: int(1, 16, 'pixel-shuffle factor r: r x r patches become one token'),
});

export const ImageProcessorSchema = z.strictObject({
  longestEdgePx: int(16, 65536, 'images are rescaled so their longest edge is this many pixels before splitting'),
  splitImages: z.boolean().describe('cut large images into encoder-sized tiles plus a global view').default(true),
});

export const ModelCardSchema = z
  .strictObject({
    kind: z.literal('model'),
    schemaVersion: z.literal(1),
    name: z.string().regex(/^[a-z0-9][a-z0-9.\-]*$/, 'lower-case letters, digits, dots and dashes').describe('short identifier'),
    displayName: z.string().min(1),
    architecture: z.enum(['llama', 'idefics3']).describe('llama: text decoder; idefics3: SigLIP + connector + Llama decoder'),
    source: z.string().min(8).describe('citation of the published config the numbers come from'),
    notes: z.string().optional(),
    text: TextConfigSchema,
    vision: VisionConfigSchema.optional(),
    connector: ConnectorConfigSchema.optional(),
    imageProcessor: ImageProcessorSchema.optional(),
  })
  .superRefine((m, ctx) => {
    if (m.architecture === 'idefics3') {
      for (const key of ['vision', 'connector', 'imageProcessor'] as const) {
        if (!m[key]) refineIssue(ctx, [key], `required for architecture "idefics3"`, `add a '${key}' section`);
      }
      if (m.vision && m.connector) {
        // a stride-p convolution yields floor(image / p) patches per side (384 / 14 -> 27)
        const side = Math.floor(m.vision.imageSizePx / m.vision.patchSizePx);
        if (side % m.connector.scaleFactor !== 0) {
          refineIssue(ctx, ['connector', 'scaleFactor'], `must divide the patch grid side (${side})`, 'use a divisor of floor(imageSizePx / patchSizePx)');
        }
      }
    } else {
      for (const key of ['vision', 'connector', 'imageProcessor'] as const) {
        if (m[key]) refineIssue(ctx, [key], `only allowed for architecture "idefics3"`, `remove '${key}' or set architecture to "idefics3"`);
      }
    }
  });

export type TextConfig = z.output<typeof TextConfigSchema>;
export type VisionConfig = z.output<typeof VisionConfigSchema>;
export type ModelCard = z.output<typeof ModelCardSchema>;
