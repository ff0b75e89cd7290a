import { Rng } from '../../sim/random/rng.js';

/**
 * A small histogram gradient-boosted regression-tree ensemble (docs/search.md), in the
 * manner of LightGBM/XGBoost's `hist` method: every feature is cut into at most `bins`
 * quantile bins once; each tree grows level by level to `maxDepth`, choosing at each node
 * the (feature, bin) split with the largest reduction of squared error (gain = G_L^2 /
 * (H_L + lambda) + G_R^2 / (H_R + lambda) - G^2 / (H + lambda), Chen & Guestrin 2016, with
 * h = 1 for squared loss) from per-node gradient histograms; leaves take -G / (H + lambda)
 * scaled by the learning rate. Rows are subsampled per tree. Pure-JS random forests were
 * measured too slow at this size (shared/reference/ecosystem.md section 4); histograms make
 * a split search O(rows x features) per level.
 */

export interface GbdtOptions {
  readonly rounds: number;
  readonly learningRate: number;
  readonly maxDepth: number;
  readonly minLeaf: number;
  readonly lambda: number;
  readonly subsample: number;
  readonly bins: number;
  readonly seed: number;
}

export const GBDT_DEFAULTS: GbdtOptions = { rounds: 400, learningRate: 0.08, maxDepth: 6, minLeaf: 8, lambda: 1, subsample: 0.8, bins: 64, seed: 1 };

/** Flattened tree: internal nodes split on feature f at threshold t (x < t goes left). */
export interface Tree {
  readonly feature: Int32Array;
  readonly threshold: Float32Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Leaf value (nodes with feature -1 are leaves). */
  readonly value: Float32Array;
}

export interface GbdtState {
  readonly base: number;
  readonly trees: Tree[];
}

/** Bin edges per feature: up to `bins - 1` distinct quantile cut points. */
export function binEdges(x: Float32Array, n: number, d: number, bins: number): Float32Array[] {
  const edges: Float32Array[] = [];
  const col = new Float32Array(n);
  for (let f = 0; f < d; f++) {
    for (let i = 0; i < n; i++) col[i] = x[i * d + f];
    const s = Float32Array.from(col).sort();
    const cuts: number[] = [];
    for (let b = 1; b < bins; b++) {
      const q = s[Math.floor((b * n) / bins)];
      const prev = cuts.length ? cuts[cuts.length - 1] : -Infinity;
      // a cut between distinct values only (the smallest value never starts a bin)
      if (q > prev && q > s[0]) cuts.push(q);
    }
    edges.push(Float32Array.from(cuts));
  }
  return edges;
}

function binOf(edges: Float32Array, v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v < edges[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Fit one target y (length n) on features x (n x d). */
export function fitGbdt(x: Float32Array, n: number, d: number, y: Float64Array, o: GbdtOptions = GBDT_DEFAULTS): GbdtState {
  const edges = binEdges(x, n, d, o.bins);
  const B = o.bins;
  const binned = new Uint8Array(n * d);
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) binned[i * d + f] = binOf(edges[f], x[i * d + f]);
  let base = 0;
  for (let i = 0; i < n; i++) base += y[i];
  base /= n;
  const pred = new Float64Array(n).fill(base);
  const grad = new Float64Array(n);
  const rng = new Rng(o.seed, 'gbdt/rows');
  const trees: Tree[] = [];
  const nodeOf = new Int32Array(n);
  const histG = new Float64Array(d * B);
  const histN = new Float64Array(d * B);
  for (let round = 0; round < o.rounds; round++) {
    for (let i = 0; i < n; i++) grad[i] = pred[i] - y[i];
    // rows of this tree (subsample); -1 = not used
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (o.subsample >= 1 || rng.next() < o.subsample) rows.push(i);
    const feature: number[] = [-1];
    const threshold: number[] = [0];
    const left: number[] = [-1];
    const right: number[] = [-1];
    const value: number[] = [0];
    for (const i of rows) nodeOf[i] = 0;
    let frontier = [0];
    for (let depth = 0; depth < o.maxDepth && frontier.length; depth++) {
      const next: number[] = [];
      // rows of each frontier node
      const members = new Map<number, number[]>(frontier.map((k) => [k, []]));
      for (const i of rows) members.get(nodeOf[i])?.push(i);
      for (const node of frontier) {
        const idx = members.get(node)!;
        if (idx.length < 2 * o.minLeaf) continue;
        histG.fill(0);
        histN.fill(0);
        let G = 0;
        for (const i of idx) {
          const g = grad[i];
          G += g;
          const base_ = i * d;
          for (let f = 0; f < d; f++) {
            const h = f * B + binned[base_ + f];
            histG[h] += g;
            histN[h] += 1;
          }
        }
        const H = idx.length;
        const parent = (G * G) / (H + o.lambda);
        let best = 0;
        let bf = -1;
        let bb = -1;
        for (let f = 0; f < d; f++) {
          let gl = 0;
          let hl = 0;
          const nb = edges[f].length; // bins 0..nb
          for (let b = 0; b < nb; b++) {
            gl += histG[f * B + b];
            hl += histN[f * B + b];
            const hr = H - hl;
            if (hl < o.minLeaf || hr < o.minLeaf) continue;
            const gr = G - gl;
            const gain = (gl * gl) / (hl + o.lambda) + (gr * gr) / (hr + o.lambda) - parent;
            if (gain > best) {
              best = gain;
              bf = f;
              bb = b;
            }
          }
        }
        if (bf < 0) continue;
        const l = feature.length;
        const r = l + 1;
        feature.push(-1, -1);
        threshold.push(0, 0);
        left.push(-1, -1);
        right.push(-1, -1);
        value.push(0, 0);
        feature[node] = bf;
        threshold[node] = edges[bf][bb]; // x < edge goes left (bins 0..bb)
        left[node] = l;
        right[node] = r;
        for (const i of idx) nodeOf[i] = binned[i * d + bf] <= bb ? l : r;
        next.push(l, r);
      }
      frontier = next;
    }
    // leaf values from the rows that reached each leaf
    const gs = new Float64Array(feature.length);
    const hs = new Float64Array(feature.length);
    for (const i of rows) {
      gs[nodeOf[i]] += grad[i];
      hs[nodeOf[i]] += 1;
    }
    for (let k = 0; k < feature.length; k++) if (feature[k] < 0) value[k] = (-o.learningRate * gs[k]) / (hs[k] + o.lambda);
    const tree: Tree = { feature: Int32Array.from(feature), threshold: Float32Array.from(threshold), left: Int32Array.from(left), right: Int32Array.from(right), value: Float32Array.from(value) };
    trees.push(tree);
    for (let i = 0; i < n; i++) pred[i] += treeValue(tree, x, i * d);
  }
  return { base, trees };
}

function treeValue(t: Tree, x: Float32Array, off: number): number {
  let k = 0;
  while (t.feature[k] >= 0) k = x[off + t.feature[k]] < t.threshold[k] ? t.left[k] : t.right[k];
  return t.value[k];
}

/** Predictions for n rows. */
export function predictGbdt(s: GbdtState, x: Float32Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n).fill(s.base);
  for (const t of s.trees) for (let i = 0; i < n; i++) out[i] += treeValue(t, x, i * d);
  return out;
}
