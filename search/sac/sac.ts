import type { Rng } from '../../sim/random/rng.js';
import { Adam, Mlp, type AdamState, type MlpState, type Param } from '../nn/mlp.js';
import { headSoftmax, MoeActor, sampleContinuous, type ActorState } from './actor.js';
import { PrioritizedReplay, type Batch, type ReplayState } from './replay.js';
import { mpcAction, WorldModel } from './worldModel.js';

/**
 * Soft Actor-Critic for the hybrid design action (docs/explore.md "SAC"), in CleanRL's
 * manner: the arguments first, then the agent, each loss beside its equation. Pieces:
 * twin Q networks with Polyak target copies, automatic entropy tuning for the continuous
 * and the discrete part, prioritised replay, the mixture-of-experts actor, epsilon-greedy
 * warm-up, and an optional world model with MPC look-ahead. Every piece can be switched
 * off (the ablations).
 *
 * Hybrid SAC (Delalleau et al. 2019; Christodoulou 2019 for the discrete part): the critic
 * Q(s, a_c) outputs one value per joint mesh move d = (d_rows, d_cols) (25), so the
 * expectation over the discrete policy is exact and only the continuous part is sampled.
 */

// ---------------------------------------------------------------- arguments
export interface SacArgs {
  /** Hidden units of the actor trunk and of each critic layer (paper: 256). */
  readonly hidden: number;
  /** Transitions per gradient update (paper: 256). */
  readonly batch: number;
  /** Gradient updates per environment step (paper: 1); fractions accumulate. */
  readonly updatesPerStep: number;
  /** Learning rate of actor, critics and temperatures (paper: 3e-4). */
  readonly lr: number;
  /** Discount gamma (paper: 0.99). */
  readonly gamma: number;
  /** Polyak coefficient of the target critics (paper: 0.005). */
  readonly tau: number;
  /** Initial temperature alpha (paper: 0.2), for both parts. */
  readonly alphaInit: number;
  /** Learning rate of the temperatures' log alpha (CleanRL: q_lr, 1e-3). */
  readonly alphaLr: number;
  /** Target entropy of the continuous part as a multiple of -C (paper: -30 for 30 dims, i.e. 1). */
  readonly targetEntropyScale: number;
  /** Target entropy of the joint mesh move as a share of its maximum ln 25. */
  readonly targetEntropyDiscrete: number;
  /** Prioritised replay (off: uniform replay, unit weights). */
  readonly per: boolean;
  readonly perAlpha: number;
  /** beta is annealed linearly from this to 1 over the run's updates. */
  readonly perBeta0: number;
  readonly replayCapacity: number;
  /** Experts K of the actor (1: no mixture of experts). */
  readonly experts: number;
  /** Weight lambda_lb of the load-balancing loss lambda_lb K sum_k gbar_k^2. */
  readonly loadBalance: number;
  /** Environment steps of uniform random actions before learning starts (paper: 1,000). */
  readonly warmupSteps: number;
  /** epsilon-greedy: a uniform random action with probability epsilon, decayed from start to end. */
  readonly epsilonStart: number;
  readonly epsilonEnd: number;
  /** Learned world model and MPC look-ahead. */
  readonly worldModel: boolean;
  readonly worldModelHidden: number;
  /** MPC runs once the world model has this many updates and epsilon is below `mpcEpsilon` (paper: 0.15). */
  readonly mpcMinUpdates: number;
  readonly mpcEpsilon: number;
}

/**
 * Defaults, sizes chosen by measurement (docs/explore.md "Sizes"): 64-unit layers and
 * batch 64, where the paper's 256 x 256 at batch 256 costs ~20x more per update. One
 * update per environment step (the paper's and CleanRL's ratio) and the temperature at
 * CleanRL's critic rate (1e-3): with a quarter of an update per step and the temperature
 * at 3e-4, a 10,000-step run ended with the policy still near its maximum entropy (docs/explore.md
 * "Diagnosing SAC").
 */
