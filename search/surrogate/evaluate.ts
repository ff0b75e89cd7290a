import type { LabelRecord } from '../label/job.js';
import { TARGETS, Surrogate, feasibilityProbability, type Prediction } from './model.js';
import { auc, balancedAccuracy, coverage, kendallTau, mape, r2, topRecall } from './metrics.js';

/**
 * `tessera surrogate eval`: the surrogate against held-out labels, overall and per node.
 * Regression targets are judged on the mapping-feasible simulated designs; feasibility
 * under power and area budgets on every non-failed design (infeasible mappings count as
 * infeasible, and the surrogate's mapping verdict is the mapping pass's).
 */

export interface TargetScore {
  readonly n: number;
  readonly mape: number;
  /** R2 of log values (errors are relative). */
  readonly r2: number;
  readonly kendallTau: number;
  readonly top10Recall: number;
  readonly intervalCoverage: number;
}

export interface FeasibilityScore {
  readonly n: number;
  readonly feasibleShare: number;
  readonly accuracy: number;
  readonly balancedAccuracy: number;
  readonly auc: number;
}

export interface EvalGroup {
  readonly targets: Readonly<Record<string, TargetScore>>;
  readonly feasibility: FeasibilityScore;
}

export interface EvalReport {
  readonly model: { readonly family: string; readonly trainedOn: number; readonly simulatorVersion: string };
  readonly labels: number;
  readonly mappingFeasible: number;
  readonly budgets: { readonly powerW: number; readonly areaMm2: number; readonly violatingShare: number };
  readonly overall: EvalGroup;
  readonly perNode: Readonly<Record<string, EvalGroup>>;
  /** Per-design truth and prediction (parity plots). */
  readonly points: readonly { readonly node: number; readonly truth: Readonly<Record<string, number>>; readonly pred: Readonly<Record<string, { value: number; lo: number; hi: number }>> }[];
}

/** Metrics judged: every target plus the PPA score. */
export const EVAL_TARGETS = [...TARGETS.map((t) => ({ name: t.name, higher: t.better === 'higher' })), { name: 'ppaScore', higher: true }];

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

function truthOf(l: LabelRecord): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of TARGETS) out[t.name] = t.get(l.metrics!);
  out.ppaScore = l.metrics!.ppaScore;
  return out;
}

function predOf(p: Prediction): Record<string, { value: number; lo: number; hi: number }> {
  const out: Record<string, { value: number; lo: number; hi: number }> = {};
  for (const t of TARGETS) out[t.name] = p.targets[t.name];
  out.ppaScore = p.ppaScore;
  return out;
}

function group(ok: { l: LabelRecord; p: Prediction }[], all: { l: LabelRecord; p: Prediction }[], budgets: { powerW: number; areaMm2: number }): EvalGroup {
  const targets: Record<string, TargetScore> = {};
  for (const t of EVAL_TARGETS) {
    const truth = ok.map((o) => truthOf(o.l)[t.name]);
    const pr = ok.map((o) => predOf(o.p)[t.name]);
    const v = pr.map((x) => x.value);
    const logTruth = t.name === 'ppaScore' ? truth : truth.map(Math.log);
    const logPred = t.name === 'ppaScore' ? v : v.map(Math.log);
    targets[t.name] = ok.length
      ? { n: ok.length, mape: mape(truth, v), r2: r2(logTruth, logPred), kendallTau: kendallTau(truth, v), top10Recall: topRecall(truth, v, t.higher), intervalCoverage: coverage(truth, pr.map((x) => x.lo), pr.map((x) => x.hi)) }
      : { n: 0, mape: NaN, r2: NaN, kendallTau: NaN, top10Recall: NaN, intervalCoverage: NaN };
  }
  const truthF = all.map((o) => o.l.status === 'ok' && o.l.metrics!.powerW <= budgets.powerW && o.l.metrics!.areaMm2 <= budgets.areaMm2);
  const pF = all.map((o) => feasibilityProbability(o.p, o.l.mapping.feasible, budgets));
  const acc = all.length ? truthF.filter((t, i) => t === pF[i] >= 0.5).length / all.length : NaN;
  return {
    targets,
    feasibility: { n: all.length, feasibleShare: all.length ? truthF.filter(Boolean).length / all.length : NaN, accuracy: acc, balancedAccuracy: balancedAccuracy(truthF, pF), auc: auc(truthF, pF) },
  };
}

