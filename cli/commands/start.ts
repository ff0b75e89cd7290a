import type { CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { builtinModel } from '../../sim/model/catalog.js';
import { presetDesign } from '../../sim/design/presets.js';
import { generateTrace } from '../../sim/trace/generators.js';
import { DEFAULT_TECH } from '../../sim/tech/defaultTable.js';
import { simulateChip } from '../../sim/chip/run.js';
import { renderSimHtml, renderSimSummary } from './sim.js';

/** The main job's inputs: Llama 3.1 8B on the paper's 3 nm design point, a short Poisson trace. */
export const MAIN_JOB = {
  model: 'llama-3.1-8b',
  design: 'paper-llama-3nm',
  trace: 'poisson:rate=2000,n=4,prompt=uniform(32,96),output=6',
  report: 'tessera-report.html',
} as const;

/** `npm start`: the main job on built-in defaults. */
export function startCommand(io: Io, _setExit: (code: number) => void): CommandModule<object, { report: string }> {
  return {
    command: 'start',
    describe: `Main job on built-in defaults: simulate ${MAIN_JOB.model} on ${MAIN_JOB.design} serving ${MAIN_JOB.trace}, print the summary and write the HTML report`,
    builder: (y) => y.option('report', { type: 'string', default: MAIN_JOB.report, describe: 'where to write the HTML report' }) as any,
    handler: (a) => {
      const t0 = performance.now();
      const { result } = simulateChip({
        card: builtinModel(MAIN_JOB.model)!,
        design: presetDesign(MAIN_JOB.design)!,
        trace: generateTrace(MAIN_JOB.trace, 1),
        tech: DEFAULT_TECH,
        fidelity: 'fast',
        seed: 1,
        names: { model: MAIN_JOB.model, design: MAIN_JOB.design, trace: MAIN_JOB.trace },
      });
      const wall = (performance.now() - t0) / 1000;
      io.stdout(`Tessera main job (equivalent to: tessera sim --model ${MAIN_JOB.model} --design ${MAIN_JOB.design} --trace '${MAIN_JOB.trace}' --html ${a.report})\n\n`);
      io.stdout(renderSimSummary(result, wall));
      io.writeFile(a.report, renderSimHtml(result));
      io.stdout(`\nHTML report written to ${a.report}. Try also: tessera list, tessera validate azure-conv, tessera noc --sweep 0.02:0.4:0.02, tessera kernel --kernel gemv --rows 4096 --cols 1024.\n`);
    },
  };
}
