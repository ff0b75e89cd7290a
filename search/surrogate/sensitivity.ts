import type { Design } from '../../sim/design/design.js';
import type { ProcessNodeNm } from '../../sim/tech/nodes.js';
import { DIMENSIONS, designFromValues, gridValues, type DimValue } from '../space.js';
import { runLabelJob } from '../label/job.js';
import type { Surrogate } from './model.js';

/**
 * The per-knob sensitivity table: around a design, each dimension moved alone to its
 * neighbouring grid values (numeric: about x0.5 and x2; categorical: every other value),
 * with the surrogate's prediction of tokens/s, power and energy per token at each point
 * and, on request, the simulator's own value beside it.
 */

export interface SensitivityPoint {
  readonly value: DimValue;
  readonly predicted: { readonly tokensPerSecond: number; readonly powerW: number; readonly energyPerTokenJ: number };
  readonly simulated?: { readonly status: string; readonly tokensPerSecond?: number; readonly powerW?: number; readonly energyPerTokenJ?: number };
}

export interface SensitivityRow {
  readonly dimension: string;
  readonly centre: DimValue;
  readonly points: readonly SensitivityPoint[];
}

function getPath(obj: any, path: string): any {
  let v = obj;
  for (const k of path.split('.')) v = v?.[k];
  return v;
}

/** Values to try for a dimension around `centre`. */
function neighbours(path: string, centre: DimValue, node: ProcessNodeNm): DimValue[] {
  const dim = DIMENSIONS.find((d) => d.path === path)!;
  const grid = gridValues(dim, node);
  if (dim.kind === 'categorical') return grid.filter((v) => v !== centre);
  if (dim.kind === 'levels') {
    const i = grid.indexOf(centre);
    return [grid[i - 1], grid[i + 1]].filter((v) => v !== undefined);
  }
  const c = centre as number;
  const lo = grid[0] as number;
  const hi = grid[grid.length - 1] as number;
  return [...new Set([Math.max(lo, Math.round(c / 2)), Math.min(hi, Math.round(c * 2))])].filter((v) => v !== c);
}

export function sensitivityTable(s: Surrogate, design: Design, simulate: boolean, onSimulated?: () => void): SensitivityRow[] {
  const node = design.processNodeNm as ProcessNodeNm;
  const base = new Map<string, DimValue>(DIMENSIONS.map((d) => [d.path, getPath(design, d.path)]));
  const rows: { dimension: string; centre: DimValue; designs: Design[]; values: DimValue[] }[] = [];
  for (const d of DIMENSIONS) {
    if (d.path === 'processNodeNm') continue;
    const centre = base.get(d.path)!;
    const values = [centre, ...neighbours(d.path, centre, node)];
    const designs = values.map((v) => designFromValues(new Map([...base, [d.path, v]]), `${design.name} ${d.path}=${String(v)}`));
    rows.push({ dimension: d.path, centre, designs, values });
  }
  const all = rows.flatMap((r) => r.designs);
  const preds = s.predict(all);
  let k = 0;
  return rows.map((r) => ({
    dimension: r.dimension,
    centre: r.centre,
    points: r.values.map((value, i) => {
      const p = preds[k++];
      const point: SensitivityPoint = { value, predicted: { tokensPerSecond: p.targets.tokensPerSecond.value, powerW: p.targets.powerW.value, energyPerTokenJ: p.targets.energyPerTokenJ.value } };
      if (!simulate) return point;
      const l = runLabelJob({ runId: 'sensitivity', index: 0, design: r.designs[i], settings: { modelName: s.ctx.card.name, card: s.ctx.card, nodes: [node], seed: 1, fidelity: 'fast', workload: s.ctx.workload.name, eventLimit: 0, tech: s.ctx.tech } });
      onSimulated?.();
      return { ...point, simulated: { status: l.status, tokensPerSecond: l.metrics?.tokensPerSecond, powerW: l.metrics?.powerW, energyPerTokenJ: l.metrics?.energyPerTokenJ } };
    }),
  }));
}

const g = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toPrecision(3));

/** Direction of a change: +1, -1 or 0 (within 1%). */
const dir = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? NaN : Math.abs(b / a - 1) < 0.01 ? 0 : Math.sign(b - a));

export function renderSensitivity(rows: readonly SensitivityRow[], name: string): string {
  const sim = rows.some((r) => r.points.some((p) => p.simulated));
  const lines = [`sensitivity around ${name}: each dimension moved alone (first value = the design's)`, '', `  ${'dimension'.padEnd(28)} ${'value'.padStart(13)} ${'tok/s pred'.padStart(11)}${sim ? ` ${'sim'.padStart(9)}` : ''} ${'W pred'.padStart(9)}${sim ? ` ${'sim'.padStart(9)}` : ''} ${'J/tok pred'.padStart(10)}${sim ? ` ${'sim'.padStart(9)}` : ''}`];
  let agree = 0;
  let judged = 0;
  for (const r of rows) {
    r.points.forEach((p, i) => {
      const s = p.simulated;
      lines.push(`  ${(i === 0 ? r.dimension : '').padEnd(28)} ${String(p.value).padStart(13)} ${g(p.predicted.tokensPerSecond).padStart(11)}${sim ? ` ${g(s?.tokensPerSecond).padStart(9)}` : ''} ${g(p.predicted.powerW).padStart(9)}${sim ? ` ${g(s?.powerW).padStart(9)}` : ''} ${g(p.predicted.energyPerTokenJ).padStart(10)}${sim ? ` ${g(s?.energyPerTokenJ).padStart(9)}` : ''}`);
      if (i > 0 && s && r.points[0].simulated) {
        for (const m of ['tokensPerSecond', 'powerW', 'energyPerTokenJ'] as const) {
          const ds = dir(r.points[0].simulated[m], s[m]);
          if (Number.isNaN(ds)) continue;
          judged++;
          if (ds === dir(r.points[0].predicted[m], p.predicted[m])) agree++;
        }
      }
    });
  }
  if (judged) lines.push('', `  the surrogate moves the same way as the simulator (up, down, or within 1%) in ${agree} of ${judged} cases (${((100 * agree) / judged).toFixed(0)}%)`);
  return `${lines.join('\n')}\n`;
}
