import * as fs from 'node:fs';
import { Packr, Unpackr } from 'msgpackr';
import type { Design } from '../../sim/design/design.js';
import { InputError } from '../../sim/validate/inputError.js';
import { ppaScore } from '../../sim/power/ppa.js';
import { referenceFor } from '../../sim/power/reference.js';
import { Rng } from '../../sim/random/rng.js';
import { SPACE_VERSION } from '../space.js';
import type { LabelMetrics, LabelRecord } from '../label/job.js';
import { readBinaryFile } from '../label/file.js';
import { FEATURE_COUNT, featureNamesFor, featureMatrix, type Analytic, type FeatureContext } from './features.js';
import { ENSEMBLE_DEFAULTS, EnsemblePredictor, fitEnsemble, type EnsembleOptions, type EnsembleState } from './ensemble.js';
import { GBDT_DEFAULTS, fitGbdt, predictGbdt, type GbdtOptions, type GbdtState } from './gbdt.js';

/**
 * The surrogate (docs/search.md "Surrogate"): predicts a design's label metrics with a 90%
 * interval for each. Every target is learned in log space as a residual over an analytic
 * baseline (tokens/s over the compute/ROM/DMEM bound, energy per token over its floor, ...),
 * since errors are relative and the residual needs fewer labels than the value. What is
 * exact and cheap is computed, not learned: area comes from the area model (learned only
 * for heterogeneous designs, whose tiles are sized by the mapping pass), mapping
 * feasibility from the mapping pass, and the PPA score from its formula over the predicted
 * tokens/s and power and the area.
 *
 * Families: `mlp-ensemble` (deep ensemble of small MLPs), `gbdt` (histogram gradient-boosted
 * trees, one per target), `gbdt-kernels` (the same trees with the tile model's kernels in
 * the path estimate, features.ts `kernels`: the accuracy model, ~10-20 ms a design on a
 * memo miss), `mlp-small` (one small MLP) and `bounds` (the analytic estimates alone, each
 * scaled by one constant fitted on the training labels, as a reference).
 * Intervals: the ensemble's spread (zero for trees) combined with a residual scale, both
 * calibrated on a held-out tenth of the training labels so that 90% of its residuals fall
 * inside (split-conformal style).
 */

export type Family = 'mlp-ensemble' | 'gbdt' | 'gbdt-kernels' | 'mlp-small' | 'bounds';
export const FAMILIES: readonly Family[] = ['mlp-ensemble', 'gbdt', 'gbdt-kernels', 'mlp-small', 'bounds'];

/**
 * The accuracy model's trees: four times the rounds at a quarter of the learning rate
 * (SmolLM2 7 nm, the 2,122 training labels vs 534 held-out: tokens/s MAPE 6.46% -> 6.15%
 * at 800 rounds / 0.04, 5.33% -> 5.22% at 1,600 / 0.02 against 800 / 0.04; depth 8, min
 * leaf 3 or 5, 128 bins or no subsampling moved it by under 0.2 points).
 */
const GBDT_KERNELS_OPTIONS: Partial<GbdtOptions> = { rounds: 1600, learningRate: 0.02 };

/** Families whose model is the gradient-boosted trees. */
export const isTreeFamily = (f: Family): boolean => f === 'gbdt' || f === 'gbdt-kernels';

/** The feature context a family's model is trained and queried with (kernel features or not). */
export function familyContext(ctx: FeatureContext, f: Family): FeatureContext {
  const kernels = f === 'gbdt-kernels';
  return !!ctx.kernels === kernels ? ctx : { ...ctx, kernels };
}

export interface TargetDef {
  readonly name: string;
  /** Which direction is better (for top-10% recall). */
  readonly better: 'higher' | 'lower';
  readonly get: (m: LabelMetrics) => number;
}

