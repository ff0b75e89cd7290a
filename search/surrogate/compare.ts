import type { Design } from '../../sim/design/design.js';
import type { ProcessNodeNm } from '../../sim/tech/nodes.js';
import type { LabelRecord } from '../label/job.js';
import { runLabelJob } from '../label/job.js';
import type { FeatureContext } from './features.js';
import { FAMILIES, Surrogate, trainSurrogate, type Family, type SurrogateBundle } from './model.js';
import { EVAL_TARGETS, evaluateSurrogate, type EvalReport } from './evaluate.js';

/**
 * The accuracy measurement (`tessera surrogate compare`, docs/search.md "Accuracy"): every
 * family trained on the same labels and judged on the same held-out labels, plus an
 * out-of-sample table on designs the caller names (presets, hand-made designs outside the
 * sampler's box), each simulated on the label workload.
 */

export interface FamilyResult {
  readonly family: Family;
  readonly trainSeconds: number;
  readonly report: EvalReport;
  readonly bundle: SurrogateBundle;
}

export function compareOnHeldOut(train: readonly LabelRecord[], heldOut: readonly LabelRecord[], ctx: FeatureContext, meta: Parameters<typeof trainSurrogate>[2], families: readonly Family[] = FAMILIES, onFamily?: (f: Family) => void): FamilyResult[] {
  return families.map((family) => {
    onFamily?.(family);
    const bundle = trainSurrogate(train, ctx, meta, { family });
    return { family, trainSeconds: bundle.trainedOn.seconds, report: evaluateSurrogate(new Surrogate(bundle, ctx), heldOut), bundle };
  });
}

/** Out-of-sample designs: each simulated once, every family's prediction beside it. */
export function outOfSample(results: readonly FamilyResult[], designs: readonly Design[], ctx: FeatureContext, onSimulated?: () => void): LabelRecord[] {
  return designs.map((design, i) => {
    const l = runLabelJob({ runId: 'out-of-sample', index: i, design, settings: { modelName: ctx.card.name, card: ctx.card, nodes: [design.processNodeNm as ProcessNodeNm], seed: 1, fidelity: 'fast', workload: ctx.workload.name, eventLimit: 0, tech: ctx.tech } });
    onSimulated?.();
    return l;
  });
}

const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

/** Markdown: one table per family (overall), the acceptance figures as columns. */
export function compareMarkdown(results: readonly FamilyResult[], title: string): string {
  const lines = [`### ${title}`, ''];
  lines.push('| family | trained (s) | target | n | MAPE % | R2 (log) | Kendall tau | top-10% recall | 90% coverage |', '|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    for (const t of EVAL_TARGETS) {
      const s = r.report.overall.targets[t.name];
      lines.push(`| ${r.family} | ${f(r.trainSeconds, 1)} | ${t.name} | ${s.n} | ${f(s.mape)} | ${f(s.r2, 3)} | ${f(s.kendallTau, 3)} | ${f(s.top10Recall)} | ${f(s.intervalCoverage)} |`);
    }
  }
  lines.push('', '| family | node | feasibility n | feasible % | balanced accuracy % | AUC | tokens/s MAPE % | power MAPE % | energy MAPE % | PPA tau |', '|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    for (const [node, g] of [['all', r.report.overall] as const, ...Object.entries(r.report.perNode)]) {
      const q = g.feasibility;
      const t = g.targets;
      lines.push(`| ${r.family} | ${node} | ${q.n} | ${f(100 * q.feasibleShare, 1)} | ${f(100 * q.balancedAccuracy, 1)} | ${f(q.auc, 3)} | ${f(t.tokensPerSecond.mape)} | ${f(t.powerW.mape)} | ${f(t.energyPerTokenJ.mape)} | ${f(t.ppaScore.kendallTau, 3)} |`);
    }
  }
  const b = results[0]?.report.budgets;
  if (b) lines.push('', `Budgets: power ${b.powerW.toPrecision(4)} W, area ${b.areaMm2.toPrecision(4)} mm2; ${f(100 * b.violatingShare, 1)}% of mapping-feasible held-out designs violate them.`);
  return `${lines.join('\n')}\n`;
}

/** Markdown rows of the out-of-sample table: design, simulated and each family's predictions. */
export function outOfSampleMarkdown(results: readonly FamilyResult[], labels: readonly LabelRecord[], ctx: FeatureContext): string {
  const lines = ['| design | status | metric | simulated | ' + results.map((r) => `${r.family} (error)`).join(' | ') + ' |', `|---|---|---|---|${results.map(() => '---').join('|')}|`];
  const preds = results.map((r) => new Surrogate(r.bundle, ctx).predict(labels.map((l) => l.design)));
  labels.forEach((l, i) => {
    for (const m of ['tokensPerSecond', 'powerW', 'energyPerTokenJ', 'ppaScore'] as const) {
      const sim = l.metrics ? (m === 'ppaScore' ? l.metrics.ppaScore : (l.metrics as any)[m]) : NaN;
      const cells = preds.map((p) => {
        const v = m === 'ppaScore' ? p[i].ppaScore.value : p[i].targets[m].value;
        return l.status === 'ok' ? `${v.toPrecision(4)} (${f((100 * (v - sim)) / Math.abs(sim), 1)}%)` : v.toPrecision(4);
      });
      lines.push(`| ${m === 'tokensPerSecond' ? l.design.name : ''} | ${m === 'tokensPerSecond' ? l.status : ''} | ${m} | ${l.status === 'ok' ? sim.toPrecision(4) : '-'} | ${cells.join(' | ')} |`);
    }
  });
  return `${lines.join('\n')}\n`;
}
