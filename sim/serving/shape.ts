import type { StepSequence } from '../chip/step.js';
import type { ProbeStep } from '../chip/stepProbe.js';
import { Rng } from '../random/rng.js';

/**
 * The shape of one iteration (docs/serving.md), as the serving tier keys
 * its memo of simulated steps:
 *
 * - `decodeRows` b: sequences that each add one token; `decodeContextSum`: the sum of their
 *   cached contexts, each capped at the KV window - 1 (beyond it a row attends W positions
 *   whatever its context);
 * - `prefillRows` n: the prompt chunk of the one prefilling sequence (0: none), of which
 *   `imageRows` are image tokens; `prefillContext`: its tokens already cached (capped
 *   alike); `emits`: the chunk ends the prompt, so the step also runs the LM head for it;
 * - `vision`: one vision-encoder pass over one crop (serveTrace's unit of encoder work).
 *
 * Memo families: `decode` (b > 0, n = 0), `prefill` (b = 0, n > 0), `mixed` (both), each
 * with `emits` and the chunk's image/text make-up; and `vision`. Within a family the
 * coordinates are the rows b and n and the mean cached context per row
 * u = (decodeContextSum + n x prefillContext) / (b + n). A step's attention work is its
 * (query, key) pairs, sum over decode rows of (c + 1) plus sum over chunk rows of
 * (y + i + 1), which equals (b + n) u + b + n(n + 1)/2 without a window: rows and u set
 * it whatever the split of the context between the rows.
 */
export interface StepShape {
  readonly vision: boolean;
  readonly decodeRows: number;
  readonly decodeContextSum: number;
  readonly prefillRows: number;
  readonly imageRows: number;
  readonly prefillContext: number;
  readonly emits: boolean;
}

/** The cached context a row counts with: beyond the window every row attends the same W positions. */
export function effectiveContext(contextTokens: number, kvWindowTokens: number): number {
  return kvWindowTokens > 0 ? Math.min(contextTokens, kvWindowTokens - 1) : contextTokens;
}

export type ShapeKind = 'decode' | 'prefill' | 'prefill-last' | 'mixed' | 'mixed-last' | 'vision';

export function shapeKind(s: StepShape): ShapeKind {
  if (s.vision) return 'vision';
  if (s.prefillRows === 0) return 'decode';
  if (s.decodeRows === 0) return s.emits ? 'prefill-last' : 'prefill';
  return s.emits ? 'mixed-last' : 'mixed';
}

/** Token ids for a probed step: seeded by the shape's key, so a node's result never depends on probing order. */
function ids(seed: number, key: string, n: number, vocab: number): number[] {
  const rng = new Rng(seed, `serving/tokens/${key}`);
  return Array.from({ length: Math.max(1, Math.min(64, n)) }, () => rng.int(0, vocab - 1));
}

/**
 * A step of the given coordinates to simulate: `b` decode rows and a chunk of `n` rows,
 * every row at cached context `u` (the chunk: after `u` cached tokens). `key` seeds the
 * token ids.
 */
export function nodeStep(
  fam: { readonly vision: boolean; readonly emits: boolean; readonly imageShare: 'text' | 'image' | number },
  b: number,
  n: number,
  u: number,
  key: string,
  seed: number,
  vocab: number,
): ProbeStep {
  if (fam.vision) return { kind: 'vision', crops: 1 };
  const tok = ids(seed, key, b + n, vocab);
  const rows: StepSequence[] = [];
  for (let i = 0; i < b; i++) rows.push({ contextTokens: u, newTokens: 1, textTokens: 1, emitsToken: true, tokenIds: [tok[i % tok.length]] });
  let imageRows = 0;
  if (n > 0) {
    imageRows = fam.imageShare === 'text' ? 0 : fam.imageShare === 'image' ? n : Math.min(n, fam.imageShare);
    rows.push({ contextTokens: u, newTokens: n, textTokens: n - imageRows, emitsToken: fam.emits, tokenIds: tok });
  }
  return { kind: 'text', sequences: rows, imageRows };
}

/** The step a real iteration ran, row by row (for held-out checks): decode contexts as they were. */
export function exactStep(decodeContexts: readonly number[], chunk: { readonly n: number; readonly image: number; readonly context: number; readonly emits: boolean } | undefined, seed: number, key: string, vocab: number): ProbeStep {
  const tok = ids(seed, key, decodeContexts.length + (chunk?.n ?? 0), vocab);
  const rows: StepSequence[] = decodeContexts.map((c, i) => ({ contextTokens: c, newTokens: 1, textTokens: 1, emitsToken: true, tokenIds: [tok[i % tok.length]] }));
  if (chunk) rows.push({ contextTokens: chunk.context, newTokens: chunk.n, textTokens: chunk.n - chunk.image, emitsToken: chunk.emits, tokenIds: tok });
  return { kind: 'text', sequences: rows, imageRows: chunk?.image ?? 0 };
}

