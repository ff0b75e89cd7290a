import { simulateChip } from '../sim/chip/run.js';
import { builtinModel } from '../sim/model/catalog.js';
import { presetDesign } from '../sim/design/presets.js';
import { generateTrace } from '../sim/trace/generators.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { ROUTER_COMPONENTS } from '../sim/power/area.js';
import { MAIN_JOB } from '../cli/commands/start.js';

/**
 * The physical figures of every paper preset and of the `npm start` run (docs/power.md
 * section 8): energy per token (active / idle), area and dies, power, register files over
 * vector lanes, the router's share of the tiles and logic leakage. Fast fidelity, seed 1.
 * Run: node --import tsx bench/power-presets.ts [name-filter]
 */
const runs: [design: string, model: string, trace: string][] = [];
for (const nm of [3, 5, 7, 10, 14, 22, 28]) runs.push([`paper-llama-${nm}nm`, 'llama-3.1-8b', 'decode:16@512']);
for (const nm of [3, 5, 7, 10, 14, 22, 28]) runs.push([`paper-smolvlm-${nm}nm`, 'smolvlm-256m', 'decode:16@1120']);
runs.push([MAIN_JOB.design, MAIN_JOB.model, MAIN_JOB.trace]);

const g = (x: number, d = 3) => Number(x.toPrecision(d)).toLocaleString('en-US', { maximumFractionDigits: 6 });
const filter = process.argv[2];
console.log('| preset | trace | mJ/token (active / idle) | area mm2 | dies | W | RF / lanes | router share | logic leakage W |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const [design, model, trace] of runs) {
  if (filter && !design.includes(filter)) continue;
  const { result } = simulateChip({ card: builtinModel(model)!, design: presetDesign(design)!, trace: generateTrace(trace, 1), tech: DEFAULT_TECH, fidelity: 'fast', seed: 1 });
  const r = result.report;
  const w = r.power.byComponentW;
  const router = ROUTER_COMPONENTS.reduce((s, k) => s + r.area.byComponentMm2[k], 0) / r.area.tileArrayMm2;
  const m = r.metrics;
  console.log(
    `| ${design} | ${trace === MAIN_JOB.trace ? '`npm start`' : trace} | ${g(m.energyPerTokenJ * 1e3)} (${g(m.activeEnergyPerTokenJ * 1e3)} / ${g(m.idleEnergyPerTokenJ * 1e3)}) | ${g(r.area.totalMm2, 4)} | ${r.area.dies.count} | ${g(m.powerW)} | ${g(w.registerFiles / w.vectorLanes)} | ${(100 * router).toFixed(2)}% | ${g(w.logicLeakage)} |`,
  );
}