export const TARGETS: readonly TargetDef[] = [
  { name: 'tokensPerSecond', better: 'higher', get: (m) => m.tokensPerSecond },
  { name: 'powerW', better: 'lower', get: (m) => m.powerW },
  { name: 'energyPerTokenJ', better: 'lower', get: (m) => m.energyPerTokenJ },
  { name: 'ttftMs', better: 'lower', get: (m) => m.ttftMs.p50 },
  { name: 'itlMsP50', better: 'lower', get: (m) => m.itlMs.p50 },
  { name: 'itlMsP99', better: 'lower', get: (m) => m.itlMs.p99 },
  { name: 'areaMm2', better: 'lower', get: (m) => m.areaMm2 },
];
export const TARGET_COUNT = TARGETS.length;
const tIndex = (name: string) => TARGETS.findIndex((t) => t.name === name);
const T_TPS = tIndex('tokensPerSecond');
const T_POWER = tIndex('powerW');
const T_ENERGY = tIndex('energyPerTokenJ');
const AREA = tIndex('areaMm2');

/**
 * Power the chip draws whatever it does (the simulator's logic and SRAM leakage and the
 * routers' clocks, sim/power/energy.ts): a label's own figure, or the analytic one for a
 * label without the breakdown (synthetic test labels).
 */
function staticPowerW(m: LabelMetrics, a: Analytic): number {
  const c = m.power.byComponentW;
  return c ? (c.logicLeakage ?? 0) + (c.sramLeakage ?? 0) + (c.routerClock ?? 0) : a.leakageW;
}

/**
 * What the models learn (docs/search.md "Targets"): each head in log space as a residual
 * over its analytic baseline. Power and energy per token are not heads: they are composed
 * from the heads as the simulator composes them, E = E_dyn + P_static / T and
 * P = E_dyn T + P_static, so the count-driven dynamic energy (no timing in it) and the
 * static power (exact for uniform tiles) are learned apart from tokens/s.
 */
export interface HeadDef {
  readonly name: string;
  readonly get: (m: LabelMetrics, a: Analytic) => number;
  readonly baseline: (a: Analytic) => number;
}

export const HEADS: readonly HeadDef[] = [
  { name: 'tokensPerSecond', get: (m) => m.tokensPerSecond, baseline: (a) => a.estTokensPerSecond },
  // dynamic energy per token: everything but the static power's share of a token's time
  { name: 'dynamicEnergyJ', get: (m, a) => (m.powerW - staticPowerW(m, a)) / m.tokensPerSecond, baseline: (a) => a.kernelEnergyJ ?? a.energyFloorJ },
  { name: 'staticPowerW', get: (m, a) => staticPowerW(m, a), baseline: (a) => a.leakageW },
  { name: 'ttftMs', get: (m) => m.ttftMs.p50, baseline: (a) => (1000 * a.prefillCycles) / (a.clockMHz * 1e6) },
  // the label workload's inter-token gaps come out as 1 / tokens/s (measured on SmolLM2 labels: ITL x tokens/s = 1 s within 0.1%)
  { name: 'itlMsP50', get: (m) => m.itlMs.p50, baseline: (a) => 1000 / a.estTokensPerSecond },
  { name: 'itlMsP99', get: (m) => m.itlMs.p99, baseline: (a) => 1000 / a.estTokensPerSecond },
  { name: 'areaMm2', get: (m) => m.areaMm2, baseline: (a) => a.areaMm2 },
];
export const HEAD_COUNT = HEADS.length;
const H_TPS = HEADS.findIndex((h) => h.name === 'tokensPerSecond');
const H_DYN = HEADS.findIndex((h) => h.name === 'dynamicEnergyJ');
const H_STATIC = HEADS.findIndex((h) => h.name === 'staticPowerW');
/** Target k copied from head HEAD_OF[k] (-1: composed). */
const HEAD_OF = TARGETS.map((t) => HEADS.findIndex((h) => h.name === t.name));

/** Smallest log-space sigma of a learned target (float32 rounding of features and outputs). */
const SIGMA_FLOOR = 1e-5;

/** z of the two-sided 90% normal interval. */
export const Z90 = 1.6448536269514722;

