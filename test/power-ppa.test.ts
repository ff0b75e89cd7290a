import { Rng } from '../sim/random/rng.js';
import { builtinModel } from '../sim/model/catalog.js';
import { parameterCounts } from '../sim/model/derive.js';
import { comparePpa, DEFAULT_WEIGHTS, eq34Reward, LOW_POWER_WEIGHTS, parseWeights, ppaScore, type Weights } from '../sim/power/ppa.js';
import { REFERENCE_ANCHOR_PARAMS, REFERENCE_ANCHORS, referenceFor } from '../sim/power/reference.js';
import { metrics, percentiles } from '../sim/power/metrics.js';
import { areaOf } from '../sim/power/area.js';
import { energyOf } from '../sim/power/energy.js';
import { presetDesign } from '../sim/design/presets.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { InputError } from '../sim/validate/inputError.js';

const ref = REFERENCE_ANCHORS['llama-3.1-8b'];
type M = { tokensPerSecond: number; powerW: number; areaMm2: number };

function randomMetrics(rng: Rng): M {
  return { tokensPerSecond: 10 ** (rng.next() * 6), powerW: 10 ** (rng.next() * 5 - 2), areaMm2: 10 ** (rng.next() * 4) };
}

describe('weights', () => {
  test('defaults and the low-power profile are the paper\'s and sum to one', () => {
    expect(DEFAULT_WEIGHTS).toEqual({ perf: 0.4, power: 0.4, area: 0.2 });
    expect(LOW_POWER_WEIGHTS).toEqual({ perf: 0.2, power: 0.6, area: 0.2 });
    expect(parseWeights(DEFAULT_WEIGHTS)).toEqual(DEFAULT_WEIGHTS);
    expect(parseWeights(LOW_POWER_WEIGHTS)).toEqual(LOW_POWER_WEIGHTS);
  });

  test('weights that do not sum to one, negative or unknown weights are rejected in one line', () => {
    const msg = (w: unknown) => {
      try {
        parseWeights(w, 'weights.json');
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as Error).message).not.toMatch(/\n/);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(msg({ perf: 0.5, power: 0.4, area: 0.2 })).toMatch(/weights must sum to 1 .*= 1\.1.*fix: rescale/);
    expect(msg({ perf: -0.2, power: 0.6, area: 0.6 })).toMatch(/weights\.json: perf = -0\.2/);
    expect(msg({ perf: 0.4, power: 0.4, area: 0.2, speed: 0 })).toMatch(/speed.*unknown key/);
    expect(() => ppaScore({ tokensPerSecond: 1, powerW: 1, areaMm2: 1 }, ref, { weights: { perf: 1, power: 1, area: 1 } })).toThrow(InputError);
  });
});

