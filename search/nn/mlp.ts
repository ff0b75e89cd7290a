import { Rng } from '../../sim/random/rng.js';

/**
 * A small neural-network module (docs/search.md "NN module"): dense layers, a multi-layer
 * perceptron with ReLU, tanh or GELU hidden units, backpropagation that also returns the
 * gradient with respect to the input (what an actor-critic needs for dQ/da), the Adam
 * optimiser and plain-data state for msgpack. Plain Float32Array loops with 4-row register
 * blocking, measured as fast as tfjs-wasm on this machine (shared/reference/ecosystem.md
 * section 4), deterministic, and usable inside worker threads.
 *
 * Layout: a batch of n rows of width w is one Float32Array of n x w, row-major. A layer's
 * weights are [out x in], row-major.
 */

export type Activation = 'relu' | 'tanh' | 'gelu' | 'linear';

export class Dense {
  readonly w: Float32Array;
  readonly b: Float32Array;
  readonly gw: Float32Array;
  readonly gb: Float32Array;
  /** Input of the last forward pass (for backward). */
  private x: Float32Array = new Float32Array(0);
  private n = 0;

  constructor(
    readonly inputs: number,
    readonly outputs: number,
    rng?: Rng,
    /** He/Kaiming uniform bound gain (sqrt(6 / fan_in) for ReLU). */
    gain = Math.sqrt(6),
  ) {
    this.w = new Float32Array(inputs * outputs);
    this.b = new Float32Array(outputs);
    this.gw = new Float32Array(inputs * outputs);
    this.gb = new Float32Array(outputs);
    if (rng) {
      const bound = gain / Math.sqrt(inputs);
      for (let i = 0; i < this.w.length; i++) this.w[i] = (2 * rng.next() - 1) * bound;
    }
  }

  /** y = x W^T + b for n rows. */
  forward(x: Float32Array, n: number, keep = true): Float32Array {
    const { inputs: I, outputs: O, w, b } = this;
    const y = new Float32Array(n * O);
    let r = 0;
    for (; r + 4 <= n; r += 4) {
      const x0 = r * I;
      const x1 = x0 + I;
      const x2 = x1 + I;
      const x3 = x2 + I;
      for (let o = 0; o < O; o++) {
        const wo = o * I;
        let s0 = b[o];
        let s1 = s0;
        let s2 = s0;
        let s3 = s0;
        for (let i = 0; i < I; i++) {
          const wi = w[wo + i];
          s0 += x[x0 + i] * wi;
          s1 += x[x1 + i] * wi;
          s2 += x[x2 + i] * wi;
          s3 += x[x3 + i] * wi;
        }
        y[r * O + o] = s0;
        y[(r + 1) * O + o] = s1;
        y[(r + 2) * O + o] = s2;
        y[(r + 3) * O + o] = s3;
      }
    }
    for (; r < n; r++) {
      const xr = r * I;
      for (let o = 0; o < O; o++) {
        const wo = o * I;
        let s = b[o];
        for (let i = 0; i < I; i++) s += x[xr + i] * w[wo + i];
        y[r * O + o] = s;
      }
    }
    if (keep) {
      this.x = x;
      this.n = n;
    }
    return y;
  }

  /** Accumulate dW, db from dy; return dx. Rows go four at a time (register blocking, as in forward), each weight read once per four rows. */
  backward(dy: Float32Array): Float32Array {
    const { inputs: I, outputs: O, w, gw, gb, x, n } = this;
    const dx = new Float32Array(n * I);
    let r = 0;
    for (; r + 4 <= n; r += 4) {
      const x0 = r * I;
      const x1 = x0 + I;
      const x2 = x1 + I;
      const x3 = x2 + I;
      for (let o = 0; o < O; o++) {
        const g0 = dy[r * O + o];
        const g1 = dy[(r + 1) * O + o];
        const g2 = dy[(r + 2) * O + o];
        const g3 = dy[(r + 3) * O + o];
        if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0) continue;
        gb[o] += g0 + g1 + g2 + g3;
        const wo = o * I;
        for (let i = 0; i < I; i++) {
          const wi = w[wo + i];
          gw[wo + i] += g0 * x[x0 + i] + g1 * x[x1 + i] + g2 * x[x2 + i] + g3 * x[x3 + i];
          dx[x0 + i] += g0 * wi;
          dx[x1 + i] += g1 * wi;
          dx[x2 + i] += g2 * wi;
          dx[x3 + i] += g3 * wi;
        }
      }
    }
    for (; r < n; r++) {
      const xr = r * I;
      const yr = r * O;
      for (let o = 0; o < O; o++) {
        const g = dy[yr + o];
        if (g === 0) continue;
        gb[o] += g;
        const wo = o * I;
        for (let i = 0; i < I; i++) {
          gw[wo + i] += g * x[xr + i];
          dx[xr + i] += g * w[wo + i];
        }
      }
    }
    return dx;
  }
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

