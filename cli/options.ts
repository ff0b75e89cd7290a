import { InputError } from '../sim/validate/inputError.js';

/**
 * Options shared by several commands. `--seed` is read as text and checked here, so that
 * `--seed abc` is a one-line input error naming what was typed (exit code 2), never a run
 * with seed NaN.
 */
export function parseSeed(raw: unknown): number {
  const text = String(Array.isArray(raw) ? raw[raw.length - 1] : raw).trim();
  const v = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(v)) throw new InputError('command line', '--seed', text, 'an integer (the seed of every random stream)', 'e.g. --seed 1');
  return v;
}

/**
 * The `--seed` option: read as text, then turned into a number by `parseSeed` in the
 * CLI's middleware (cli/main.ts). A yargs `coerce` would lose the InputError (yargs
 * re-wraps what coerce throws), and the message with it.
 */
export const seedOption = { type: 'string', default: '1', describe: 'seed of every random stream (an integer)' } as const;
