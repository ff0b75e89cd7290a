import { Rng } from '../../sim/random/rng.js';
import { Dense, Mlp, type MlpState, type Param } from '../nn/mlp.js';

/**
 * The hybrid policy of the SAC agent, with a mixture-of-experts head (docs/explore.md "SAC").
 *
 *   trunk:   h = GELU MLP(s)                            (obs -> H -> H)
 *   experts: o_k = E_k(h), k = 1..K                      (H -> H/2 -> 10 + 2C each)
 *   gate:    g = softmax(W_g s_gate + b_g)               (paper: g_k = softmax(u_k^T s))
 *   mixture: o = sum_k g_k o_k                           (Jacobs et al. 1991: gated outputs)
 *
 * o holds the 10 logits of the two 5-way mesh-move heads, the C means mu and the C
 * pre-squash log-scales rho of the continuous actions; log sigma = -5 + 3.5 (tanh(rho) + 1)
 * keeps it in [-5, 2] smoothly (CleanRL's bound; the paper clamps to [-20, 2]). The gate
 * sees only the node and workload features (`gateFields`), so experts specialise by node
 * and model while one agent serves every node of a run. The mixture is of the policy's
 * parameters, not of distributions, so log pi stays in closed form. K = 1 is the plain
 * actor (no MoE ablation): no gate, one expert.
 *
 * Sampling: discrete d_j ~ Categorical(softmax(logits_j)); continuous a = tanh(mu + sigma
 * eps), eps ~ N(0, I), with log pi_c(a) = sum_i [log N(eps_i) - log sigma_i - log(1 - a_i^2 + 1e-6)]
 * (the tanh change of variables, Haarnoja et al. 2018 appendix C).
 */

export const LOG_STD_MIN = -5;
export const LOG_STD_MAX = 2;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

export interface ActorSpec {
  readonly obsDim: number;
  readonly contDim: number;
  /** Discrete heads and choices per head (2 x 5). */
  readonly heads: number;
  readonly choices: number;
  readonly hidden: number;
  readonly experts: number;
  readonly gateFields: readonly number[];
}

export interface ActorOutput {
  readonly n: number;
  /** n x heads*choices */
  readonly logits: Float32Array;
  readonly mu: Float32Array;
  /** log sigma after the squash to [LOG_STD_MIN, LOG_STD_MAX]. */
  readonly logStd: Float32Array;
  /** Pre-squash rho (for the backward pass). */
  readonly rho: Float32Array;
  /** n x K gate weights. */
  readonly gates: Float32Array;
}

export interface ActorState {
  readonly spec: ActorSpec;
  readonly trunk: MlpState;
  readonly experts: MlpState[];
  readonly gate?: { readonly w: Float32Array; readonly b: Float32Array };
}

export class MoeActor {
  readonly trunk: Mlp;
  readonly experts: Mlp[];
  readonly gate?: Dense;
  readonly outDim: number;
  /** Cached for backward: expert outputs and the gate input. */
  private expertOut: Float32Array[] = [];
  private last?: ActorOutput;

  constructor(
    readonly spec: ActorSpec,
    seed: number,
    stream = 'sac/actor',
  ) {
    const H = spec.hidden;
    this.outDim = spec.heads * spec.choices + 2 * spec.contDim;
    this.trunk = new Mlp({ sizes: [spec.obsDim, H, H], activation: 'gelu', output: 'gelu' }, seed, `${stream}/trunk`);
    this.experts = Array.from({ length: spec.experts }, (_, k) => new Mlp({ sizes: [H, Math.max(8, H >> 1), this.outDim], activation: 'gelu' }, seed, `${stream}/expert/${k}`));
    for (const e of this.experts) {
      // small initial outputs: near-uniform mesh moves, mu ~ 0, sigma ~ e^-1.5
      const last = e.layers[e.layers.length - 1];
      for (let i = 0; i < last.w.length; i++) last.w[i] *= 0.1;
    }
    if (spec.experts > 1) this.gate = new Dense(spec.gateFields.length, spec.experts, new Rng(seed, `${stream}/gate`), 0.1);
  }