function activate(kind: Activation, z: Float32Array): Float32Array {
  const a = new Float32Array(z.length);
  switch (kind) {
    case 'relu':
      for (let i = 0; i < z.length; i++) a[i] = z[i] > 0 ? z[i] : 0;
      break;
    case 'tanh':
      for (let i = 0; i < z.length; i++) a[i] = Math.tanh(z[i]);
      break;
    case 'gelu': // tanh approximation (Hendrycks & Gimpel 2016)
      for (let i = 0; i < z.length; i++) {
        const x = z[i];
        a[i] = 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
      }
      break;
    case 'linear':
      a.set(z);
  }
  return a;
}

function activationGrad(kind: Activation, z: Float32Array, a: Float32Array, da: Float32Array): Float32Array {
  const dz = new Float32Array(z.length);
  switch (kind) {
    case 'relu':
      for (let i = 0; i < z.length; i++) dz[i] = z[i] > 0 ? da[i] : 0;
      break;
    case 'tanh':
      for (let i = 0; i < z.length; i++) dz[i] = da[i] * (1 - a[i] * a[i]);
      break;
    case 'gelu':
      for (let i = 0; i < z.length; i++) {
        const x = z[i];
        const u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
        const t = Math.tanh(u);
        const du = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
        dz[i] = da[i] * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du);
      }
      break;
    case 'linear':
      dz.set(da);
  }
  return dz;
}

export interface MlpSpec {
  readonly sizes: readonly number[];
  readonly activation: Activation;
  /** Activation of the output layer (default linear). */
  readonly output?: Activation;
}

/** A parameter tensor and its gradient, for optimisers. */
export interface Param {
  readonly value: Float32Array;
  readonly grad: Float32Array;
}

export class Mlp {
  readonly layers: Dense[];
  private zs: Float32Array[] = [];
  private as: Float32Array[] = [];

  constructor(
    readonly spec: MlpSpec,
    seed = 1,
    stream = 'nn/mlp',
  ) {
    const rng = new Rng(seed, stream);
    this.layers = [];
    for (let l = 0; l + 1 < spec.sizes.length; l++) {
      const last = l + 2 === spec.sizes.length;
      this.layers.push(new Dense(spec.sizes[l], spec.sizes[l + 1], rng, last ? Math.sqrt(3) : Math.sqrt(6)));
    }
  }

  get inputs(): number {
    return this.spec.sizes[0];
  }

  get outputs(): number {
    return this.spec.sizes[this.spec.sizes.length - 1];
  }

  /** Forward n rows; `train` keeps what backward needs. */
  forward(x: Float32Array, n: number, train = false): Float32Array {
    let h = x;
    if (train) {
      this.zs = [];
      this.as = [];
    }
    this.layers.forEach((layer, l) => {
      const z = layer.forward(h, n, train);
      const kind = l + 1 === this.layers.length ? (this.spec.output ?? 'linear') : this.spec.activation;
      const a = activate(kind, z);
      if (train) {
        this.zs.push(z);
        this.as.push(a);
      }
      h = a;
    });
    return h;
  }