export const SAC_DEFAULTS: SacArgs = {
  hidden: 64,
  batch: 64,
  updatesPerStep: 1,
  lr: 3e-4,
  gamma: 0.99,
  tau: 0.005,
  alphaInit: 0.2,
  alphaLr: 1e-3,
  targetEntropyScale: 1,
  targetEntropyDiscrete: 0.3,
  per: true,
  perAlpha: 0.6,
  perBeta0: 0.4,
  replayCapacity: 100_000,
  experts: 4,
  loadBalance: 0.01,
  warmupSteps: 1000,
  epsilonStart: 0.5,
  epsilonEnd: 0.1,
  worldModel: true,
  worldModelHidden: 64,
  mpcMinUpdates: 500,
  mpcEpsilon: 0.15,
};

/** The paper's sizes (Tables 5-6), `--paper-sizes`. */
export const PAPER_SIZES: Partial<SacArgs> = { hidden: 256, batch: 256, updatesPerStep: 1, worldModelHidden: 128 };

export interface SacDims {
  readonly obsDim: number;
  readonly contDim: number;
  readonly heads: number;
  readonly choices: number;
  readonly gateFields: readonly number[];
}

export interface SacState {
  readonly args: SacArgs;
  readonly dims: SacDims;
  readonly actor: ActorState;
  readonly critics: MlpState[];
  readonly targets: MlpState[];
  readonly optimisers: { readonly actor: AdamState; readonly critics: AdamState[]; readonly alphaC: AdamState; readonly alphaD: AdamState; readonly world?: AdamState };
  readonly logAlpha: { readonly c: number; readonly d: number };
  readonly world?: MlpState;
  readonly worldUpdates: number;
  readonly updates: number;
  readonly replay: ReplayState;
}

export interface UpdateStats {
  readonly criticLoss: number;
  readonly actorLoss: number;
  readonly alphaC: number;
  readonly alphaD: number;
  readonly entropyD: number;
  readonly gateBalance: number;
  /** Mean over the batch of min_k Q_k(s, a_c)[d] at the replayed action, and of the target y. */
  readonly qMean: number;
  readonly targetMean: number;
  /** Mean log pi_c of the actor's fresh samples (minus the continuous entropy). */
  readonly logPiMean: number;
}

/** How an action was chosen, with the policy's pre-squash parameters when it came from the policy. */
export interface ActInfo {
  readonly discrete: [number, number];
  readonly continuous: Float32Array;
  readonly mpc: boolean;
  readonly source: 'random' | 'policy';
  /** Pre-tanh mean and log sigma of the continuous part (policy actions only). */
  readonly mu?: Float32Array;
  readonly logStd?: Float32Array;
}

const scalar = (x: number): Param => ({ value: Float32Array.of(x), grad: new Float32Array(1) });

// ---------------------------------------------------------------- agent
export class SacAgent {
  readonly actor: MoeActor;
  readonly critics: Mlp[];
  readonly targets: Mlp[];
  readonly replay: PrioritizedReplay;
  readonly world?: WorldModel;
  private readonly actorOpt: Adam;
  private readonly criticOpts: Adam[];
  private readonly logAlphaC: Param;
  private readonly logAlphaD: Param;
  private readonly alphaCOpt: Adam;
  private readonly alphaDOpt: Adam;
  /** Gradient updates done. */
  updates = 0;
  readonly joint: number;

