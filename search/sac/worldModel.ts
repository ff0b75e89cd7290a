import { Adam, Mlp, type MlpState } from '../nn/mlp.js';
import type { Rng } from '../../sim/random/rng.js';
import type { PrioritizedReplay } from './replay.js';
import { headSoftmax, sampleContinuous, type MoeActor } from './actor.js';

/**
 * The learned world model and MPC look-ahead (paper-digest section 5; docs/explore.md "MPC").
 *
 * World model: s' = s + f([s; a]) and r^ from the same network, f a GELU MLP
 * (obs + 10 + C -> H -> H -> obs + 1), trained on uniform replay batches with the mean
 * squared error of (s' - s, r / 5), at half the critic's learning rate (paper).
 *
 * MPC: from state s, 64 candidate first actions a0 = clamp(mu_tanh(s) + N(0, 0.3^2), -1, 1)
 * (candidate 0 is the SAC action itself) keep SAC's mesh moves; each is rolled out for a
 * horizon of 5 through the world model, the policy's mean action chosen at every later
 * predicted state, and scored by sum_k gamma^k r^_k. The continuous action taken is the
 * blend 0.7 a0(best) + 0.3 a_SAC; mesh moves stay SAC's (paper). The reward head replaces
 * the paper's fixed r_sur = P_perf - 0.3 P_pwr - 0.2 P_area, so the look-ahead scores
 * candidates by the run's own reward.
 */

export interface WorldModelSpec {
  readonly obsDim: number;
  readonly discDim: number;
  readonly contDim: number;
  readonly hidden: number;
}

export const MPC = { candidates: 64, horizon: 5, noiseSd: 0.3, blendMpc: 0.7 } as const;
const REWARD_SCALE = 5;

export class WorldModel {
  readonly net: Mlp;
  readonly opt: Adam;
  /** Gradient steps taken. */
  updates = 0;
  lastLoss = NaN;

  constructor(
    readonly spec: WorldModelSpec,
    seed: number,
    lr: number,
    state?: MlpState,
  ) {
    this.net = state ? Mlp.fromState(state) : new Mlp({ sizes: [spec.obsDim + spec.discDim + spec.contDim, spec.hidden, spec.hidden, spec.obsDim + 1], activation: 'gelu' }, seed, 'sac/world-model');
    this.opt = new Adam(this.net.params(), { lr, clipNorm: 10 });
  }

  private get inDim(): number {
    return this.spec.obsDim + this.spec.discDim + this.spec.contDim;
  }

  /** Inputs [s; onehot(d); a_c] for n rows. */
  input(obs: Float32Array, disc: Int32Array, cont: Float32Array, n: number, choices: number): Float32Array {
    const { obsDim: D, discDim: L, contDim: C } = this.spec;
    const x = new Float32Array(n * this.inDim);
    for (let i = 0; i < n; i++) {
      const o = i * this.inDim;
      x.set(obs.subarray(i * D, i * D + D), o);
      for (let h = 0; h < L / choices; h++) x[o + D + h * choices + disc[i * (L / choices) + h]] = 1;
      x.set(cont.subarray(i * C, i * C + C), o + D + L);
    }
    return x;
  }

