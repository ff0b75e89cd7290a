import { presetDesign } from '../sim/design/presets.js';
import { DesignSchema, type Design } from '../sim/design/design.js';
import { parseInput } from '../sim/validate/zod.js';

/**
 * The Llama 3.1 8B design of the serving benchmark and of the README's whole-hour run:
 * `paper-llama-3nm` with an INT8 KV cache and a 512-token KV window (with FP16 KV the
 * preset cannot hold Azure contexts), i.e.
 * `--design paper-llama-3nm --set precision.kvCache=int8 --set mapping.kvWindowTokens=512`.
 */
export const SERVE_BENCH_SETS = ['precision.kvCache=int8', 'mapping.kvWindowTokens=512'] as const;

export function serveBenchDesign(): { design: Design; model: string } {
  const d = presetDesign('paper-llama-3nm')!;
  return {
    model: 'llama-3.1-8b',
    design: parseInput(DesignSchema, { ...d, precision: { ...d.precision, kvCache: 'int8' }, mapping: { ...d.mapping, kvWindowTokens: 512 } }, 'paper-llama-3nm (INT8 KV, 512-token window)'),
  };
}
