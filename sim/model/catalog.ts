import llama31_8b from '../../models/llama-3.1-8b.json' with { type: 'json' };
import llama32_1b from '../../models/llama-3.2-1b.json' with { type: 'json' };
import smollm2_135m from '../../models/smollm2-135m.json' with { type: 'json' };
import smolvlmInstruct from '../../models/smolvlm-instruct.json' with { type: 'json' };
import smolvlm256m from '../../models/smolvlm-256m.json' with { type: 'json' };
import smolvlm500m from '../../models/smolvlm-500m.json' with { type: 'json' };
import tiny from '../../models/tiny.json' with { type: 'json' };
import tinyVlm from '../../models/tiny-vlm.json' with { type: 'json' };
import { parseInput } from '../validate/zod.js';
import { ModelCardSchema, type ModelCard } from './card.js';

/**
 * Built-in model cards (the JSON files in models/), by name. They are module imports,
 * not file reads, so every layer (and every worker) can resolve them without I/O.
 */
const RAW: Readonly<Record<string, unknown>> = {
  'llama-3.1-8b': llama31_8b,
  'llama-3.2-1b': llama32_1b,
  'smollm2-135m': smollm2_135m,
  'smolvlm-instruct': smolvlmInstruct,
  'smolvlm-256m': smolvlm256m,
  'smolvlm-500m': smolvlm500m,
  tiny,
  'tiny-vlm': tinyVlm,
};

const cache = new Map<string, ModelCard>();

export const BUILTIN_MODEL_NAMES: readonly string[] = Object.keys(RAW);

/** The built-in card called `name`, validated; undefined if there is none. */
export function builtinModel(name: string): ModelCard | undefined {
  if (!Object.hasOwn(RAW, name)) return undefined; // not 'toString' and friends
  const raw = RAW[name];
  let card = cache.get(name);
  if (!card) {
    card = parseInput(ModelCardSchema, raw, `models/${name}.json`);
    cache.set(name, card);
  }
  return card;
}
