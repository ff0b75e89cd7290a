import { Rng } from '../../sim/random/rng.js';
import type { LabelRecord } from '../label/job.js';
import type { FeatureContext } from './features.js';
import { FAMILIES, Surrogate, trainSurrogate, type Family, type SurrogateBundle, type TrainOptions } from './model.js';
import { evaluateSurrogate, type EvalReport } from './evaluate.js';

/**
 * Choosing the model family by measurement (`tessera surrogate train --family auto`): each
 * learned family is trained on a seeded 80% of the labels and judged on the other 20%;
 * the score is the mean MAPE of tokens/s, power and energy per token plus 100 x (1 -
 * Kendall tau of the PPA score), lower is better. The winner is retrained on all labels.
 */

export const DEFAULT_FAMILY: Family = 'gbdt';

export interface FamilyTrial {
  readonly family: Family;
  readonly score: number;
  readonly report: EvalReport;
  readonly trainSeconds: number;
}

export function selectionScore(r: EvalReport): number {
  const t = r.overall.targets;
  return (t.tokensPerSecond.mape + t.powerW.mape + t.energyPerTokenJ.mape) / 3 + 100 * (1 - t.ppaScore.kendallTau);
}

export function compareFamilies(labels: readonly LabelRecord[], ctx: FeatureContext, meta: Parameters<typeof trainSurrogate>[2], o: Omit<TrainOptions, 'family'>): FamilyTrial[] {
  const rng = new Rng(o.seed ?? 1, 'surrogate/family-split');
  const train: LabelRecord[] = [];
  const test: LabelRecord[] = [];
  for (const l of labels) (rng.next() < 0.8 ? train : test).push(l);
  return FAMILIES.filter((f) => f !== 'bounds').map((family) => {
    const b = trainSurrogate(train, ctx, meta, { ...o, family });
    const report = evaluateSurrogate(new Surrogate(b, ctx), test);
    return { family, score: selectionScore(report), report, trainSeconds: b.trainedOn.seconds };
  });
}

export function trainChosen(labels: readonly LabelRecord[], ctx: FeatureContext, meta: Parameters<typeof trainSurrogate>[2], o: Omit<TrainOptions, 'family'> & { family: Family | 'auto' }): { bundle: SurrogateBundle; trials: FamilyTrial[] } {
  if (o.family !== 'auto') return { bundle: trainSurrogate(labels, ctx, meta, { ...o, family: o.family }), trials: [] };
  const trials = compareFamilies(labels, ctx, meta, o);
  const best = [...trials].sort((a, b) => a.score - b.score)[0];
  return { bundle: trainSurrogate(labels, ctx, meta, { ...o, family: best.family }), trials };
}
