import { allExamples, runExample, scratchRoot } from '../test/readme-examples.js';
import type { BenchSuite, Measured } from './harness.js';

/**
 * `npm run bench -- readme`: the README examples marked `# bench-only` (long traces), run
 * as the README test runs the others (test/readme-examples.ts): each must exit 0, report
 * a feasible design and print no NaN. Prints each one's wall time; throws on a failure.
 */
export const readmeSuite: BenchSuite = {
  name: 'readme',
  async run(print) {
    const cwd = scratchRoot();
    const out: Measured[] = [];
    print('README examples marked bench-only (wall time, process start-up included)');
    for (const ex of allExamples().filter((e) => e.benchOnly)) {
      const r = runExample(ex, cwd, 60 * 60 * 1000);
      print(`  ${ex.file}:${ex.line}  ${ex.command}`);
      print(`    wall ${r.seconds.toFixed(1)} s, ${r.problems.length ? `FAILED: ${r.problems.join('; ')}` : 'exit 0, feasible'}`);
      if (r.problems.length) throw new Error(`README example failed: ${ex.command}: ${r.problems.join('; ')}`);
      out.push({ name: ex.command, perSecond: 1 / r.seconds, rmePercent: 0, samples: 1 });
    }
    return out;
  },
};