describe('PPA score ordering', () => {
  const rng = new Rng(7, 'test/ppa');
  const profiles: Weights[] = [DEFAULT_WEIGHTS, LOW_POWER_WEIGHTS, { perf: 0.2, power: 0.2, area: 0.6 }];

  test('the reference design scores 0.5 with objective 0, and higher is better', () => {
    const r = ppaScore({ tokensPerSecond: ref.tokensPerSecond, powerW: ref.powerW, areaMm2: ref.areaMm2 }, ref);
    expect(r.objective).toBeCloseTo(0, 12);
    expect(r.score).toBeCloseTo(0.5, 12);
    expect(r.lowerIsBetter).toBeCloseTo(0.5, 12);
    expect(r.feasible).toBe(true);
    // Twice the throughput at equal power and area is worth w_perf = 0.4 in the objective.
    expect(ppaScore({ tokensPerSecond: 2 * ref.tokensPerSecond, powerW: ref.powerW, areaMm2: ref.areaMm2 }, ref).objective).toBeCloseTo(0.4, 12);
  });

  test('a design at least as good on every objective and better on one scores strictly higher', () => {
    for (let i = 0; i < 300; i++) {
      const a = randomMetrics(rng);
      const which = rng.int(0, 2);
      const f = 1 + 0.001 + rng.next() * 3;
      const b = { ...a };
      if (which === 0) b.tokensPerSecond *= f;
      else if (which === 1) b.powerW /= f;
      else b.areaMm2 /= f;
      for (const weights of profiles) {
        const sa = ppaScore(a, ref, { weights });
        const sb = ppaScore(b, ref, { weights });
        expect(sb.score).toBeGreaterThan(sa.score);
        expect(comparePpa(sb, sa)).toBeLessThan(0);
      }
    }
  });

  test('doubling power at equal performance and area lowers the score', () => {
    for (let i = 0; i < 200; i++) {
      const a = randomMetrics(rng);
      for (const weights of profiles) expect(ppaScore({ ...a, powerW: 2 * a.powerW }, ref, { weights }).score).toBeLessThan(ppaScore(a, ref, { weights }).score);
    }
  });

  test('an infeasible design is never ranked above a feasible one', () => {
    const constraints = { powerBudgetW: 50, areaBudgetMm2: 500 };
    const results = Array.from({ length: 400 }, () => ppaScore(randomMetrics(rng), ref, { constraints, mappingFeasible: rng.bernoulli(0.9) }));
    expect(results.some((r) => r.feasible)).toBe(true);
    expect(results.some((r) => !r.feasible)).toBe(true);
    const feasibleMin = Math.min(...results.filter((r) => r.feasible).map((r) => r.score));
    const infeasibleMax = Math.max(...results.filter((r) => !r.feasible).map((r) => r.score));
    expect(infeasibleMax).toBeLessThan(feasibleMin);
    const sorted = [...results].sort(comparePpa);
    const firstInfeasible = sorted.findIndex((r) => !r.feasible);
    expect(sorted.slice(firstInfeasible).every((r) => !r.feasible)).toBe(true);
  });

  test('designs whose mapping does not fit tie on score; the faster, cooler, smaller one ranks first', () => {
    const unfit = (m: M) => ppaScore(m, ref, { mappingFeasible: false });
    const small = unfit({ tokensPerSecond: 100, powerW: 10, areaMm2: 100 });
    const big = unfit({ tokensPerSecond: 100, powerW: 10, areaMm2: 400 });
    const slow = unfit({ tokensPerSecond: 25, powerW: 10, areaMm2: 100 });
    expect(small.score).toBe(big.score);
    expect([slow, big, small].sort(comparePpa)).toEqual([small, big, slow]); // objectives 0 > -0.4 > -0.8 relative to small
    expect(comparePpa(small, big)).toBeLessThan(0);
    expect(comparePpa(big, small)).toBeGreaterThan(0);
    expect(comparePpa(small, small)).toBe(0);
    // no throughput at all: an undefined objective, ranked last, never a NaN comparison
    const none = unfit({ tokensPerSecond: 0, powerW: 10, areaMm2: 100 });
    expect([none, big, small].sort(comparePpa)[2]).toBe(none);
    // zero power or area makes the objective +Infinity: undefined too, so last, not first
    const noPower = unfit({ tokensPerSecond: 100, powerW: 0, areaMm2: 100 });
    const noArea = unfit({ tokensPerSecond: 100, powerW: 10, areaMm2: 0 });
    expect([noPower, noArea, small].sort(comparePpa)[0]).toBe(small);
    expect(Number.isNaN(comparePpa(none, none))).toBe(false);
  });

  test('a zero or NaN metric makes the design infeasible with a reason, not a NaN score', () => {
    for (const m of [{ tokensPerSecond: 0, powerW: 1, areaMm2: 1 }, { tokensPerSecond: NaN, powerW: 1, areaMm2: 1 }, { tokensPerSecond: 10, powerW: 0, areaMm2: 1 }]) {
      const r = ppaScore(m, ref);
      expect(r.feasible).toBe(false);
      expect(Number.isNaN(r.score)).toBe(false);
      expect(r.reasons.join(' ')).toMatch(/not a positive finite number/);
    }
  });

  test('violations are reported with their amounts', () => {
    const r = ppaScore({ tokensPerSecond: 100, powerW: 60, areaMm2: 400, itlMs: { p50: 5, p90: 8, p99: 12, max: 13, count: 10 } }, ref, { constraints: { powerBudgetW: 50, areaBudgetMm2: 500, latencySloMs: 10 } });
    expect(r.feasible).toBe(false);
    expect(r.violations.powerW).toBeCloseTo(10, 12);
    expect(r.violations.areaMm2).toBe(0);
    expect(r.violations.latencyMs).toBeCloseTo(2, 12);
    expect(r.score).toBeCloseTo(-(10 / 50 + 2 / 10), 12);
    expect(r.reasons.join(' ')).toMatch(/power over budget by 10\.00 W/);
    const unmeasured = ppaScore({ tokensPerSecond: 100, powerW: 1, areaMm2: 1 }, ref, { constraints: { latencySloMs: 10 } });
    expect(unmeasured.feasible).toBe(false);
    expect(unmeasured.reasons[0]).toMatch(/no inter-token latencies/);
  });

  test('Eq. 34 reward: feasibility bonus in [0, 2] x s_mag, quadratic power penalty', () => {
    const m = { tokensPerSecond: ref.tokensPerSecond, powerW: 25, areaMm2: ref.areaMm2 };
    const r = ppaScore(m, ref, { constraints: { powerBudgetW: 50 } });
    expect(eq34Reward(r, 25, { powerBudgetW: 50 })).toBeCloseTo(r.objective + 1.5, 12);
    const over = ppaScore({ ...m, powerW: 75 }, ref, { constraints: { powerBudgetW: 50 } });
    expect(eq34Reward(over, 75, { powerBudgetW: 50 })).toBeCloseTo(over.objective - 1.5 * 0.25 - 1, 12);
  });
});

