import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { loadAny } from '../load.js';
import { renderSummary, summarize, type Summary } from '../summaries.js';
import { InputError } from '../../sim/validate/inputError.js';

export interface ValidateArgs {
  inputs: string[];
  json: boolean;
  seed: number;
}

/** Validate each input; returns the summaries and the one-line errors. */
export function validateInputs(io: Io, inputs: readonly string[], seed: number): { ok: Summary[]; errors: InputError[] } {
  const ok: Summary[] = [];
  const errors: InputError[] = [];
  for (const spec of inputs) {
    try {
      ok.push(summarize(loadAny(io, spec, seed)));
    } catch (e) {
      if (e instanceof InputError) errors.push(e);
      else throw e;
    }
  }
  return { ok, errors };
}

export function validateCommand(io: Io, setExit: (code: number) => void): CommandModule<object, ValidateArgs> {
  return {
    command: 'validate <inputs..>',
    describe: 'Check model cards, HuggingFace configs, traces and designs (files or built-in names) and print summaries',
    builder: (y: Argv) =>
      y
        .positional('inputs', { type: 'string', array: true, demandOption: true, describe: 'files or built-in names' })
        .option('json', { type: 'boolean', default: false, describe: 'print the summaries as JSON (an object for one input, an array for several)' })
        .option('seed', { type: 'number', default: 1, describe: 'seed for random trace generators' }) as unknown as Argv<ValidateArgs>,
    handler: (args) => {
      const { ok, errors } = validateInputs(io, args.inputs, args.seed);
      if (args.json) io.stdout(`${JSON.stringify(ok.length === 1 && args.inputs.length === 1 ? ok[0] : ok, null, 2)}\n`);
      else for (const s of ok) io.stdout(renderSummary(s));
      for (const e of errors) io.stderr(`tessera: ${e.message}\n`);
      if (errors.length) setExit(2);
    },
  };
}
