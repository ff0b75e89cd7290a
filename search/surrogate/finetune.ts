import { Rng } from '../../sim/random/rng.js';
import { Adam, Mlp } from '../nn/mlp.js';
import type { LabelRecord } from '../label/job.js';
import type { FeatureContext } from './features.js';
import { FEATURE_COUNT } from './features.js';
import { buildDataset, isTreeFamily, regressionLabels, HEAD_COUNT, trainSurrogate, type SurrogateBundle } from './model.js';

/**
 * Fine-tuning a surrogate on newly simulated labels (the explore command's spot checks,
 * docs/explore.md "Spot checks"). Neural families (`mlp-ensemble`, `mlp-small`) continue
 * training every member from its current weights with Adam for `steps` batches, half of
 * each batch drawn from the new labels and half from all labels (so a handful of new
 * designs moves the model where the search is, without forgetting the rest); the input and
 * output scalers and the interval calibration stay those of the first fit. Tree and bound
 * families have no weights to continue: they are refitted on all the labels.
 */

export interface FineTuneOptions {
  readonly steps: number;
  readonly batch: number;
  readonly lr: number;
  readonly seed: number;
}

export const FINE_TUNE_DEFAULTS: FineTuneOptions = { steps: 300, batch: 64, lr: 1e-3, seed: 1 };

export function fineTuneSurrogate(b: SurrogateBundle, all: readonly LabelRecord[], fresh: readonly LabelRecord[], ctx: FeatureContext, o: FineTuneOptions = FINE_TUNE_DEFAULTS): SurrogateBundle {
  const allOk = regressionLabels(all);
  const freshOk = regressionLabels(fresh);
  if (isTreeFamily(b.family) || b.family === 'bounds') {
    return trainSurrogate(allOk, ctx, { simulatorVersion: b.simulatorVersion, model: b.model, workload: b.workload, files: b.trainedOn.files }, { family: b.family, seed: o.seed });
  }
  if (freshOk.length === 0) return b;
  const d = FEATURE_COUNT;
  const K = HEAD_COUNT;
  const scaled = (labels: readonly LabelRecord[]) => {
    const ds = buildDataset(labels, ctx);
    const x = new Float32Array(ds.n * d);
    const y = new Float32Array(ds.n * K);
    for (let i = 0; i < ds.n; i++) {
      for (let j = 0; j < d; j++) x[i * d + j] = (ds.x[i * d + j] - b.xMean[j]) / b.xStd[j];
      for (let k = 0; k < K; k++) y[i * K + k] = (ds.y[i * K + k] - b.yMean[k]) / b.yStd[k];
    }
    return { x, y, n: ds.n };
  };
  const A = scaled(allOk);
  const F = scaled(freshOk);
  const members = b.ensemble!.members.map((state, m) => {
    const net = Mlp.fromState(state);
    const opt = new Adam(net.params(), { lr: o.lr, weightDecay: 1e-4, clipNorm: 5 });
    const rng = new Rng(o.seed, `surrogate/fine-tune/${m}`);
    const xb = new Float32Array(o.batch * d);
    const yb = new Float32Array(o.batch * K);
    for (let s = 0; s < o.steps; s++) {
      for (let r = 0; r < o.batch; r++) {
        const src = r % 2 === 0 ? F : A;
        const i = rng.int(0, src.n - 1);
        xb.set(src.x.subarray(i * d, i * d + d), r * d);
        yb.set(src.y.subarray(i * K, i * K + K), r * K);
      }
      const out = net.forward(xb, o.batch, true);
      const dy = new Float32Array(o.batch * K);
      for (let j = 0; j < o.batch * K; j++) dy[j] = 2 * (out[j] - yb[j]);
      net.backward(dy);
      opt.step(1 / (o.batch * K));
    }
    return net.state();
  });
  return { ...b, ensemble: { members }, trainedOn: { ...b.trainedOn, labels: allOk.length } };
}
