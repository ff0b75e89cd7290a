import type { Rng } from '../../sim/random/rng.js';

/**
 * Prioritised experience replay (Schaul et al. 2016), proportional variant: transition i
 * is drawn with probability P(i) = p_i / sum_k p_k, where p_i = (|delta_i| + 1e-6)^alpha
 * (delta its last TD error; new transitions get the largest priority seen, so each is
 * replayed at least once soon), and its loss is weighted by the importance-sampling weight
 * w_i = (N P(i))^-beta / max_j w_j, with beta annealed from 0.4 to 1 over the run so the
 * bias is corrected fully by the end. `alpha = 0` (priorities all 1) is uniform replay
 * with unit weights: the "no PER" ablation.
 *
 * Sampling is stratified: the total priority is cut into `batch` equal segments and one
 * transition is drawn from each, through a sum tree (O(log N) per draw and update). A
 * transition holds the observation, the hybrid action (two mesh-move indices and the
 * continuous vector), the reward and the next observation; the environment never
 * terminates (episodes are truncated), so no done flag is stored.
 */

export interface ReplayState {
  readonly capacity: number;
  readonly obsDim: number;
  readonly contDim: number;
  readonly size: number;
  readonly next: number;
  readonly maxPriority: number;
  readonly obs: Float32Array;
  readonly nextObs: Float32Array;
  readonly cont: Float32Array;
  readonly disc: Int32Array;
  readonly reward: Float32Array;
  readonly tree: Float64Array;
}

export interface Batch {
  readonly n: number;
  readonly indices: Int32Array;
  readonly obs: Float32Array;
  readonly nextObs: Float32Array;
  readonly cont: Float32Array;
  readonly disc: Int32Array;
  readonly reward: Float32Array;
  /** Importance-sampling weights (all 1 for uniform replay). */
  readonly weights: Float32Array;
}

export class PrioritizedReplay {
  private s: { size: number; next: number; maxPriority: number };
  readonly obs: Float32Array;
  readonly nextObs: Float32Array;
  readonly cont: Float32Array;
  readonly disc: Int32Array;
  readonly reward: Float32Array;
  /** Sum tree: leaves at [capacity, 2 capacity), node k = sum of its children. */
  private readonly tree: Float64Array;

  constructor(
    readonly capacity: number,
    readonly obsDim: number,
    readonly contDim: number,
    readonly alpha: number,
    state?: ReplayState,
  ) {
    this.obs = state?.obs ?? new Float32Array(capacity * obsDim);
    this.nextObs = state?.nextObs ?? new Float32Array(capacity * obsDim);
    this.cont = state?.cont ?? new Float32Array(capacity * contDim);
    this.disc = state?.disc ?? new Int32Array(capacity * 2);
    this.reward = state?.reward ?? new Float32Array(capacity);
    this.tree = state?.tree ?? new Float64Array(2 * capacity);
    this.s = { size: state?.size ?? 0, next: state?.next ?? 0, maxPriority: state?.maxPriority ?? 1 };
  }

  get size(): number {
    return this.s.size;
  }

  add(obs: Float32Array, disc: readonly [number, number], cont: Float32Array, reward: number, nextObs: Float32Array): void {
    const i = this.s.next;
    this.obs.set(obs, i * this.obsDim);
    this.nextObs.set(nextObs, i * this.obsDim);
    this.cont.set(cont, i * this.contDim);
    this.disc[2 * i] = disc[0];
    this.disc[2 * i + 1] = disc[1];
    this.reward[i] = reward;
    this.setPriority(i, this.s.maxPriority);
    this.s.next = (i + 1) % this.capacity;
    this.s.size = Math.min(this.capacity, this.s.size + 1);
  }

  private setPriority(i: number, p: number): void {
    let k = i + this.capacity;
    const delta = p - this.tree[k];
    while (k >= 1) {
      this.tree[k] += delta;
      k >>= 1;
    }
  }