  /** Predicted next states and rewards for n rows. */
  predict(obs: Float32Array, disc: Int32Array, cont: Float32Array, n: number, choices: number): { next: Float32Array; reward: Float32Array } {
    const D = this.spec.obsDim;
    const y = this.net.forward(this.input(obs, disc, cont, n, choices), n);
    const next = new Float32Array(n * D);
    const reward = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < D; j++) next[i * D + j] = obs[i * D + j] + y[i * (D + 1) + j];
      reward[i] = y[i * (D + 1) + D] * REWARD_SCALE;
    }
    return { next, reward };
  }

  /** One MSE step on a uniform replay batch: targets (s' - s, r / 5). */
  train(replay: PrioritizedReplay, batch: number, rng: Rng, choices: number): void {
    const D = this.spec.obsDim;
    const C = this.spec.contDim;
    const idx = replay.uniformIndices(batch, rng);
    const obs = new Float32Array(batch * D);
    const nextObs = new Float32Array(batch * D);
    const cont = new Float32Array(batch * C);
    const disc = new Int32Array(batch * 2);
    const r = new Float32Array(batch);
    idx.forEach((i, j) => {
      obs.set(replay.obs.subarray(i * D, i * D + D), j * D);
      nextObs.set(replay.nextObs.subarray(i * D, i * D + D), j * D);
      cont.set(replay.cont.subarray(i * C, i * C + C), j * C);
      disc[2 * j] = replay.disc[2 * i];
      disc[2 * j + 1] = replay.disc[2 * i + 1];
      r[j] = replay.reward[i];
    });
    const y = this.net.forward(this.input(obs, disc, cont, batch, choices), batch, true);
    const W = D + 1;
    const dy = new Float32Array(batch * W);
    let loss = 0;
    for (let i = 0; i < batch; i++) {
      for (let j = 0; j < D; j++) {
        const e = y[i * W + j] - (nextObs[i * D + j] - obs[i * D + j]);
        dy[i * W + j] = 2 * e;
        loss += e * e;
      }
      const e = y[i * W + D] - r[i] / REWARD_SCALE;
      dy[i * W + D] = 2 * e;
      loss += e * e;
    }
    this.net.backward(dy);
    this.opt.step(1 / (batch * W));
    this.lastLoss = loss / (batch * W);
    this.updates++;
  }
}

/**
 * MPC over the world model: the blended continuous action (see the file comment), or the
 * SAC action unchanged when the best candidate is SAC's own.
 */
export function mpcAction(obs: Float32Array, sacDisc: readonly [number, number], sacCont: Float32Array, actor: MoeActor, wm: WorldModel, gamma: number, rng: Rng): Float32Array {
  const N = MPC.candidates;
  const D = actor.spec.obsDim;
  const C = actor.spec.contDim;
  const choices = actor.spec.choices;
  const mean = sampleContinuous(actor.forward(obs, 1), C, null).a;
  let states: Float32Array = new Float32Array(N * D);
  const cont = new Float32Array(N * C);
  const disc = new Int32Array(N * 2);
  for (let c = 0; c < N; c++) {
    states.set(obs, c * D);
    disc[2 * c] = sacDisc[0];
    disc[2 * c + 1] = sacDisc[1];
    for (let j = 0; j < C; j++) cont[c * C + j] = c === 0 ? sacCont[j] : Math.min(1, Math.max(-1, mean[j] + MPC.noiseSd * rng.normal()));
  }
  const first = cont.slice();
  const score = new Float64Array(N);
  let a: Float32Array = cont;
  let d: Int32Array = disc;
  for (let k = 0; k < MPC.horizon; k++) {
    const p = wm.predict(states, d, a, N, choices);
    for (let c = 0; c < N; c++) score[c] += gamma ** k * p.reward[c];
    states = p.next;
    if (k + 1 < MPC.horizon) {
      // the policy acts (its mean and most likely moves) at the predicted states
      const out = actor.forward(states, N);
      a = sampleContinuous(out, C, null).a;
      const { p: probs } = headSoftmax(out.logits, N, 2, choices);
      d = new Int32Array(N * 2);
      for (let c = 0; c < N; c++) {
        for (let h = 0; h < 2; h++) {
          let best = 0;
          for (let m = 1; m < choices; m++) if (probs[(c * 2 + h) * choices + m] > probs[(c * 2 + h) * choices + best]) best = m;
          d[c * 2 + h] = best;
        }
      }
    }
  }
  let best = 0;
  for (let c = 1; c < N; c++) if (score[c] > score[best]) best = c;
  const out = new Float32Array(C);
  for (let j = 0; j < C; j++) out[j] = MPC.blendMpc * first[best * C + j] + (1 - MPC.blendMpc) * sacCont[j];
  return out;
}