export interface SurrogateBundle {
  readonly kind: 'tessera-surrogate';
  readonly formatVersion: 1;
  readonly spaceVersion: string;
  readonly simulatorVersion: string;
  readonly model: { readonly name: string; readonly hash: string };
  readonly workload: string;
  readonly family: Family;
  /** The features include the tile model's kernels (family gbdt-kernels). */
  readonly kernelFeatures?: boolean;
  readonly featureNames: readonly string[];
  readonly targets: readonly string[];
  readonly xMean: Float32Array;
  readonly xStd: Float32Array;
  readonly yMean: Float32Array;
  readonly yStd: Float32Array;
  /** Per target: residual scale s0 (log units) and the interval multiplier k. */
  /** Per target: residual scale s0 and multiplier k; the PPA score's own log-space sigma (absent in older models: interval from the ends of T, P, A). */
  readonly calibration: { readonly s0: Float32Array; readonly k: Float32Array; readonly ppaSigma?: number };
  readonly ensemble?: EnsembleState;
  readonly gbdt?: GbdtState[];
  readonly trainedOn: { readonly files: readonly string[]; readonly labels: number; readonly perNode: Readonly<Record<string, number>>; readonly seconds: number };
}

export interface TrainOptions {
  readonly family: Family;
  readonly ensemble?: Partial<EnsembleOptions>;
  readonly gbdt?: Partial<GbdtOptions>;
  readonly seed?: number;
  /** Share of the labels held out for interval calibration. */
  readonly calibrationShare?: number;
  readonly onProgress?: (text: string) => void;
  readonly now?: () => number;
}

export interface Dataset {
  readonly labels: readonly LabelRecord[];
  readonly x: Float32Array;
  readonly n: number;
  readonly analytic: readonly Analytic[];
  /** Residuals of the heads in log space, n x HEAD_COUNT. */
  readonly y: Float32Array;
}

/** Labels usable for regression: simulated, with positive finite metrics. */
export function regressionLabels(labels: readonly LabelRecord[]): LabelRecord[] {
  return labels.filter((l) => l.status === 'ok' && l.metrics && TARGETS.every((t) => {
    const v = t.get(l.metrics!);
    return Number.isFinite(v) && v > 0;
  }));
}

export function buildDataset(labels: readonly LabelRecord[], ctx: FeatureContext): Dataset {
  const { x, analytic } = featureMatrix(labels.map((l) => l.design), ctx);
  const n = labels.length;
  const H = HEAD_COUNT;
  const y = new Float32Array(n * H);
  labels.forEach((l, i) => HEADS.forEach((h, k) => {
    // a head at or below zero (no dynamic energy left over, rounding) is clamped: logs need a positive value
    const v = h.get(l.metrics!, analytic[i]);
    const b = h.baseline(analytic[i]);
    y[i * H + k] = Math.log(Math.max(v, 1e-6 * b)) - Math.log(b);
  }));
  return { labels, x, n, analytic, y };
}

/**
 * Targets from heads (log space, one design): tokens/s, TTFT, ITL and area as predicted;
 * energy per token and power composed from dynamic energy, static power and tokens/s
 * (see HEADS), their model spread by the delta method.
 */
function composeTargets(hm: ArrayLike<number>, hs: ArrayLike<number>, ho: number, mu: Float64Array, sd: Float64Array, to: number): void {
  for (let k = 0; k < TARGET_COUNT; k++) {
    const h = HEAD_OF[k];
    if (h >= 0) {
      mu[to + k] = hm[ho + h];
      sd[to + k] = hs[ho + h];
    }
  }
  const lt = hm[ho + H_TPS];
  const ld = hm[ho + H_DYN];
  const ls = hm[ho + H_STATIC];
  const st = hs[ho + H_TPS];
  const sdy = hs[ho + H_DYN];
  const ss = hs[ho + H_STATIC];
  // E = E_dyn + P_s / T: shares of the dynamic and static parts
  const eD = Math.exp(ld);
  const eS = Math.exp(ls - lt);
  const fD = eD / (eD + eS);
  mu[to + T_ENERGY] = Math.log(eD + eS);
  sd[to + T_ENERGY] = Math.sqrt((fD * sdy) ** 2 + (1 - fD) ** 2 * (ss * ss + st * st));
  // P = E_dyn T + P_s
  const pD = Math.exp(ld + lt);
  const pS = Math.exp(ls);
  const gD = pD / (pD + pS);
  mu[to + T_POWER] = Math.log(pD + pS);
  sd[to + T_POWER] = Math.sqrt(gD * gD * (sdy * sdy + st * st) + ((1 - gD) * ss) ** 2);
}