  /** Backpropagate dL/dy of the last training forward pass; accumulates gradients, returns dL/dx. */
  backward(dy: Float32Array): Float32Array {
    let da = dy;
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const kind = l + 1 === this.layers.length ? (this.spec.output ?? 'linear') : this.spec.activation;
      const dz = activationGrad(kind, this.zs[l], this.as[l], da);
      da = this.layers[l].backward(dz);
    }
    return da;
  }

  params(): Param[] {
    return this.layers.flatMap((l) => [
      { value: l.w, grad: l.gw },
      { value: l.b, grad: l.gb },
    ]);
  }

  zeroGrad(): void {
    for (const p of this.params()) p.grad.fill(0);
  }

  /** Plain data for msgpack (Float32Arrays need msgpackr's moreTypes). */
  state(): MlpState {
    return { spec: { sizes: [...this.spec.sizes], activation: this.spec.activation, output: this.spec.output }, weights: this.layers.map((l) => ({ w: Float32Array.from(l.w), b: Float32Array.from(l.b) })) };
  }

  static fromState(s: MlpState): Mlp {
    const m = new Mlp(s.spec);
    s.weights.forEach((p, l) => {
      m.layers[l].w.set(p.w);
      m.layers[l].b.set(p.b);
    });
    return m;
  }

  /** Copy another network's weights (same shape), or move towards them: w = tau w' + (1 - tau) w (Polyak averaging). */
  copyFrom(other: Mlp, tau = 1): void {
    this.layers.forEach((l, i) => {
      const o = other.layers[i];
      for (let k = 0; k < l.w.length; k++) l.w[k] = tau * o.w[k] + (1 - tau) * l.w[k];
      for (let k = 0; k < l.b.length; k++) l.b[k] = tau * o.b[k] + (1 - tau) * l.b[k];
    });
  }
}

export interface MlpState {
  readonly spec: MlpSpec;
  readonly weights: readonly { readonly w: Float32Array; readonly b: Float32Array }[];
}

export interface AdamOptions {
  readonly lr?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /** Decoupled weight decay (AdamW, Loshchilov & Hutter 2019). */
  readonly weightDecay?: number;
  /** Clip the global gradient norm to this value (0: no clipping). */
  readonly clipNorm?: number;
}

export interface AdamState {
  readonly t: number;
  readonly lr: number;
  readonly m: readonly Float32Array[];
  readonly v: readonly Float32Array[];
}

/** Adam (Kingma & Ba 2015) with bias correction, optional decoupled weight decay and norm clipping. */
export class Adam {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;
  lr: number;

  constructor(
    private readonly params: Param[],
    private readonly o: AdamOptions = {},
  ) {
    this.m = params.map((p) => new Float32Array(p.value.length));
    this.v = params.map((p) => new Float32Array(p.value.length));
    this.lr = o.lr ?? 1e-3;
  }

  /** Moments and step count as plain data, so a checkpointed optimiser resumes exactly (explore's checkpoints). */
  state(): AdamState {
    return { t: this.t, lr: this.lr, m: this.m.map((a) => a.slice()), v: this.v.map((a) => a.slice()) };
  }

  load(s: AdamState): void {
    this.t = s.t;
    this.lr = s.lr;
    s.m.forEach((a, k) => this.m[k].set(a));
    s.v.forEach((a, k) => this.v[k].set(a));
  }

  /** One update from the accumulated gradients (scaled by `gradScale`, e.g. 1 / batch), then zero them. */
  step(gradScale = 1): void {
    const b1 = this.o.beta1 ?? 0.9;
    const b2 = this.o.beta2 ?? 0.999;
    const eps = this.o.eps ?? 1e-8;
    const wd = this.o.weightDecay ?? 0;
    let scale = gradScale;
    if (this.o.clipNorm) {
      let ss = 0;
      for (const p of this.params) for (let i = 0; i < p.grad.length; i++) ss += (p.grad[i] * gradScale) ** 2;
      const norm = Math.sqrt(ss);
      if (norm > this.o.clipNorm) scale *= this.o.clipNorm / norm;
    }
    this.t++;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    this.params.forEach((p, k) => {
      const m = this.m[k];
      const v = this.v[k];
      const w = p.value;
      const g = p.grad;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i] * scale;
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        w[i] -= this.lr * ((m[i] / c1) / (Math.sqrt(v[i] / c2) + eps) + wd * w[i]);
        g[i] = 0;
      }
    });
  }
}
