import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { builtinModel } from '../../sim/model/catalog.js';
import { presetDesign } from '../../sim/design/presets.js';
import { generateTrace } from '../../sim/trace/generators.js';
import { DEFAULT_TECH } from '../../sim/tech/defaultTable.js';
import { simulateChip } from '../../sim/chip/run.js';
import { createProgress } from '../progress.js';
import { EXIT } from '../exit.js';
import { renderSimHtml, renderSimSummary } from './sim.js';

/** The main job's inputs: Llama 3.1 8B on the paper's 3 nm design point, a short Poisson trace. */
export const MAIN_JOB = {
  model: 'llama-3.1-8b',
  design: 'paper-llama-3nm',
  trace: 'poisson:rate=2000,n=4,prompt=uniform(32,96),output=6',
  report: 'tessera-report.html',
} as const;

/** `npm start`: the main job on built-in defaults. */
export function startCommand(io: Io, setExit: (code: number) => void): CommandModule<object, { report: string; quiet: boolean }> {
  return {
    command: 'start',
    builder: (y: Argv) =>
      y
        .option('report', { type: 'string', default: MAIN_JOB.report, describe: 'where to write the HTML report' })
        .option('quiet', { type: 'boolean', default: false, describe: 'no progress lines on stderr' }) as unknown as Argv<{ report: string; quiet: boolean }>,
    handler: (a) => {
      const design = presetDesign(MAIN_JOB.design)!;
      let progress: ReturnType<typeof createProgress> | undefined;
      const t0 = performance.now();
      const { result } = simulateChip({
        card: builtinModel(MAIN_JOB.model)!,
        design,
        trace: generateTrace(MAIN_JOB.trace, 1),
        tech: DEFAULT_TECH,
        fidelity: 'fast',
        seed: 1,
        names: { model: MAIN_JOB.model, design: MAIN_JOB.design, trace: MAIN_JOB.trace },
        onProgress: (p) => {
          progress ??= createProgress(io, { label: 'start', total: p.tokensTotal, unit: 'tokens', quiet: a.quiet, delayMs: 1000 });
          progress.update(p.generatedTokens);
        },
      });
      progress?.finish();
      const wall = (performance.now() - t0) / 1000;
      if (!result.feasible) setExit(EXIT.infeasible);
      io.stdout(`Tessera main job (equivalent to: tessera sim --model ${MAIN_JOB.model} --design ${MAIN_JOB.design} --trace '${MAIN_JOB.trace}' --html ${a.report})\n\n`);
      io.stdout(renderSimSummary(result, wall, design));
      io.writeFile(a.report, renderSimHtml(result, design));
      io.stdout(`\nHTML report written to ${a.report}. Try also: tessera list, tessera design show ${MAIN_JOB.design}, tessera validate azure-conv, tessera noc --sweep 0.02:0.4:0.02, tessera kernel --kernel gemv --rows 4096 --cols 1024.\n`);
    },
  };
}