  /** The leaf whose cumulative priority interval holds `mass`. */
  private find(mass: number): number {
    let k = 1;
    let m = mass;
    while (k < this.capacity) {
      const left = 2 * k;
      if (m < this.tree[left] || this.tree[left + 1] <= 0) k = left;
      else {
        m -= this.tree[left];
        k = left + 1;
      }
    }
    return Math.min(this.s.size - 1, k - this.capacity);
  }

  /** A stratified batch of n transitions with importance weights for `beta`. */
  sample(n: number, beta: number, rng: Rng): Batch {
    const { obsDim: D, contDim: C } = this;
    const total = this.tree[1];
    const b: Batch = { n, indices: new Int32Array(n), obs: new Float32Array(n * D), nextObs: new Float32Array(n * D), cont: new Float32Array(n * C), disc: new Int32Array(2 * n), reward: new Float32Array(n), weights: new Float32Array(n) };
    let minP = Infinity;
    for (let k = this.capacity; k < this.capacity + this.s.size; k++) if (this.tree[k] < minP) minP = this.tree[k];
    const N = this.s.size;
    const maxW = (N * (minP / total)) ** -beta;
    for (let j = 0; j < n; j++) {
      const i = this.find(((j + rng.next()) * total) / n);
      b.indices[j] = i;
      b.obs.set(this.obs.subarray(i * D, i * D + D), j * D);
      b.nextObs.set(this.nextObs.subarray(i * D, i * D + D), j * D);
      b.cont.set(this.cont.subarray(i * C, i * C + C), j * C);
      b.disc[2 * j] = this.disc[2 * i];
      b.disc[2 * j + 1] = this.disc[2 * i + 1];
      b.reward[j] = this.reward[i];
      const p = this.tree[this.capacity + i] / total;
      b.weights[j] = this.alpha === 0 ? 1 : (N * p) ** -beta / maxW;
    }
    return b;
  }

  /** New priorities p_i = (|delta_i| + 1e-6)^alpha after an update. */
  updatePriorities(indices: Int32Array, tdErrors: Float32Array): void {
    if (this.alpha === 0) return;
    for (let j = 0; j < indices.length; j++) {
      const p = (Math.abs(tdErrors[j]) + 1e-6) ** this.alpha;
      this.setPriority(indices[j], p);
      if (p > this.s.maxPriority) this.s.maxPriority = p;
    }
  }

  /** Uniform draws of transition indices (the world model's training batches). */
  uniformIndices(n: number, rng: Rng): Int32Array {
    return Int32Array.from({ length: n }, () => rng.int(0, this.s.size - 1));
  }

  state(): ReplayState {
    const n = this.s.size;
    // only the filled part of the arrays (a checkpoint of a short run stays small)
    return {
      capacity: this.capacity,
      obsDim: this.obsDim,
      contDim: this.contDim,
      size: n,
      next: this.s.next,
      maxPriority: this.s.maxPriority,
      obs: this.obs.slice(0, n * this.obsDim),
      nextObs: this.nextObs.slice(0, n * this.obsDim),
      cont: this.cont.slice(0, n * this.contDim),
      disc: this.disc.slice(0, 2 * n),
      reward: this.reward.slice(0, n),
      tree: this.tree.slice(),
    };
  }

  static fromState(s: ReplayState, alpha: number): PrioritizedReplay {
    const grow = <T extends Float32Array | Int32Array>(a: T, len: number, make: (n: number) => T): T => {
      const out = make(len);
      out.set(a as any);
      return out;
    };
    return new PrioritizedReplay(s.capacity, s.obsDim, s.contDim, alpha, {
      ...s,
      obs: grow(s.obs, s.capacity * s.obsDim, (n) => new Float32Array(n)),
      nextObs: grow(s.nextObs, s.capacity * s.obsDim, (n) => new Float32Array(n)),
      cont: grow(s.cont, s.capacity * s.contDim, (n) => new Float32Array(n)),
      disc: grow(s.disc, s.capacity * 2, (n) => new Int32Array(n)),
      reward: grow(s.reward, s.capacity, (n) => new Float32Array(n)),
      tree: Float64Array.from(s.tree),
    });
  }
}