  constructor(
    readonly args: SacArgs,
    readonly dims: SacDims,
    seed: number,
    state?: SacState,
  ) {
    const { obsDim: D, contDim: C, heads, choices } = dims;
    this.joint = choices ** heads;
    this.actor = state ? MoeActor.fromState(state.actor) : new MoeActor({ obsDim: D, contDim: C, heads, choices, hidden: args.hidden, experts: args.experts, gateFields: dims.gateFields }, seed);
    const critic = (k: number) => new Mlp({ sizes: [D + C, args.hidden, args.hidden, this.joint], activation: 'gelu' }, seed, `sac/critic/${k}`);
    this.critics = state ? state.critics.map((s) => Mlp.fromState(s)) : [critic(0), critic(1)];
    this.targets = state ? state.targets.map((s) => Mlp.fromState(s)) : this.critics.map((q) => Mlp.fromState(q.state()));
    this.replay = state ? PrioritizedReplay.fromState(state.replay, args.per ? args.perAlpha : 0) : new PrioritizedReplay(args.replayCapacity, D, C, args.per ? args.perAlpha : 0);
    this.actorOpt = new Adam(this.actor.params(), { lr: args.lr });
    this.criticOpts = this.critics.map((q) => new Adam(q.params(), { lr: args.lr }));
    this.logAlphaC = scalar(state ? state.logAlpha.c : Math.log(args.alphaInit));
    this.logAlphaD = scalar(state ? state.logAlpha.d : Math.log(args.alphaInit));
    // the paper clips the temperature's gradient to [-1, 1]
    this.alphaCOpt = new Adam([this.logAlphaC], { lr: args.alphaLr, clipNorm: 1 });
    this.alphaDOpt = new Adam([this.logAlphaD], { lr: args.alphaLr, clipNorm: 1 });
    if (args.worldModel) this.world = new WorldModel({ obsDim: D, discDim: heads * choices, contDim: C, hidden: args.worldModelHidden }, seed, args.lr / 2, state?.world);
    if (state) {
      this.actorOpt.load(state.optimisers.actor);
      state.optimisers.critics.forEach((s, k) => this.criticOpts[k].load(s));
      this.alphaCOpt.load(state.optimisers.alphaC);
      this.alphaDOpt.load(state.optimisers.alphaD);
      if (this.world && state.optimisers.world) this.world.opt.load(state.optimisers.world);
      if (this.world) this.world.updates = state.worldUpdates;
      this.updates = state.updates;
    }
  }

  get alphaC(): number {
    return Math.exp(this.logAlphaC.value[0]);
  }

  get alphaD(): number {
    return Math.exp(this.logAlphaD.value[0]);
  }

  /** Q inputs [s; a_c] for n rows. */
  private qInput(obs: Float32Array, cont: Float32Array, n: number): Float32Array {
    const { obsDim: D, contDim: C } = this.dims;
    const x = new Float32Array(n * (D + C));
    for (let i = 0; i < n; i++) {
      x.set(obs.subarray(i * D, i * D + D), i * (D + C));
      x.set(cont.subarray(i * C, i * C + C), i * (D + C) + D);
    }
    return x;
  }

  /**
   * The action for one observation: uniform random with probability epsilon (and always
   * during warm-up), else drawn from the policy (its mean when `greedy`); MPC refines the
   * continuous part when the world model is ready and epsilon has fallen below its bar.
   */
  act(obs: Float32Array, epsilon: number, rng: Rng, greedy = false): ActInfo {
    const { contDim: C, choices } = this.dims;
    if (rng.next() < epsilon) {
      return { discrete: [rng.int(0, choices - 1), rng.int(0, choices - 1)], continuous: Float32Array.from({ length: C }, () => 2 * rng.next() - 1), mpc: false, source: 'random' };
    }
    const out = this.actor.forward(obs, 1);
    const { p } = headSoftmax(out.logits, 1, 2, choices);
    const pick = (h: number) => {
      if (greedy) {
        let best = 0;
        for (let c = 1; c < choices; c++) if (p[h * choices + c] > p[h * choices + best]) best = c;
        return best;
      }
      let u = rng.next();
      for (let c = 0; c < choices; c++) if ((u -= p[h * choices + c]) < 0) return c;
      return choices - 1;
    };
    const discrete: [number, number] = [pick(0), pick(1)];
    let continuous = sampleContinuous(out, C, greedy ? null : rng).a;
    const useMpc = !!this.world && this.world.updates >= this.args.mpcMinUpdates && epsilon < this.args.mpcEpsilon;
    if (useMpc) continuous = mpcAction(obs, discrete, continuous, this.actor, this.world!, this.args.gamma, rng);
    return { discrete, continuous, mpc: useMpc, source: 'policy', mu: out.mu, logStd: out.logStd };
  }

