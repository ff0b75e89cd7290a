/**
 * Accuracy measures of `tessera surrogate eval` (docs/search.md "Accuracy"). Each takes
 * the true and predicted values of one target over the held-out designs.
 */

/** Mean absolute percentage error, in percent. */
export function mape(truth: readonly number[], pred: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < truth.length; i++) s += Math.abs(pred[i] - truth[i]) / Math.abs(truth[i]);
  return (100 * s) / truth.length;
}

/** Coefficient of determination 1 - SS_res / SS_tot. */
export function r2(truth: readonly number[], pred: readonly number[]): number {
  const m = truth.reduce((a, b) => a + b, 0) / truth.length;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < truth.length; i++) {
    res += (truth[i] - pred[i]) ** 2;
    tot += (truth[i] - m) ** 2;
  }
  return tot > 0 ? 1 - res / tot : NaN;
}

/** Kendall's tau-b (ties in either ranking handled), O(n^2). */
export function kendallTau(a: readonly number[], b: readonly number[]): number {
  let conc = 0;
  let disc = 0;
  let tieA = 0;
  let tieB = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign(a[i] - a[j]);
      const db = Math.sign(b[i] - b[j]);
      if (da === 0 && db === 0) continue;
      if (da === 0) tieA++;
      else if (db === 0) tieB++;
      else if (da === db) conc++;
      else disc++;
    }
  }
  const denom = Math.sqrt((conc + disc + tieA) * (conc + disc + tieB));
  return denom > 0 ? (conc - disc) / denom : NaN;
}

/** Indices of the best `share` of values (largest when higher is better). */
function topIndices(v: readonly number[], share: number, higher: boolean): Set<number> {
  const k = Math.max(1, Math.round(share * v.length));
  const idx = v.map((_, i) => i).sort((i, j) => (higher ? v[j] - v[i] : v[i] - v[j]) || i - j);
  return new Set(idx.slice(0, k));
}

/** Of the truly best 10%, the share the prediction also puts in its best 10%. */
export function topRecall(truth: readonly number[], pred: readonly number[], higherIsBetter: boolean, share = 0.1): number {
  const t = topIndices(truth, share, higherIsBetter);
  const p = topIndices(pred, share, higherIsBetter);
  let hit = 0;
  for (const i of t) if (p.has(i)) hit++;
  return hit / t.size;
}

/** Share of true values inside [lo, hi]. */
export function coverage(truth: readonly number[], lo: readonly number[], hi: readonly number[]): number {
  let c = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] >= lo[i] && truth[i] <= hi[i]) c++;
  return c / truth.length;
}

/** Balanced accuracy of a 0/1 decision at p >= 0.5: the mean of the two classes' recalls. */
export function balancedAccuracy(truth: readonly boolean[], p: readonly number[]): number {
  let tp = 0;
  let pos = 0;
  let tn = 0;
  let neg = 0;
  for (let i = 0; i < truth.length; i++) {
    if (truth[i]) {
      pos++;
      if (p[i] >= 0.5) tp++;
    } else {
      neg++;
      if (p[i] < 0.5) tn++;
    }
  }
  if (pos === 0 || neg === 0) return pos === 0 ? tn / Math.max(1, neg) : tp / pos;
  return 0.5 * (tp / pos + tn / neg);
}

/** Area under the ROC curve (Mann-Whitney U with ties counted half). */
export function auc(truth: readonly boolean[], p: readonly number[]): number {
  const idx = p.map((_, i) => i).sort((i, j) => p[i] - p[j]);
  let rankSum = 0;
  let pos = 0;
  for (let r = 0; r < idx.length; ) {
    let e = r;
    while (e + 1 < idx.length && p[idx[e + 1]] === p[idx[r]]) e++;
    const avg = (r + e) / 2 + 1;
    for (let k = r; k <= e; k++) if (truth[idx[k]]) {
      rankSum += avg;
      pos++;
    }
    r = e + 1;
  }
  const neg = truth.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}