  params(): Param[] {
    const ps = [...this.trunk.params(), ...this.experts.flatMap((e) => e.params())];
    if (this.gate) ps.push({ value: this.gate.w, grad: this.gate.gw }, { value: this.gate.b, grad: this.gate.gb });
    return ps;
  }

  private gateInput(obs: Float32Array, n: number): Float32Array {
    const f = this.spec.gateFields;
    const D = this.spec.obsDim;
    const x = new Float32Array(n * f.length);
    for (let i = 0; i < n; i++) for (let j = 0; j < f.length; j++) x[i * f.length + j] = obs[i * D + f[j]];
    return x;
  }

  /** Policy parameters for n observations; `train` keeps what `backward` needs. */
  forward(obs: Float32Array, n: number, train = false): ActorOutput {
    const K = this.spec.experts;
    const h = this.trunk.forward(obs, n, train);
    const outs = this.experts.map((e) => e.forward(h, n, train));
    const gates = new Float32Array(n * K);
    if (this.gate) {
      const z = this.gate.forward(this.gateInput(obs, n), n, train);
      for (let i = 0; i < n; i++) {
        let mx = -Infinity;
        for (let k = 0; k < K; k++) mx = Math.max(mx, z[i * K + k]);
        let s = 0;
        for (let k = 0; k < K; k++) s += gates[i * K + k] = Math.exp(z[i * K + k] - mx);
        for (let k = 0; k < K; k++) gates[i * K + k] /= s;
      }
    } else gates.fill(1);
    const O = this.outDim;
    const mixed = new Float32Array(n * O);
    for (let k = 0; k < K; k++) {
      const o = outs[k];
      for (let i = 0; i < n; i++) {
        const g = gates[i * K + k];
        for (let j = 0; j < O; j++) mixed[i * O + j] += g * o[i * O + j];
      }
    }
    const L = this.spec.heads * this.spec.choices;
    const C = this.spec.contDim;
    const logits = new Float32Array(n * L);
    const mu = new Float32Array(n * C);
    const rho = new Float32Array(n * C);
    const logStd = new Float32Array(n * C);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < L; j++) logits[i * L + j] = mixed[i * O + j];
      for (let j = 0; j < C; j++) {
        mu[i * C + j] = mixed[i * O + L + j];
        const r = mixed[i * O + L + C + j];
        rho[i * C + j] = r;
        logStd[i * C + j] = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (Math.tanh(r) + 1);
      }
    }
    const out = { n, logits, mu, logStd, rho, gates };
    if (train) {
      this.expertOut = outs;
      this.last = out;
    }
    return out;
  }

  /**
   * Backpropagate dJ/dlogits, dJ/dmu, dJ/dlogStd (after the squash) and dJ/dgates (the
   * load-balancing loss) of the last training forward pass into the parameters' gradients.
   */
  backward(dLogits: Float32Array, dMu: Float32Array, dLogStd: Float32Array, dGatesExtra?: Float32Array): void {
    const out = this.last!;
    const { n, gates, rho } = out;
    const K = this.spec.experts;
    const L = this.spec.heads * this.spec.choices;
    const C = this.spec.contDim;
    const O = this.outDim;
    const dMixed = new Float32Array(n * O);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < L; j++) dMixed[i * O + j] = dLogits[i * L + j];
      for (let j = 0; j < C; j++) {
        dMixed[i * O + L + j] = dMu[i * C + j];
        const t = Math.tanh(rho[i * C + j]);
        dMixed[i * O + L + C + j] = dLogStd[i * C + j] * 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (1 - t * t);
      }
    }
    // o = sum_k g_k o_k: dJ/do_k = g_k dJ/do; dJ/dg_k = <dJ/do, o_k> (+ the balance loss term)
    let dh: Float32Array | undefined;
    const dGates = new Float32Array(n * K);
    for (let k = 0; k < K; k++) {
      const ok = this.expertOut[k];
      const dOk = new Float32Array(n * O);
      for (let i = 0; i < n; i++) {
        const g = gates[i * K + k];
        let dot = 0;
        for (let j = 0; j < O; j++) {
          dOk[i * O + j] = g * dMixed[i * O + j];
          dot += dMixed[i * O + j] * ok[i * O + j];
        }
        dGates[i * K + k] = dot + (dGatesExtra ? dGatesExtra[i * K + k] : 0);
      }
      const dhk = this.experts[k].backward(dOk);
      if (!dh) dh = dhk;
      else for (let j = 0; j < dh.length; j++) dh[j] += dhk[j];
    }
    this.trunk.backward(dh!);
    if (this.gate) {
      // softmax: dJ/dz_k = g_k (dJ/dg_k - sum_j g_j dJ/dg_j)
      const dz = new Float32Array(n * K);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += gates[i * K + k] * dGates[i * K + k];
        for (let k = 0; k < K; k++) dz[i * K + k] = gates[i * K + k] * (dGates[i * K + k] - s);
      }
      this.gate.backward(dz);
    }
  }

  state(): ActorState {
    return { spec: this.spec, trunk: this.trunk.state(), experts: this.experts.map((e) => e.state()), gate: this.gate ? { w: Float32Array.from(this.gate.w), b: Float32Array.from(this.gate.b) } : undefined };
  }

  static fromState(s: ActorState): MoeActor {
    const a = new MoeActor(s.spec, 1);
    a.trunk.copyFrom(Mlp.fromState(s.trunk));
    s.experts.forEach((e, k) => a.experts[k].copyFrom(Mlp.fromState(e)));
    if (a.gate && s.gate) {
      a.gate.w.set(s.gate.w);
      a.gate.b.set(s.gate.b);
    }
    return a;
  }
}

