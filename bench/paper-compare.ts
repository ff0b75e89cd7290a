import { simulateChip } from '../sim/chip/run.js';
import { builtinModel } from '../sim/model/catalog.js';
import { presetDesign } from '../sim/design/presets.js';
import { generateTrace } from '../sim/trace/generators.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';

/**
 * Prints Tessera's simulated numbers for the paper's design points next to the paper's
 * Tables 11, 12 and 19 (docs/paper-comparison.md is written from this output).
 * Run: node --import tsx bench/paper-compare.ts
 */
const LLAMA: [number, number, number, number, number, number, number, number, number][] = [
  // nm, tok/s, mW, mm2, compute, sram, rom, noc, leakage (Tables 11 and 12)
  [3, 29809, 51366, 648, 27517, 1324, 2779, 17116, 2631],
  [5, 21612, 57153, 929, 30774, 1439, 2634, 19143, 3163],
  [7, 11115, 46208, 1220, 25241, 1178, 1914, 15701, 2175],
  [10, 6388, 25134, 1572, 15138, 726, 1398, 6676, 1196],
  [14, 3264, 14161, 1992, 9592, 467, 702, 2784, 616],
  [22, 1155, 7093, 2882, 5559, 276, 222, 894, 142],
  [28, 623, 3780, 3545, 3158, 178, 131, 246, 66],
];
const SMOL: [number, number, number, number][] = [
  // nm, mW, mm2, tok/s (Table 19)
  [3, 6.4, 17.6, 10.3],
  [5, 12.7, 26.2, 14.1],
  [7, 12.4, 35.0, 14.1],
  [10, 8.6, 46.7, 10.0],
  [14, 6.3, 61.7, 10.3],
  [22, 10.2, 99.2, 11.6],
  [28, 9.5, 124.9, 11.6],
];
const f = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

console.log('Llama 3.1 8B FP16, decode:8@512x3 (three sequences as 3 micro-batches of 1, 512-token context), fast fidelity');
console.log('| node | paper tok/s | Tessera tok/s | paper W | Tessera W | paper mm2 | Tessera mm2 | paper compute/SRAM/ROM/NoC/leak W | Tessera compute/SRAM/ROM/NoC/leak W | J/token | bounds, 3 micro-batch steps of 1 (compute / memory / mapping) |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const [nm, tps, mw, mm2, c, s, r, n, l] of LLAMA) {
  const { result } = simulateChip({ card: builtinModel('llama-3.1-8b')!, design: presetDesign(`paper-llama-${nm}nm`)!, trace: generateTrace('decode:8@512x3'), tech: DEFAULT_TECH, fidelity: 'fast', seed: 1 });
  if (!result.feasible) throw new Error(`paper-llama-${nm}nm is infeasible: ${result.mapping.reasons[0]}`);
  const p = result.power;
  const b = result.bounds;
  console.log(`| ${nm} nm | ${f(tps)} | ${f(result.metrics.tokensPerSecond)} | ${f(mw / 1000, 1)} | ${f(result.metrics.powerW, 1)} | ${f(mm2)} | ${f(result.metrics.areaMm2)} | ${[c, s, r, n, l].map((x) => f(x / 1000, 1)).join(' / ')} | ${[p.computeW, p.sramW, p.romW, p.nocW, p.leakageW].map((x) => f(x, 1)).join(' / ')} | ${f(result.metrics.energyPerTokenJ * 1000, 1)} mJ | ${f(b.computeTokensPerSecond)} / ${f(b.memoryTokensPerSecond)} / ${f(b.mappingTokensPerSecond)} |`);
}
console.log('\nSmolVLM-256M FP16 weights, INT4 KV, decode:16@1120 (after a 512x512 image and a 32-token prompt), 10 MHz, fast fidelity');
console.log('| node | paper mW | Tessera mW | leakage share | paper mm2 | Tessera mm2 | paper tok/s | Tessera tok/s | mJ/token |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const [nm, mw, mm2, tps] of SMOL) {
  const { result } = simulateChip({ card: builtinModel('smolvlm-256m')!, design: presetDesign(`paper-smolvlm-${nm}nm`)!, trace: generateTrace('decode:16@1120'), tech: DEFAULT_TECH, fidelity: 'fast', seed: 1 });
  if (!result.feasible) throw new Error(`paper-smolvlm-${nm}nm is infeasible: ${result.mapping.reasons[0]}`);
  const m = result.metrics;
  console.log(`| ${nm} nm | ${f(mw, 1)} | ${f(m.powerW * 1000, 1)} | ${f((100 * result.power.leakageW) / m.powerW)}% | ${f(mm2, 1)} | ${f(m.areaMm2, 1)} | ${f(tps, 1)} | ${f(m.tokensPerSecond, 1)} | ${f(m.energyPerTokenJ * 1000, 2)} |`);
}