/**
 * Evaluate on labels. Budgets default to the 60th percentile of the held-out designs' power
 * and the 80th of their area, so that about 20-60% of mapping-feasible designs violate them.
 */
export function evaluateSurrogate(s: Surrogate, labels: readonly LabelRecord[], budgets?: { powerW?: number; areaMm2?: number }): EvalReport {
  const judged = labels.filter((l) => l.status !== 'failed');
  const preds = s.predict(judged.map((l) => l.design));
  const all = judged.map((l, i) => ({ l, p: preds[i] }));
  const ok = all.filter((o) => o.l.status === 'ok' && o.l.metrics && TARGETS.every((t) => t.get(o.l.metrics!) > 0));
  const b = {
    powerW: budgets?.powerW ?? quantile(ok.map((o) => o.l.metrics!.powerW), 0.6),
    areaMm2: budgets?.areaMm2 ?? quantile(ok.map((o) => o.l.metrics!.areaMm2), 0.8),
  };
  const violating = ok.filter((o) => o.l.metrics!.powerW > b.powerW || o.l.metrics!.areaMm2 > b.areaMm2).length / Math.max(1, ok.length);
  const nodes = [...new Set(judged.map((l) => l.node))].sort((x, y) => x - y);
  const perNode: Record<string, EvalGroup> = {};
  for (const n of nodes) perNode[n] = group(ok.filter((o) => o.l.node === n), all.filter((o) => o.l.node === n), b);
  return {
    model: { family: s.bundle.family, trainedOn: s.bundle.trainedOn.labels, simulatorVersion: s.bundle.simulatorVersion },
    labels: judged.length,
    mappingFeasible: ok.length,
    budgets: { ...b, violatingShare: violating },
    overall: group(ok, all, b),
    perNode,
    points: ok.map((o) => ({ node: o.l.node, truth: truthOf(o.l), pred: predOf(o.p) })),
  };
}

const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '-');

/** The terminal table: one row per target, overall, then feasibility; per node below. */
export function renderEval(r: EvalReport): string {
  const lines: string[] = [];
  lines.push(`surrogate ${r.model.family} (trained on ${r.model.trainedOn} labels) on ${r.labels} held-out labels, ${r.mappingFeasible} mapping-feasible`);
  const table = (g: EvalGroup, title: string) => {
    lines.push('', title, `  ${'target'.padEnd(18)} ${'n'.padStart(5)} ${'MAPE %'.padStart(8)} ${'R2(log)'.padStart(8)} ${'tau'.padStart(7)} ${'top10%'.padStart(7)} ${'cover90'.padStart(8)}`);
    for (const t of EVAL_TARGETS) {
      const s = g.targets[t.name];
      lines.push(`  ${t.name.padEnd(18)} ${String(s.n).padStart(5)} ${f(s.mape, 2).padStart(8)} ${f(s.r2).padStart(8)} ${f(s.kendallTau).padStart(7)} ${f(s.top10Recall, 2).padStart(7)} ${f(s.intervalCoverage, 2).padStart(8)}`);
    }
    const q = g.feasibility;
    lines.push(`  feasibility under budgets: n ${q.n}, feasible ${f(100 * q.feasibleShare, 1)}%, accuracy ${f(100 * q.accuracy, 1)}%, balanced ${f(100 * q.balancedAccuracy, 1)}%, AUC ${f(q.auc)}`);
  };
  lines.push(`budgets: power ${r.budgets.powerW.toPrecision(4)} W, area ${r.budgets.areaMm2.toPrecision(4)} mm2 (${f(100 * r.budgets.violatingShare, 1)}% of mapping-feasible designs violate them)`);
  table(r.overall, 'overall');
  for (const [n, g] of Object.entries(r.perNode)) table(g, `${n} nm`);
  return `${lines.join('\n')}\n`;
}

/** The JSON of `eval --json`: per target mape, r2, kendallTau, top10Recall, intervalCoverage. */
export function evalJson(r: EvalReport): object {
  const { points: _points, ...rest } = r;
  return rest;
}
