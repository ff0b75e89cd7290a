import { runCollective, type CollectiveKind } from '../sim/chip/collectiveRun.js';
import { presetDesign } from '../sim/design/presets.js';
import { DesignSchema } from '../sim/design/design.js';
import { parseInput } from '../sim/validate/zod.js';
import type { BenchSuite, Measured } from './harness.js';

/**
 * Collectives microbenchmark (issue 11): all-gather (k-ary tree then multicast, and
 * dimension-ordered rings), reduce to one tile and all-reduce of an 8 KiB vector (one
 * Llama 3.1 8B hidden row in FP16) over the whole mesh, paper-llama-3nm's tile and NoC,
 * meshes 4x4 to 41x42, message-level NoC (flit level up to 16x16). Printed: simulated
 * cycles, the alpha-beta estimate of the pattern (test/chip-collectives.test.ts checks the
 * two agree), messages, and the wall time of the simulation.
 */

const MESHES: [number, number][] = [
  [4, 4],
  [8, 8],
  [16, 16],
  [32, 32],
  [41, 42],
];
const CASES: [CollectiveKind, 'tree' | 'ring'][] = [
  ['all-gather', 'tree'],
  ['all-gather', 'ring'],
  ['reduce', 'tree'],
  ['all-reduce', 'tree'],
];

export const collectivesSuite: BenchSuite = {
  name: 'collectives',
  async run(print) {
    const preset = presetDesign('paper-llama-3nm')!;
    print('Collectives on the whole mesh, 8 KiB vector, paper-llama-3nm tiles and NoC (treeRadix 8): simulated cycles / alpha-beta estimate, messages, wall ms');
    const out: Measured[] = [];
    for (const [rows, cols] of MESHES) {
      const d = parseInput(DesignSchema, { ...preset, mesh: { rows, cols }, mapping: { ...preset.mapping, pipelineStages: 1 } }, `${rows}x${cols}`);
      for (const fidelity of rows <= 16 ? (['message', 'flit'] as const) : (['message'] as const)) {
        const cells: string[] = [];
        for (const [kind, pattern] of CASES) {
          const t0 = performance.now();
          const r = runCollective(d, kind, 8192, { fidelity, pattern });
          const ms = performance.now() - t0;
          cells.push(`${kind}${kind === 'all-gather' ? ` (${pattern})` : ''} ${r.cycles.toLocaleString('en-US')} / ${Math.round(r.estimateCycles).toLocaleString('en-US')}, ${r.messages.toLocaleString('en-US')} msgs, ${ms.toFixed(0)} ms`);
          out.push({ name: `${kind} ${pattern} ${rows}x${cols} ${fidelity}`, perSecond: 1000 / ms, rmePercent: 0, samples: 1 });
        }
        print(`  ${`${rows}x${cols}`.padEnd(6)} ${fidelity.padEnd(7)} ${cells.join(' | ')}`);
      }
    }
    return out;
  },
};
