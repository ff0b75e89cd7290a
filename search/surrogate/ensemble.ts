import { Rng } from '../../sim/random/rng.js';
import { Adam, Mlp, type MlpState } from '../nn/mlp.js';

/**
 * Deep ensemble of small MLPs (Lakshminarayanan et al. 2017): M networks with different
 * initialisations and batch orders, trained with Adam on the standardised multi-output
 * regression; the prediction is the members' mean and its spread the members' standard
 * deviation (calibrated later against held-out residuals, see model.ts).
 */

export interface EnsembleOptions {
  readonly members: number;
  readonly hidden: readonly number[];
  /** Gradient steps per member (batches), so the cost does not grow with the data. */
  readonly steps: number;
  readonly batch: number;
  readonly lr: number;
  readonly weightDecay: number;
  readonly seed: number;
}

export const ENSEMBLE_DEFAULTS: EnsembleOptions = { members: 3, hidden: [48, 48], steps: 3000, batch: 64, lr: 3e-3, weightDecay: 1e-4, seed: 1 };

export interface EnsembleState {
  readonly members: MlpState[];
}

/** Train on standardised x (n x d) and y (n x k). */
export function fitEnsemble(x: Float32Array, y: Float32Array, n: number, d: number, k: number, o: EnsembleOptions = ENSEMBLE_DEFAULTS, onStep?: (done: number, total: number) => void): EnsembleState {
  const members: MlpState[] = [];
  const total = o.members * o.steps;
  for (let m = 0; m < o.members; m++) {
    const net = new Mlp({ sizes: [d, ...o.hidden, k], activation: 'relu' }, o.seed, `surrogate/ensemble/${m}`);
    const opt = new Adam(net.params(), { lr: o.lr, weightDecay: o.weightDecay, clipNorm: 5 });
    const rng = new Rng(o.seed, `surrogate/ensemble/${m}/batches`);
    const order = Array.from({ length: n }, (_, i) => i);
    let pos = n;
    const xb = new Float32Array(o.batch * d);
    const yb = new Float32Array(o.batch * k);
    for (let s = 0; s < o.steps; s++) {
      // cosine decay of the learning rate to 5% of its start
      opt.lr = o.lr * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * s) / o.steps)));
      const b = Math.min(o.batch, n);
      for (let r = 0; r < b; r++) {
        if (pos >= n) {
          rng.shuffle(order);
          pos = 0;
        }
        const i = order[pos++];
        xb.set(x.subarray(i * d, i * d + d), r * d);
        yb.set(y.subarray(i * k, i * k + k), r * k);
      }
      const out = net.forward(b === o.batch ? xb : xb.subarray(0, b * d), b, true);
      const dy = new Float32Array(b * k);
      for (let j = 0; j < b * k; j++) dy[j] = 2 * (out[j] - yb[j]);
      net.backward(dy);
      opt.step(1 / (b * k));
      if (onStep && (m * o.steps + s) % 200 === 0) onStep(m * o.steps + s, total);
    }
    members.push(net.state());
  }
  return { members };
}

/** Mean and standard deviation over the members (n x k each), standardised units. */
export class EnsemblePredictor {
  private readonly nets: Mlp[];
  constructor(state: EnsembleState) {
    this.nets = state.members.map((s) => Mlp.fromState(s));
  }

  predict(x: Float32Array, n: number): { mean: Float32Array; std: Float32Array } {
    const outs = this.nets.map((net) => net.forward(x, n));
    const len = outs[0].length;
    const mean = new Float32Array(len);
    const std = new Float32Array(len);
    const M = outs.length;
    for (let j = 0; j < len; j++) {
      let s = 0;
      for (let m = 0; m < M; m++) s += outs[m][j];
      const mu = s / M;
      let v = 0;
      for (let m = 0; m < M; m++) v += (outs[m][j] - mu) ** 2;
      mean[j] = mu;
      std[j] = Math.sqrt(v / Math.max(1, M - 1));
    }
    return { mean, std };
  }
}
