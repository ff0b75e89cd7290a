import type { CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { builtinNames } from '../load.js';
import { validateInputs } from './validate.js';
import { renderSummary } from '../summaries.js';

/** `npm start`: the main job on built-in defaults. */
export function startCommand(io: Io, setExit: (code: number) => void): CommandModule<object, object> {
  return {
    command: 'start',
    describe: 'Main job on built-in defaults: validate every bundled model, trace and design preset and print the summaries',
    handler: () => {
      const b = builtinNames();
      const inputs = [...b.models, ...b.traces, 'decode:128@512x4', 'poisson:rate=2,n=100,prompt=lognormal(512,1),output=exp(128)', ...b.presets];
      const { ok, errors } = validateInputs(io, inputs, 1);
      io.stdout(`Tessera: validated ${ok.length} of ${inputs.length} bundled inputs\n\n`);
      for (const s of ok) io.stdout(`${renderSummary(s)}\n`);
      for (const e of errors) io.stderr(`tessera: ${e.message}\n`);
      if (errors.length) setExit(2);
    },
  };
}
