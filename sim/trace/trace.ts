import { z } from 'zod';
import { refineIssue } from '../validate/zod.js';

/**
 * Token trace: a stream of inference requests (docs/formats.md). Times are wall-clock
 * milliseconds from the start of the trace (an edge format: the simulator converts to
 * cycles at the design's clock).
 */

export const ImageSchema = z.strictObject({
  widthPx: z.number().int().min(1).max(65536).describe('image width in pixels'),
  heightPx: z.number().int().min(1).max(65536).describe('image height in pixels'),
});

export const RequestSchema = z
  .strictObject({
    id: z.union([z.string(), z.number()]).optional().describe('free-form request identifier'),
    arrivalMs: z.number().min(0).max(1e12).describe('arrival time in ms from the trace start'),
    promptTokens: z.number().int().min(0).max(16777216).describe('text tokens in the prompt (image tokens come from images)'),
    outputTokens: z.number().int().min(1).max(16777216).describe('tokens to generate'),
    contextCached: z.boolean().default(false).describe('the prompt is already in the KV cache: its prefill is not simulated'),
    images: z.array(ImageSchema).max(64).default([]).describe('images attached to the prompt'),
  })
  .superRefine((r, ctx) => {
    if (r.promptTokens === 0 && r.images.length === 0) {
      refineIssue(ctx, ['promptTokens'], 'a request needs at least one prompt token or one image', 'set promptTokens >= 1');
    }
  });

export const TraceSchema = z
  .strictObject({
    kind: z.literal('trace'),
    schemaVersion: z.literal(1),
    name: z.string().min(1),
    source: z.string().optional().describe('where the requests come from'),
    license: z.string().optional(),
    attribution: z.string().optional(),
    requests: z.array(RequestSchema).min(1).describe('requests in arrival order'),
  })
  .superRefine((t, ctx) => {
    for (let i = 1; i < t.requests.length; i++) {
      if (t.requests[i].arrivalMs < t.requests[i - 1].arrivalMs) {
        refineIssue(ctx, ['requests', i, 'arrivalMs'], `timestamps go backwards: must be >= the previous request's ${t.requests[i - 1].arrivalMs}`, 'sort the requests by arrival time');
        return;
      }
    }
    // ids are optional, but those given name one request each (results refer to them)
    const seen = new Map<string | number, number>();
    for (let i = 0; i < t.requests.length; i++) {
      const id = t.requests[i].id;
      if (id === undefined) continue;
      const first = seen.get(id);
      if (first !== undefined) {
        refineIssue(ctx, ['requests', i, 'id'], `duplicate id: requests[${first}] already has it`, 'give every request its own id, or drop the ids');
        return;
      }
      seen.set(id, i);
    }
  });

export type TraceImage = z.output<typeof ImageSchema>;
export type TraceRequest = z.output<typeof RequestSchema>;
export type Trace = z.output<typeof TraceSchema>;

export interface TraceSummary {
  readonly name: string;
  readonly requests: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly images: number;
  readonly cachedContextRequests: number;
  readonly durationMs: number;
  readonly maxPromptTokens: number;
  readonly maxOutputTokens: number;
}

export function summarizeTrace(trace: Trace): TraceSummary {
  let promptTokens = 0;
  let outputTokens = 0;
  let images = 0;
  let cached = 0;
  let maxPrompt = 0;
  let maxOutput = 0;
  for (const r of trace.requests) {
    promptTokens += r.promptTokens;
    outputTokens += r.outputTokens;
    images += r.images.length;
    if (r.contextCached) cached++;
    maxPrompt = Math.max(maxPrompt, r.promptTokens);
    maxOutput = Math.max(maxOutput, r.outputTokens);
  }
  const rs = trace.requests;
  return {
    name: trace.name,
    requests: rs.length,
    promptTokens,
    outputTokens,
    images,
    cachedContextRequests: cached,
    durationMs: rs[rs.length - 1].arrivalMs - rs[0].arrivalMs,
    maxPromptTokens: maxPrompt,
    maxOutputTokens: maxOutput,
  };
}
