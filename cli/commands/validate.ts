import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { loadAny, type Loaded } from '../load.js';
import { applySets, parseSets, requireSingle, sweepPoints, withSetOption } from '../overrides.js';
import { seedOption } from '../options.js';
import { renderSummary, summarize, type Summary } from '../summaries.js';
import { InputError } from '../../sim/validate/inputError.js';

export interface ValidateArgs {
  inputs: string[];
  json: boolean;
  seed: number;
  set?: string[];
}

/** Validate each input (designs with the `--set` edits made); returns the summaries and the one-line errors. */
export function validateInputs(io: Io, inputs: readonly string[], seed: number, set?: readonly string[]): { ok: Summary[]; errors: InputError[] } {
  const ok: Summary[] = [];
  const errors: InputError[] = [];
  const sets = parseSets(set);
  requireSingle(sets, 'tessera validate');
  const edits = sweepPoints(sets)[0].assignments;
  for (const spec of inputs) {
    try {
      let doc: Loaded = loadAny(io, spec, seed);
      if (doc.kind === 'design') doc = { ...doc, design: applySets(doc.design, edits, spec) };
      ok.push(summarize(doc));
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
    builder: (y: Argv) =>
      withSetOption(
        y
        .positional('inputs', { type: 'string', array: true, demandOption: true, describe: 'files or built-in names' })
        .option('json', { type: 'boolean', default: false, describe: 'print the summaries as JSON (an object for one input, an array for several)' })
        .option('seed', seedOption),
      ) as unknown as Argv<ValidateArgs>,
    handler: (args) => {
      const { ok, errors } = validateInputs(io, args.inputs, args.seed, args.set);
      if (args.json) io.stdout(`${JSON.stringify(ok.length === 1 && args.inputs.length === 1 ? ok[0] : ok, null, 2)}\n`);
      else for (const s of ok) io.stdout(renderSummary(s));
      for (const e of errors) io.stderr(`tessera: ${e.message}\n`);
      if (errors.length) setExit(2);
    },
  };
}
