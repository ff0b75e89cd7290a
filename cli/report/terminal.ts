import type { PowerReport } from '../../sim/power/report.js';
import { block, table } from '../format.js';
import { areaText, energyPerTokenText, reticleWarning } from './physical.js';

/** The PPA report as aligned text (no colours) and as JSON. */

function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return Number(v.toPrecision(4)).toString();
}

export function renderTerminal(r: PowerReport): string {
  const m = r.metrics;
  const p = r.ppa;
  let out = block(r.title, [
    ['node / clock / Vdd', `${r.design.processNodeNm} nm / ${r.design.clockMHz} MHz / ${r.vddV.toFixed(3)} V`],
    ['simulated', `${r.simulatedCycles} cycles = ${num(m.seconds)} s, ${m.tokens} tokens`],
    ['tokens/s', num(m.tokensPerSecond)],
    ['power', `${num(m.powerW)} W  (${num(m.powerDensityWPerMm2)} W/mm2)`],
    ['energy/token', energyPerTokenText(m)],
    ['area', areaText(r)],
    ['TOPS/mm2', num(m.topsPerMm2)],
    ...(m.ttftMs ? ([['TTFT p50/p99', `${num(m.ttftMs.p50)} / ${num(m.ttftMs.p99)} ms`]] as [string, string][]) : []),
    ...(m.itlMs ? ([['ITL p50/p99', `${num(m.itlMs.p50)} / ${num(m.itlMs.p99)} ms`]] as [string, string][]) : []),
    ['PPA score', `${num(p.score)} ${p.feasible ? 'feasible' : `INFEASIBLE (${p.reasons.join('; ')})`}, objective ${num(p.objective)}`],
  ]);
  const warning = reticleWarning(r);
  if (warning) out += `${warning}\n`;
  const total = r.power.totalW;
  out += '\n';
  out += table(
    (Object.entries(r.power.byCategoryW) as [string, number][]).map(([k, v]) => [k, num(v), total > 0 ? `${((100 * v) / total).toFixed(1)}%` : '-']),
    ['power', 'W', 'share'],
  );
  out += '\n';
  out += table(
    (Object.entries(r.area.byComponentMm2) as [string, number][])
      .concat([['chip overhead', r.area.overheadMm2]])
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, num(v), `${((100 * v) / r.area.totalMm2).toFixed(1)}%`]),
    ['area', 'mm2', 'share'],
  );
  return out;
}

export function renderJson(r: PowerReport): string {
  return `${JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`;
}