function standardise(x: Float32Array, n: number, d: number): { mean: Float32Array; std: Float32Array } {
  const mean = new Float32Array(d);
  const std = new Float32Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) std[j] += (x[i * d + j] - mean[j]) ** 2 / n;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]) || 1;
  return { mean, std };
}

function applyScale(x: Float32Array, n: number, d: number, mean: Float32Array, std: Float32Array): Float32Array {
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = (x[i * d + j] - mean[j]) / std[j];
  return out;
}

function rows(a: Float32Array, w: number, idx: readonly number[]): Float32Array {
  const out = new Float32Array(idx.length * w);
  idx.forEach((i, r) => out.set(a.subarray(i * w, i * w + w), r * w));
  return out;
}

/** Raw model output in log-residual units of the heads: mean and model spread (n x HEAD_COUNT). */
function rawPredict(b: Pick<SurrogateBundle, 'family' | 'xMean' | 'xStd' | 'yMean' | 'yStd' | 'ensemble' | 'gbdt'>, x: Float32Array, n: number, ens?: EnsemblePredictor): { mean: Float32Array; std: Float32Array } {
  const K = HEAD_COUNT;
  const mean = new Float32Array(n * K);
  const std = new Float32Array(n * K);
  // the analytic estimates alone, each scaled by one constant (the training labels' mean log residual)
  if (b.family === 'bounds') {
    for (let i = 0; i < n * K; i++) mean[i] = b.yMean[i % K];
    return { mean, std };
  }
  const d = n > 0 ? x.length / n : FEATURE_COUNT;
  const xs = applyScale(x, n, d, b.xMean, b.xStd);
  if (b.family === 'mlp-ensemble' || b.family === 'mlp-small') {
    const p = (ens ?? new EnsemblePredictor(b.ensemble!)).predict(xs, n);
    for (let i = 0; i < n * K; i++) {
      const k = i % K;
      // far outside the training data a ReLU net extrapolates linearly: cap at 6 standard deviations
      mean[i] = Math.min(6, Math.max(-6, p.mean[i])) * b.yStd[k] + b.yMean[k];
      std[i] = p.std[i] * b.yStd[k];
    }
  } else {
    b.gbdt!.forEach((s, k) => {
      const p = predictGbdt(s, xs, n, d);
      for (let i = 0; i < n; i++) mean[i * K + k] = Math.min(6, Math.max(-6, p[i])) * b.yStd[k] + b.yMean[k];
    });
  }
  return { mean, std };
}

/**
 * Model predictions of the targets in log space (n x TARGET_COUNT): each head over its
 * baseline, the exact values where the analytic model gives them (static power for
 * uniform tiles), then composed (composeTargets). `sd` is the model's own spread.
 */
function targetsLog(b: Pick<SurrogateBundle, 'family' | 'xMean' | 'xStd' | 'yMean' | 'yStd' | 'ensemble' | 'gbdt'>, x: Float32Array, analytic: readonly Analytic[], ens?: EnsemblePredictor): { mu: Float64Array; sd: Float64Array } {
  const n = analytic.length;
  const H = HEAD_COUNT;
  const K = TARGET_COUNT;
  const p = rawPredict(b, x, n, ens);
  const hm = new Float64Array(H);
  const hs = new Float64Array(H);
  const mu = new Float64Array(n * K);
  const sd = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    const a = analytic[i];
    for (let h = 0; h < H; h++) {
      hm[h] = Math.log(HEADS[h].baseline(a)) + p.mean[i * H + h];
      hs[h] = p.std[i * H + h];
    }
    // static power is the area model's leakage and router clocks: exact for uniform tiles
    if (a.areaExact) {
      hm[H_STATIC] = Math.log(a.leakageW);
      hs[H_STATIC] = 0;
    }
    composeTargets(hm, hs, 0, mu, sd, i * K);
  }
  return { mu, sd };
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** Fewest labels the interval calibration is measured on (n >= 20 labels leaves 15 to train). */
const MIN_CALIBRATION = 5;

