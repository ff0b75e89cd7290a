import type { ModelCard } from '../sim/model/card.js';
import type { Design } from '../sim/design/design.js';
import type { Trace } from '../sim/trace/trace.js';
import { generateTrace } from '../sim/trace/generators.js';

/**
 * Label workloads (docs/search.md "Label workload"): the named, versioned trace spec a
 * label is simulated on, one per model family, stored with every label and used by the
 * explore command's spot checks. Two short runs on the same design:
 *
 * - decode: B sequences whose `contextTokens`-token context is already cached decode
 *   `outputTokens` tokens each, all arriving at t = 0, where B is the design's own batch
 *   (serving.maxBatch, or 1 with single batching), so the label exercises the design's
 *   batching and micro-batches. Tokens/s, inter-token latency, power, energy per token and
 *   the PPA score come from this run.
 * - prefill: one request of `promptTokens` prompt tokens (plus an image for VLMs) and one
 *   output token. TTFT comes from this run (one request, so p50 = p99).
 *
 * Kept short on purpose: the simulation cost is about one full-chip pass per micro-batch
 * step, and a paper-size Llama 3.1 8B design must label in at most 1.5 s (median).
 */

export interface LabelWorkload {
  readonly name: string;
  readonly description: string;
  readonly decode: { readonly contextTokens: number; readonly outputTokens: number };
  readonly prefill: { readonly promptTokens: number; readonly image?: { readonly widthPx: number; readonly heightPx: number } };
}

export const LLM_DECODE_V1: LabelWorkload = {
  name: 'llm-decode-v1',
  description: 'decode: B = the design\'s batch (serving.maxBatch; 1 for single batching) sequences with 512 cached context tokens generate 3 tokens each, all at t = 0; prefill: one 64-token prompt, 1 output token (TTFT)',
  decode: { contextTokens: 512, outputTokens: 3 },
  prefill: { promptTokens: 64 },
};

/**
 * The default since v1 measured 18.8 s median on paper-llama-3nm with the machine 7.4x
 * slower than its quiet rate (kernel benchmark), about 2.5 s quiet: one decode step less
 * per micro-batch (7 full-chip passes instead of 10 on that design) brings it near 1.5 s.
 * One inter-token gap per sequence; with batch B the ITL percentiles are over B gaps.
 */
export const LLM_DECODE_V2: LabelWorkload = {
  name: 'llm-decode-v2',
  description: 'decode: B = the design\'s batch (serving.maxBatch; 1 for single batching) sequences with 512 cached context tokens generate 2 tokens each, all at t = 0; prefill: one 64-token prompt, 1 output token (TTFT)',
  decode: { contextTokens: 512, outputTokens: 2 },
  prefill: { promptTokens: 64 },
};

export const VLM_IMAGE_V1: LabelWorkload = {
  name: 'vlm-image-v1',
  description: 'decode as llm-decode-v2 (512 cached tokens, 2 generated per sequence, batch B); prefill: one 32-token prompt with a 512x512 image, 1 output token (TTFT)',
  decode: { contextTokens: 512, outputTokens: 2 },
  prefill: { promptTokens: 32, image: { widthPx: 512, heightPx: 512 } },
};

/** Every workload a label file may name (older ones stay readable). */
export const LABEL_WORKLOADS: Readonly<Record<string, LabelWorkload>> = { [LLM_DECODE_V1.name]: LLM_DECODE_V1, [LLM_DECODE_V2.name]: LLM_DECODE_V2, [VLM_IMAGE_V1.name]: VLM_IMAGE_V1 };

/** The default label workload of a model: VLMs get an image in their prefill. */
export function labelWorkloadFor(card: ModelCard): LabelWorkload {
  return card.vision ? VLM_IMAGE_V1 : LLM_DECODE_V2;
}

/** Sequences decoded together in the decode run of a design. */
export function decodeBatch(design: Design): number {
  return design.serving.batching === 'single' ? 1 : design.serving.maxBatch;
}

/** Trace generator specs of the two runs (README "Traces" syntax). */
export function workloadSpecs(w: LabelWorkload, design: Design): { decode: string; prefill: string } {
  const image = w.prefill.image ? `,image=${w.prefill.image.widthPx}x${w.prefill.image.heightPx}` : '';
  return {
    decode: `decode:${w.decode.outputTokens}@${w.decode.contextTokens}x${decodeBatch(design)}`,
    prefill: `prefill:${w.prefill.promptTokens}${image}`,
  };
}

export function workloadTraces(w: LabelWorkload, design: Design): { decode: Trace; prefill: Trace } {
  const s = workloadSpecs(w, design);
  return { decode: generateTrace(s.decode), prefill: generateTrace(s.prefill) };
}