/** Softmax of each `choices`-wide head of row-major logits: probabilities and log-probabilities. */
export function headSoftmax(logits: Float32Array, n: number, heads: number, choices: number): { p: Float32Array; logp: Float32Array } {
  const p = new Float32Array(logits.length);
  const logp = new Float32Array(logits.length);
  for (let i = 0; i < n; i++) {
    for (let h = 0; h < heads; h++) {
      const o = (i * heads + h) * choices;
      let mx = -Infinity;
      for (let c = 0; c < choices; c++) mx = Math.max(mx, logits[o + c]);
      let s = 0;
      for (let c = 0; c < choices; c++) s += Math.exp(logits[o + c] - mx);
      const lse = mx + Math.log(s);
      for (let c = 0; c < choices; c++) {
        logp[o + c] = logits[o + c] - lse;
        p[o + c] = Math.exp(logp[o + c]);
      }
    }
  }
  return { p, logp };
}

export interface SampledContinuous {
  /** tanh-squashed actions in (-1, 1), n x C. */
  readonly a: Float32Array;
  /** The noise used, n x C (the reparameterisation). */
  readonly eps: Float32Array;
  /** log pi_c(a | s) per row. */
  readonly logPi: Float32Array;
}

/** a = tanh(mu + sigma eps) with log pi_c (eps from `rng`; eps = 0 gives the mean action). */
export function sampleContinuous(out: ActorOutput, C: number, rng: Rng | null): SampledContinuous {
  const { n, mu, logStd } = out;
  const a = new Float32Array(n * C);
  const eps = new Float32Array(n * C);
  const logPi = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let lp = 0;
    for (let j = 0; j < C; j++) {
      const e = rng ? rng.normal() : 0;
      const u = mu[i * C + j] + Math.exp(logStd[i * C + j]) * e;
      const t = Math.tanh(u);
      a[i * C + j] = t;
      eps[i * C + j] = e;
      lp += -0.5 * e * e - HALF_LOG_2PI - logStd[i * C + j] - Math.log(1 - t * t + 1e-6);
    }
    logPi[i] = lp;
  }
  return { a, eps, logPi };
}
