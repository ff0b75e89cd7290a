/** Numeric formats for weights, activations and the KV cache. */
export const PRECISIONS = ['fp16', 'int8', 'int4'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Bits per element of each format. */
export const PRECISION_BITS: Readonly<Record<Precision, number>> = { fp16: 16, int8: 8, int4: 4 };

/** Bytes per element (0.5 for INT4: two elements share a byte). */
export function bytesPerElement(p: Precision): number {
  return PRECISION_BITS[p] / 8;
}

/** Bytes of `elements` values stored densely in format `p` (INT4 rounds up to whole bytes). */
export function storageBytes(elements: number, p: Precision): number {
  return Math.ceil((elements * PRECISION_BITS[p]) / 8);
}

/** Bytes of one quantisation scale (FP16 scales, the common choice for INT8/INT4 weights and KV). */
export const SCALE_BYTES = 2;

/**
 * Quantisation group along the input dimension for INT4 weights (GPTQ/AWQ-style
 * group-wise scales, group 128). INT8 uses one scale per output channel.
 */
export const INT4_GROUP_SIZE = 128;
