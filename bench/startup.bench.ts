import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { buildIsFresh } from '../bin/sources.mjs';
import type { BenchSuite, Measured } from './harness.js';

/**
 * `npm run bench -- startup`: wall time of `tessera --help` (and of `tessera noc --help`,
 * which loads one command's modules) against `node -e 0` measured in the same run,
 * interleaved, median of 11. Target (issue 12): `tessera --help` at most 4x `node -e 0`
 * after `npm ci`, i.e. with the build in dist/ (built here first if it is stale). The
 * sources through tsx (no build) are shown for comparison.
 */
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const BIN = path.join(ROOT, 'bin', 'tessera.mjs');

function wall(args: string[], env: NodeJS.ProcessEnv = {}): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
  return (performance.now() - t0) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export const startupSuite: BenchSuite = {
  name: 'startup',
  async run(print) {
    if (!buildIsFresh(ROOT)) {
      print('  dist/ is stale or missing: building it first (npm ci does this at install)');
      const b = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'build.mjs'), '--quiet'], { cwd: ROOT, stdio: 'inherit' });
      if (b.status !== 0) throw new Error('build failed');
    }
    const cases: [string, string[], NodeJS.ProcessEnv][] = [
      ['node -e 0', ['-e', '0'], {}],
      ['tessera --help (dist/)', [BIN, '--help'], {}],
      ['tessera noc --help (dist/)', [BIN, 'noc', '--help'], {}],
      ['tessera --help (sources through tsx)', [BIN, '--help'], { TESSERA_FROM_SOURCE: '1' }],
    ];
    const times: number[][] = cases.map(() => []);
    for (const [, args, env] of cases) wall(args, env); // warm the file cache
    for (let i = 0; i < 11; i++) cases.forEach(([, args, env], k) => times[k].push(wall(args, env)));
    const base = median(times[0]);
    print('Process start-up, median of 11 interleaved runs');
    const out: Measured[] = [];
    cases.forEach(([name], k) => {
      const m = median(times[k]);
      const ratio = m / base;
      const target = k === 1 ? ` (target <= 4x: ${ratio <= 4 ? 'met' : 'MISSED'})` : '';
      print(`  ${name.padEnd(38)} ${(m * 1000).toFixed(0).padStart(5)} ms  ${k ? `${ratio.toFixed(2)}x node -e 0${target}` : ''}`);
      out.push({ name, perSecond: 1 / m, rmePercent: 0, samples: times[k].length });
    });
    return out;
  },
};