  /** One gradient update of critics, actor, temperatures, targets (and world model); `progress` in [0, 1] anneals beta. */
  update(progress: number, rng: Rng): UpdateStats {
    const a = this.args;
    const beta = a.perBeta0 + (1 - a.perBeta0) * Math.min(1, progress);
    const b = this.replay.sample(a.batch, beta, rng);
    const { loss: criticLoss, qMean, targetMean } = this.updateCritics(b, rng);
    const { actorLoss, logPiMean, entropyD, gateBalance } = this.updateActor(b, rng);
    this.updateTemperatures(logPiMean, entropyD);
    // Polyak averaging of the targets: theta_bar <- tau theta + (1 - tau) theta_bar
    this.targets.forEach((t, k) => t.copyFrom(this.critics[k], a.tau));
    if (this.world) this.world.train(this.replay, a.batch, rng, this.dims.choices);
    this.updates++;
    return { criticLoss, actorLoss, alphaC: this.alphaC, alphaD: this.alphaD, entropyD, gateBalance, qMean, targetMean, logPiMean };
  }

  /**
   * Critic loss (twin Q, soft Bellman target, importance-weighted):
   *   y = r + gamma ( sum_d p'(d) [min_k Qbar_k(s', a_c')[d] - alpha_d log p'(d)] - alpha_c log pi_c(a_c' | s') )
   *   L_Q = (1/n) sum_i w_i sum_k (Q_k(s_i, a_c,i)[d_i] - y_i)^2
   * and the new priorities from |delta| = mean_k |Q_k - y|.
   */
  private updateCritics(b: Batch, rng: Rng): { loss: number; qMean: number; targetMean: number } {
    const { n } = b;
    const { contDim: C, choices } = this.dims;
    const J = this.joint;
    const next = this.actor.forward(b.nextObs, n);
    const { p, logp } = headSoftmax(next.logits, n, 2, choices);
    const nc = sampleContinuous(next, C, rng);
    const xNext = this.qInput(b.nextObs, nc.a, n);
    const t1 = this.targets[0].forward(xNext, n);
    const t2 = this.targets[1].forward(xNext, n);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let d1 = 0; d1 < choices; d1++) {
        for (let d2 = 0; d2 < choices; d2++) {
          const pj = p[(2 * i) * choices + d1] * p[(2 * i + 1) * choices + d2];
          const d = d1 * choices + d2;
          v += pj * (Math.min(t1[i * J + d], t2[i * J + d]) - this.alphaD * (logp[(2 * i) * choices + d1] + logp[(2 * i + 1) * choices + d2]));
        }
      }
      y[i] = b.reward[i] + this.args.gamma * (v - this.alphaC * nc.logPi[i]);
    }
    const x = this.qInput(b.obs, b.cont, n);
    const td = new Float32Array(n);
    const qMin = new Float64Array(n).fill(Infinity);
    let loss = 0;
    this.critics.forEach((q, k) => {
      const out = q.forward(x, n, true);
      const dy = new Float32Array(n * J);
      for (let i = 0; i < n; i++) {
        const d = b.disc[2 * i] * choices + b.disc[2 * i + 1];
        qMin[i] = Math.min(qMin[i], out[i * J + d]);
        const e = out[i * J + d] - y[i];
        dy[i * J + d] = (2 * b.weights[i] * e) / n;
        loss += (b.weights[i] * e * e) / n;
        td[i] += Math.abs(e) / 2;
      }
      q.backward(dy);
      this.criticOpts[k].step(1);
    });
    this.replay.updatePriorities(b.indices, td);
    return { loss, qMean: qMin.reduce((t, v) => t + v, 0) / n, targetMean: y.reduce((t, v) => t + v, 0) / n };
  }

  /**
   * Actor loss (reparameterised continuous part, exact expectation over the mesh moves):
   *   J_pi = (1/n) sum_i [ alpha_c log pi_c(a~_i | s_i) + sum_d p(d | s_i) (alpha_d log p(d | s_i) - min_k Q_k(s_i, a~_i)[d]) ]
   *          + lambda_lb K sum_k gbar_k^2         (gbar_k: mean gate weight of expert k over the batch)
   * with a~ = tanh(mu + sigma eps). Its gradient flows into a~ through the critics' input
   * gradient and into mu, log sigma and the logits in closed form.
   */
  private updateActor(b: Batch, rng: Rng): { actorLoss: number; logPiMean: number; entropyD: number; gateBalance: number } {
    const r = this.actorGradients(b, rng);
    this.actorOpt.step(1);
    return r;
  }

  /** J_pi on a batch with its gradient left in the actor's parameters (the critics' cleared); tests check it by finite differences. */
  actorGradients(b: Batch, rng: Rng): { actorLoss: number; logPiMean: number; entropyD: number; gateBalance: number } {
    const { n } = b;
    const { obsDim: D, contDim: C, choices } = this.dims;
    const J = this.joint;
    const K = this.args.experts;
    const out = this.actor.forward(b.obs, n, true);
    const { p, logp } = headSoftmax(out.logits, n, 2, choices);
    const sc = sampleContinuous(out, C, rng);
    const x = this.qInput(b.obs, sc.a, n);
    const q1 = this.critics[0].forward(x, n, true);
    const q2 = this.critics[1].forward(x, n, true);
    const dq1 = new Float32Array(n * J);
    const dq2 = new Float32Array(n * J);
    const dLogits = new Float32Array(n * 2 * choices);
    const aD = this.alphaD;
    const aC = this.alphaC;
    let loss = 0;
    let logPiMean = 0;
    let entropyD = 0;
    const g1 = new Float64Array(choices);
    const g2 = new Float64Array(choices);
    for (let i = 0; i < n; i++) {
      const o1 = 2 * i * choices;
      const o2 = (2 * i + 1) * choices;
      for (let c = 0; c < choices; c++) {
        g1[c] = aD * (logp[o1 + c] + 1);
        g2[c] = aD * (logp[o2 + c] + 1);
      }
      for (let d1 = 0; d1 < choices; d1++) {
        for (let d2 = 0; d2 < choices; d2++) {
          const d = d1 * choices + d2;
          const m = Math.min(q1[i * J + d], q2[i * J + d]);
          const pj = p[o1 + d1] * p[o2 + d2];
          loss += (pj * (aD * (logp[o1 + d1] + logp[o2 + d2]) - m)) / n;
          (q1[i * J + d] <= q2[i * J + d] ? dq1 : dq2)[i * J + d] = -pj / n;
          g1[d1] -= p[o2 + d2] * m;
          g2[d2] -= p[o1 + d1] * m;
        }
      }
      // softmax: dJ/dlogit_c = p_c (G_c - sum_j p_j G_j)
      let s1 = 0;
      let s2 = 0;
      for (let c = 0; c < choices; c++) {
        s1 += p[o1 + c] * g1[c];
        s2 += p[o2 + c] * g2[c];
        entropyD -= (p[o1 + c] * logp[o1 + c] + p[o2 + c] * logp[o2 + c]) / n;
      }
      for (let c = 0; c < choices; c++) {
        dLogits[o1 + c] = (p[o1 + c] * (g1[c] - s1)) / n;
        dLogits[o2 + c] = (p[o2 + c] * (g2[c] - s2)) / n;
      }
      loss += (aC * sc.logPi[i]) / n;
      logPiMean += sc.logPi[i] / n;
    }
    const dx1 = this.critics[0].backward(dq1);
    const dx2 = this.critics[1].backward(dq2);
    const dMu = new Float32Array(n * C);
    const dLogStd = new Float32Array(n * C);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < C; j++) {
        const t = sc.a[i * C + j];
        const dA = dx1[i * (D + C) + D + j] + dx2[i * (D + C) + D + j];
        const sigmaEps = Math.exp(out.logStd[i * C + j]) * sc.eps[i * C + j];
        const jac = 1 - t * t; // da/du
        const k = (2 * t * jac) / (jac + 1e-6); // d(-log(1 - a^2 + 1e-6))/du
        dMu[i * C + j] = (aC * k) / n + dA * jac;
        dLogStd[i * C + j] = (aC * (-1 + k * sigmaEps)) / n + dA * jac * sigmaEps;
      }
    }
    // load balancing: lambda_lb K sum_k gbar_k^2, d/dg_ik = 2 lambda_lb K gbar_k / n
    let gateBalance = 1;
    let dGates: Float32Array | undefined;
    if (K > 1) {
      const gbar = new Float64Array(K);
      for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) gbar[k] += out.gates[i * K + k] / n;
      gateBalance = K * gbar.reduce((s, g) => s + g * g, 0);
      loss += this.args.loadBalance * gateBalance;
      dGates = new Float32Array(n * K);
      for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) dGates[i * K + k] = (2 * this.args.loadBalance * K * gbar[k]) / n;
    }
    this.actor.backward(dLogits, dMu, dLogStd, dGates);
    // the critics' parameter gradients from this pass are not theirs to apply
    this.critics.forEach((q) => q.zeroGrad());
    return { actorLoss: loss, logPiMean, entropyD, gateBalance };
  }

  /**
   * Temperatures (automatic entropy tuning), on log alpha, gradients clipped to [-1, 1]:
   *   L(alpha_c) = -alpha_c (E[log pi_c] + H_c),   H_c = -scale x C
   *   L(alpha_d) =  alpha_d (H(p) - H_d),          H_d = share x ln 25
   * log alpha is bounded to [-10, 10] (paper).
   */
  private updateTemperatures(logPiMean: number, entropyD: number): void {
    const Hc = -this.args.targetEntropyScale * this.dims.contDim;
    const Hd = this.args.targetEntropyDiscrete * Math.log(this.joint);
    this.logAlphaC.grad[0] = -this.alphaC * (logPiMean + Hc);
    this.alphaCOpt.step(1);
    this.logAlphaD.grad[0] = this.alphaD * (entropyD - Hd);
    this.alphaDOpt.step(1);
    for (const la of [this.logAlphaC, this.logAlphaD]) la.value[0] = Math.min(10, Math.max(-10, la.value[0]));
  }

  state(): SacState {
    return {
      args: this.args,
      dims: this.dims,
      actor: this.actor.state(),
      critics: this.critics.map((q) => q.state()),
      targets: this.targets.map((q) => q.state()),
      optimisers: { actor: this.actorOpt.state(), critics: this.criticOpts.map((o) => o.state()), alphaC: this.alphaCOpt.state(), alphaD: this.alphaDOpt.state(), world: this.world?.opt.state() },
      logAlpha: { c: this.logAlphaC.value[0], d: this.logAlphaD.value[0] },
      world: this.world?.net.state(),
      worldUpdates: this.world?.updates ?? 0,
      updates: this.updates,
      replay: this.replay.state(),
    };
  }
}

/** epsilon of episode e out of E: geometric decay from start to end over the first 60% of episodes (then flat). */
export function epsilonAt(args: SacArgs, episode: number, episodes: number): number {
  const span = Math.max(1, 0.6 * episodes);
  const f = Math.min(1, episode / span);
  return args.epsilonStart * (args.epsilonEnd / args.epsilonStart) ** f;
}