/** Train a surrogate of `family` on labels (all from one model, workload and simulator). */
export function trainSurrogate(labels: readonly LabelRecord[], ctx0: FeatureContext, meta: Pick<SurrogateBundle, 'simulatorVersion' | 'model' | 'workload'> & { files: readonly string[] }, o: TrainOptions): SurrogateBundle {
  const ctx = familyContext(ctx0, o.family);
  const D = featureNamesFor(ctx.kernels).length;
  const now = o.now ?? (() => performance.now());
  const t0 = now();
  const usable = regressionLabels(labels);
  if (usable.length < 20) throw new InputError(meta.files.join(','), 'labels', usable.length, 'at least 20 simulated (feasible, finite) labels to train on', 'label more designs with tessera label --count');
  const data = buildDataset(usable, ctx);
  const K = HEAD_COUNT;
  // calibration split: a seeded tenth of the labels (by index, so it is stable)
  const rng = new Rng(o.seed ?? 1, 'surrogate/calibration');
  const share = o.calibrationShare ?? 0.1;
  const calib: number[] = [];
  const train: number[] = [];
  for (let i = 0; i < data.n; i++) (rng.next() < share ? calib : train).push(i);
  // a small training set still gets a calibration split of MIN_CALIBRATION labels: without
  // one the intervals of the single-model families collapse to a point (0% coverage)
  while (calib.length < MIN_CALIBRATION && train.length > calib.length) calib.push(...train.splice(Math.floor(rng.next() * train.length), 1));
  calib.sort((a, b) => a - b);
  const xTrain = rows(data.x, D, train);
  const yTrain = rows(data.y, K, train);
  const xs = standardise(xTrain, train.length, D);
  const ys = standardise(yTrain, train.length, K);
  const xsTrain = applyScale(xTrain, train.length, D, xs.mean, xs.std);
  const ysTrain = applyScale(yTrain, train.length, K, ys.mean, ys.std);
  let ensemble: EnsembleState | undefined;
  let gbdt: GbdtState[] | undefined;
  if (o.family === 'mlp-ensemble') {
    ensemble = fitEnsemble(xsTrain, ysTrain, train.length, FEATURE_COUNT, K, { ...ENSEMBLE_DEFAULTS, ...o.ensemble, seed: o.seed ?? 1 }, (d, t) => o.onProgress?.(`mlp-ensemble: step ${d}/${t}`));
  } else if (isTreeFamily(o.family)) {
    gbdt = TARGETS.map((t, k) => {
      o.onProgress?.(`gbdt: target ${t.name} (${k + 1}/${K})`);
      const y = Float64Array.from({ length: train.length }, (_, i) => ysTrain[i * K + k]);
      return fitGbdt(xsTrain, train.length, D, y, { ...GBDT_DEFAULTS, ...(o.family === 'gbdt-kernels' ? GBDT_KERNELS_OPTIONS : {}), ...o.gbdt, seed: (o.seed ?? 1) + k });
    });
  }
  if (o.family === 'mlp-small') {
    // the explore command's fast model: one 32-32 network (a distillation from the GBDT over
    // jittered designs was tried and was less accurate on held-out labels than this)
    ensemble = fitEnsemble(xsTrain, ysTrain, train.length, FEATURE_COUNT, K, { ...ENSEMBLE_DEFAULTS, members: 1, hidden: [32, 32], steps: 4000, ...o.ensemble, seed: o.seed ?? 1 }, (d, t) => o.onProgress?.(`mlp-small: step ${d}/${t}`));
  }
  const partial = { family: o.family, xMean: xs.mean, xStd: xs.std, yMean: ys.mean, yStd: ys.std, ensemble, gbdt };
  // interval calibration on the held-out tenth, on the targets as predicted (composed ones included)
  const KT = TARGET_COUNT;
  const s0 = new Float32Array(KT);
  const kk = new Float32Array(KT).fill(1);
  let ppaSigma: number | undefined;
  if (calib.length > 0) {
    const p = targetsLog(partial, rows(data.x, D, calib), calib.map((i) => data.analytic[i]));
    // the PPA score's interval, calibrated on its own residuals: the one from the ends of the
    // T, P and A intervals covered 99% of held-out designs (all three ends at once is rarer than 90%)
    const ref = referenceFor(ctx.card);
    const rp: number[] = [];
    calib.forEach((i, c) => {
      const a = data.analytic[i];
      const area = a.areaExact ? a.areaMm2 : Math.exp(p.mu[c * KT + AREA]);
      const pred = ppaScore({ tokensPerSecond: Math.exp(p.mu[c * KT + T_TPS]), powerW: Math.exp(p.mu[c * KT + T_POWER]), areaMm2: area }, ref).score;
      const truth = data.labels[i].metrics!.ppaScore;
      if (pred > 0 && truth > 0) rp.push(Math.abs(Math.log(truth / pred)));
    });
    if (rp.length >= MIN_CALIBRATION) ppaSigma = Math.max(SIGMA_FLOOR, quantile(rp, 0.9) / Z90);
    for (let k = 0; k < KT; k++) {
      const r = calib.map((i, c) => Math.log(TARGETS[k].get(data.labels[i].metrics!)) - p.mu[c * KT + k]);
      const rms = Math.sqrt(r.reduce((s, v) => s + v * v, 0) / r.length);
      s0[k] = (o.family === 'mlp-ensemble' ? 0.5 : 1) * rms + 1e-6;
      const z = r.map((v, c) => Math.abs(v) / Math.sqrt(p.sd[c * KT + k] ** 2 + s0[k] ** 2));
      kk[k] = Math.max(1e-3, quantile(z, 0.9) / Z90);
    }
  }
  const perNode: Record<string, number> = {};
  for (const l of usable) perNode[l.node] = (perNode[l.node] ?? 0) + 1;
  return {
    kind: 'tessera-surrogate',
    formatVersion: 1,
    spaceVersion: SPACE_VERSION,
    simulatorVersion: meta.simulatorVersion,
    model: meta.model,
    workload: meta.workload,
    ...(ctx.kernels ? { kernelFeatures: true } : {}),
    featureNames: featureNamesFor(ctx.kernels),
    targets: TARGETS.map((t) => t.name),
    ...partial,
    calibration: { s0, k: kk, ppaSigma },
    trainedOn: { files: meta.files, labels: usable.length, perNode, seconds: (now() - t0) / 1000 },
  };
}

