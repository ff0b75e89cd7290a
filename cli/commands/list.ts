import type { CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { builtinNames } from '../load.js';

export function listCommand(io: Io): CommandModule<object, { json: boolean }> {
  return {
    command: 'list',
    builder: (y) => y.option('json', { type: 'boolean', default: false }) as any,
    handler: (args) => {
      const b = builtinNames();
      const generators = ['decode:N@C', 'decode:N@CxB', 'prefill:P', 'request:P:N', 'poisson:rate=R,n=K,prompt=DIST,output=DIST'];
      if (args.json) {
        io.stdout(`${JSON.stringify({ ...b, generators }, null, 2)}\n`);
        return;
      }
      io.stdout(`models:     ${b.models.join(', ')}\npresets:    ${b.presets.join(', ')}\ntraces:     ${b.traces.join(', ')}\ngenerators: ${generators.join(', ')}  (add ,image=WxH for images)\n`);
    },
  };
}
