import { DesignSchema } from '../sim/design/design.js';
import { presetDesign } from '../sim/design/presets.js';
import { energyOf } from '../sim/power/energy.js';
import { powerReport } from '../sim/power/report.js';
import { REFERENCE_ANCHORS } from '../sim/power/reference.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { syntheticRun } from '../cli/report/sample.js';
import { renderHtml } from '../cli/report/html.js';
import { measure, report, type BenchSuite } from './harness.js';

/**
 * Power-model benchmark (issue 5): how many PPA evaluations per second the post-run
 * model sustains (the search evaluates one per simulated design). A paper-scale 41x42
 * mesh at 3 nm (1,722 tiles) with per-tile counter records, the same with the chip
 * record only, and the HTML report for it. Synthetic counters (cli/report/sample.ts).
 */
export const powerSuite: BenchSuite = {
  name: 'power',
  async run(print) {
    const base = presetDesign('w4a16-8x8-7nm')!;
    const big = DesignSchema.parse({ ...base, name: 'mesh-41x42-3nm', processNodeNm: 3, clockMHz: 1000, mesh: { rows: 41, cols: 42 } });
    const input = syntheticRun(big, DEFAULT_TECH, REFERENCE_ANCHORS['llama-3.1-8b']);
    const results = [];
    results.push(await measure('energyOf 41x42, chip record', () => void energyOf(input.counters, big, DEFAULT_TECH, input.simulatedCycles), 1));
    results.push(await measure('energyOf 41x42, 1,722 per-tile records', () => void energyOf(input.counters, big, DEFAULT_TECH, input.simulatedCycles, { tileCounters: input.tileCounters }), 1));
    results.push(await measure('powerReport 41x42 (area+energy+metrics+PPA)', () => void powerReport(input), 1));
    const r = powerReport(input);
    results.push(await measure('renderHtml 41x42', () => void renderHtml(r), 1));
    for (const m of results) print(report(m, 'evals/s'));
    return results;
  },
};