/** One predicted quantity: median and 90% interval (original units) and the log-space sigma. */
export interface Predicted {
  readonly value: number;
  readonly lo: number;
  readonly hi: number;
  readonly sigma: number;
}

export interface Prediction {
  readonly targets: Readonly<Record<string, Predicted>>;
  /** PPA score from the formula over predicted tokens/s and power and the area. */
  readonly ppaScore: Predicted;
  readonly areaExact: boolean;
}

export class Surrogate {
  private readonly ens?: EnsemblePredictor;
  /** The caller's context with the bundle's feature set (kernel features or not). */
  readonly ctx: FeatureContext;
  constructor(
    readonly bundle: SurrogateBundle,
    ctx: FeatureContext,
  ) {
    this.ctx = !!ctx.kernels === !!bundle.kernelFeatures ? ctx : { ...ctx, kernels: !!bundle.kernelFeatures };
    if (bundle.family === 'mlp-ensemble' || bundle.family === 'mlp-small') this.ens = new EnsemblePredictor(bundle.ensemble!);
  }

  /**
   * Predictions in bulk: means and log-sigmas (n x K) in log space of the original units,
   * plus each design's analytic values. The hot path of a search.
   */
  predictLog(designs: readonly Design[]): { mu: Float64Array; sigma: Float64Array; analytic: Analytic[] } {
    const n = designs.length;
    const K = TARGET_COUNT;
    const { x, analytic } = featureMatrix(designs, this.ctx);
    const { mu, sd } = targetsLog(this.bundle, x, analytic, this.ens);
    const sigma = new Float64Array(n * K);
    const { s0, k } = this.bundle.calibration;
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < K; t++) {
        const j = i * K + t;
        // at least the float32 rounding of the models' outputs (~1e-6 in log units): a noise-free
        // target is otherwise given an interval narrower than its own rounding
        sigma[j] = Math.max(SIGMA_FLOOR, k[t] * Math.sqrt(sd[j] ** 2 + s0[t] ** 2));
      }
      // area is computed where the area model gives it exactly
      if (analytic[i].areaExact) {
        mu[i * K + AREA] = Math.log(analytic[i].areaMm2);
        sigma[i * K + AREA] = 1e-9; // floating-point summation order only
      }
    }
    return { mu, sigma, analytic };
  }

  predict(designs: readonly Design[]): Prediction[] {
    const { mu, sigma, analytic } = this.predictLog(designs);
    const K = TARGET_COUNT;
    const ref = referenceFor(this.ctx.card);
    return designs.map((_, i) => {
      const targets: Record<string, Predicted> = {};
      TARGETS.forEach((t, k) => {
        const m = mu[i * K + k];
        const s = sigma[i * K + k];
        targets[t.name] = { value: Math.exp(m), lo: Math.exp(m - Z90 * s), hi: Math.exp(m + Z90 * s), sigma: s };
      });
      const score = (T: number, P: number, A: number) => ppaScore({ tokensPerSecond: T, powerW: P, areaMm2: A }, ref).score;
      const T = targets.tokensPerSecond;
      const P = targets.powerW;
      const A = targets.areaMm2;
      // the score's own calibrated interval; older models: from the ends of T's, P's and A's (it rises with T, falls with P and A)
      const value = score(T.value, P.value, A.value);
      const ps = this.bundle.calibration.ppaSigma;
      const ppa = ps !== undefined && value > 0 ? { value, lo: value * Math.exp(-Z90 * ps), hi: value * Math.exp(Z90 * ps), sigma: ps } : { value, lo: score(T.lo, P.hi, A.hi), hi: score(T.hi, P.lo, A.lo), sigma: NaN };
      return { targets, ppaScore: ppa, areaExact: analytic[i].areaExact };
    });
  }
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 through erf). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(z / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/**
 * P(the design meets the budgets): 0 when the mapping does not fit (computed by the mapping
 * pass), otherwise P(power <= budget) x P(area <= budget) under the predicted log-normal
 * distributions (an exact area gives 0 or 1).
 */
export function feasibilityProbability(p: Prediction, mappingFeasible: boolean, budgets: { powerW?: number; areaMm2?: number }): number {
  if (!mappingFeasible) return 0;
  const below = (q: Predicted, budget: number | undefined) => {
    if (budget === undefined) return 1;
    if (!(q.sigma > 0)) return q.value <= budget ? 1 : 0;
    return normalCdf((Math.log(budget) - Math.log(q.value)) / q.sigma);
  };
  return below(p.targets.powerW, budgets.powerW) * below(p.targets.areaMm2, budgets.areaMm2);
}

const packr = new Packr({ useRecords: false, moreTypes: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: true });

export function saveSurrogate(file: string, b: SurrogateBundle): void {
  try {
    fs.writeFileSync(file, packr.pack(b));
  } catch (e) {
    throw new InputError(file, '--out', file, `cannot write it (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 'choose a path in a writable directory');
  }
}

/** Load a model file, refusing one of another space version or format with a one-line error. */
export function loadSurrogate(file: string): SurrogateBundle {
  const bytes = readBinaryFile(file, '--model', 'model file', 'pass a file written by `tessera surrogate train --out`');
  let b: SurrogateBundle;
  try {
    b = unpackr.unpack(bytes) as SurrogateBundle;
  } catch {
    throw new InputError(file, '--model', '(not msgpack)', 'expected a surrogate model file', 'pass a file written by `tessera surrogate train --out`');
  }
  if (b?.kind !== 'tessera-surrogate') throw new InputError(file, '--model', (b as any)?.kind ?? '(unknown)', 'expected a surrogate model file', 'pass a file written by `tessera surrogate train --out`');
  if (b.spaceVersion !== SPACE_VERSION) throw new InputError(file, 'spaceVersion', b.spaceVersion, `the model was trained on another design space; this Tessera's space is ${SPACE_VERSION}`, 'retrain it with `tessera surrogate train` on labels made with this version');
  const names = featureNamesFor(b.kernelFeatures);
  if (b.featureNames.length !== names.length || b.featureNames.some((f, i) => f !== names[i])) throw new InputError(file, 'featureNames', `${b.featureNames.length} features`, 'the model uses another feature set than this Tessera', 'retrain it with `tessera surrogate train`');
  return b;
}