describe('workload references', () => {
  test('anchors are fixed; other models scale from their family by parameter count', () => {
    for (const [name, p] of Object.entries(REFERENCE_ANCHOR_PARAMS)) expect(parameterCounts(builtinModel(name)!).total).toBe(p);
    expect(referenceFor(builtinModel('llama-3.1-8b')!)).toBe(REFERENCE_ANCHORS['llama-3.1-8b']);
    const small = builtinModel('smollm2-135m')!;
    const r = referenceFor(small);
    const ratio = parameterCounts(small).total / 8_030_261_248;
    expect(r.tokensPerSecond).toBeCloseTo(17000 / ratio, 6);
    expect(r.areaMm2).toBeCloseTo(815 * ratio, 9);
    expect(r.powerW).toBe(250);
    const vlm = referenceFor(builtinModel('smolvlm-500m')!);
    expect(vlm.source).toMatch(/smolvlm-256m/);
  });

  test('a 3 nm and a 28 nm design of one workload are scored against the same reference', () => {
    const card = builtinModel('smolvlm-256m')!;
    expect(referenceFor(card)).toEqual(referenceFor(card));
    expect(ppaScore({ tokensPerSecond: 10, powerW: 0.01, areaMm2: 20 }, referenceFor(card)).reference.workload).toBe('smolvlm-256m');
  });
});

describe('metrics', () => {
  test('nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100 reversed
    expect(percentiles(v)).toEqual({ p50: 50, p90: 90, p99: 99, max: 100, count: 100 });
    expect(percentiles([3])).toEqual({ p50: 3, p90: 3, p99: 3, max: 3, count: 1 });
    expect(percentiles([])).toBeUndefined();
  });

  test('J/token, W, tokens/s, TOPS/mm2 and W/mm2 from a run', () => {
    const d = presetDesign('w4a16-8x8-7nm')!;
    const rec = { 'tile.macs': 4e9, 'tile.vectorAluOps': 1e8, 'tile.romBytesRead': 2e9 };
    const cycles = 57_000_000; // 0.1 s at 570 MHz
    const e = energyOf(rec, d, DEFAULT_TECH, cycles);
    const a = areaOf(d, DEFAULT_TECH);
    const m = metrics(e, a, { counters: rec, tokens: 50, itlMs: [2, 4, 6] });
    expect(m.seconds).toBeCloseTo(0.1, 12);
    expect(m.tokensPerSecond).toBeCloseTo(500, 9);
    expect(m.energyJ).toBeCloseTo(e.totalPj * 1e-12, 15);
    expect(m.energyPerTokenJ).toBeCloseTo((e.totalPj * 1e-12) / 50, 15);
    expect(m.powerW).toBeCloseTo((e.totalPj * 1e-12) / 0.1, 12);
    expect(m.topsPerMm2).toBeCloseTo((2 * 4e9 + 1e8) / 0.1 / 1e12 / a.totalMm2, 12);
    expect(m.powerDensityWPerMm2).toBeCloseTo(m.powerW / a.totalMm2, 12);
    expect(m.itlMs?.p50).toBe(4);
  });
});
