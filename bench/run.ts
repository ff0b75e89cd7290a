import { kernelSuite } from './kernel.bench.js';
import { powerSuite } from './power.bench.js';
import { nocSuite } from './noc.bench.js';
import { tileSuite } from './tile.bench.js';
import { simSuite } from './sim.bench.js';
import { collectivesSuite } from './collectives.bench.js';
import { nocCalibrationSuite } from './noc-calibration.bench.js';
import { readmeSuite } from './readme.bench.js';
import { startupSuite } from './startup.bench.js';
import { searchSuite } from './search.bench.js';
import { queueSuite } from './queue.bench.js';
import type { BenchSuite } from './harness.js';

/**
 * `npm run bench [-- name...]`: run the benchmark suites (all, or those named) and print
 * their figures. Performance targets live here, not in timed unit tests.
 */
const SUITES: BenchSuite[] = [kernelSuite, powerSuite, nocSuite, nocCalibrationSuite, tileSuite, simSuite, collectivesSuite, startupSuite, readmeSuite, searchSuite, queueSuite];

const wanted = process.argv.slice(2);
const chosen = wanted.length ? SUITES.filter((s) => wanted.includes(s.name)) : SUITES;
if (wanted.length && chosen.length !== wanted.length) {
  console.error(`unknown suite(s): ${wanted.filter((w) => !SUITES.some((s) => s.name === w)).join(', ')}; available: ${SUITES.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
console.log(`Tessera benchmarks (node ${process.version}, ${new Date().toISOString().slice(0, 10)})`);
for (const s of chosen) {
  console.log(`\n[${s.name}]`);
  await s.run((line) => console.log(line));
}
