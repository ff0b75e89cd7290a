import { RefinedAxis } from '../sim/serving/axes.js';
import { StepMemo, StepTiming, visitTiming, type StepProber } from '../sim/serving/memo.js';
import type { ProbeResult, ProbeStep } from '../sim/chip/stepProbe.js';
import type { StepShape } from '../sim/serving/shape.js';

/**
 * The step-time memo against synthetic chips whose step times are known functions of the
 * step's rows and contexts: exact where the function is (multi)linear, refined where it
 * jumps, and its activity a weighted sum that conserves the iterations' weights.
 */

const REGIONS = 2;

/** A fake chip: cycles = f(rows, contexts); region split 60/40; one counter per tile = cycles. */
function fakeProber(f: (decodeRows: number, chunkRows: number, contexts: number[]) => number): StepProber & { probes: number } {
  return {
    regions: REGIONS,
    probes: 0,
    run(steps: readonly ProbeStep[]): ProbeResult {
      this.probes++;
      const s = steps[0];
      if (s.kind !== 'text') throw new Error('text only');
      const decode = s.sequences.filter((q) => q.newTokens === 1 && q.emitsToken && q.textTokens === 1 && q !== s.sequences.find((x) => x.newTokens > 1));
      const chunk = s.sequences.find((q) => !decode.includes(q));
      const cycles = Math.round(f(decode.length, chunk?.newTokens ?? 0, s.sequences.map((q) => q.contextTokens)));
      const first = Math.round(0.6 * cycles);
      return {
        steps: [
          {
            startCycles: 0,
            doneCycles: cycles,
            visits: [
              { region: 0, startCycles: 0, endCycles: first, taskCycles: first, tasks: 4 },
              { region: 1, startCycles: first, endCycles: cycles, taskCycles: cycles - first, tasks: 2 },
            ],
          },
        ],
        cycles,
        events: 1,
        activity: { tileCounters: new Map([['tile.busyCycles', Float64Array.from([cycles, 0])]]), busyCycles: Float64Array.from([cycles, 0]), nocCounters: { 'noc.flitsInjected': 2 }, linkFlits: new Float64Array(10) },
      };
    },
  };
}

const options = { contextGridTokens: 256, tolerance: 0.01, maxDecodeRows: 8, chunkTokens: 64, kvWindowTokens: 0, seed: 1, vocabSize: 1000 };
const decode = (b: number, contextSum: number): StepShape => ({ vision: false, decodeRows: b, decodeContextSum: contextSum, prefillRows: 0, imageRows: 0, prefillContext: 0, emits: false });
const chunk = (n: number, y: number, emits = false): StepShape => ({ vision: false, decodeRows: 0, decodeContextSum: 0, prefillRows: n, imageRows: 0, prefillContext: y, emits });

describe('refined axis', () => {
  test('a linear function needs no split: checks pass and the base lattice stays', () => {
    const axis = new RefinedAxis(1, 2, 64, true);
    const value = (n: number) => 1000 + 37 * n;
    const check = (lo: number, at: number, hi: number) => Math.abs(value(lo) + ((value(hi) - value(lo)) * (at - lo)) / (hi - lo) - value(at)) <= 1e-9 * value(at);
    for (let n = 1; n <= 64; n++) {
      const [lo, hi] = axis.bracket(n, check);
      expect(lo <= n && n <= hi).toBe(true);
    }
    expect(axis.splits).toBe(0);
    expect(axis.nodes).toEqual([1, 2, 4, 8, 16, 32, 64]);
  });

  test('a jump right after a block boundary is found (the check just past the lower node)', () => {
    // 8-row blocks: each block boundary costs an extra 500
    const value = (n: number) => 100 * n + 500 * Math.ceil(n / 8);
    const axis = new RefinedAxis(1, 2, 64, true);
    const check = (lo: number, at: number, hi: number) => Math.abs(value(lo) + ((value(hi) - value(lo)) * (at - lo)) / (hi - lo) - value(at)) <= 0.01 * value(at);
    let worst = 0;
    for (let n = 1; n <= 64; n++) {
      const [lo, hi] = axis.bracket(n, check);
      const interp = lo === hi ? value(lo) : value(lo) + ((value(hi) - value(lo)) * (n - lo)) / (hi - lo);
      worst = Math.max(worst, Math.abs(interp - value(n)) / value(n));
    }
    expect(axis.splits).toBeGreaterThan(0);
    // every block start 8k+1 became a node
    for (let k = 1; k < 8; k++) expect(axis.nodes).toContain(8 * k + 1);
    expect(worst).toBeLessThan(0.03);
  });
});

describe('step memo', () => {
  test('bilinear step times are interpolated exactly from few simulated steps', () => {
    // cycles affine in rows and in each row's context: exact under multilinear interpolation
    const prober = fakeProber((b, n, ctx) => 5000 + 900 * (b + n) + 3 * ctx.reduce((a, c) => a + c, 0) / Math.max(1, ctx.length) * (b + n));
    const memo = new StepMemo(prober, options);
    const timing = new StepTiming();
    for (let b = 1; b <= 8; b++)
      for (const u of [0, 17, 300, 1000, 5000]) {
        const want = 5000 + 900 * b + 3 * u * b;
        expect(memo.time(decode(b, u * b), timing)).toBeCloseTo(want, 6);
        // the visits add up to the step (to the rounding of each node's 60/40 split)
        expect(Array.from(timing.regions.subarray(0, timing.count))).toEqual([0, 1]);
        expect(timing.work[0] + timing.work[1]).toBeCloseTo(want, 0);
      }
    expect(prober.probes).toBeLessThan(60);
  });

  test('activity is the usage-weighted sum of the nodes: weights of every iteration add up to 1', () => {
    const prober = fakeProber((b, n, ctx) => 2000 + 700 * (b + n) + 5 * ctx[0]);
    const memo = new StepMemo(prober, options);
    const timing = new StepTiming();
    let cycles = 0;
    const queries = [decode(3, 1234), decode(5, 99), chunk(64, 300), chunk(17, 4000, true), decode(1, 0), chunk(33, 0)];
    for (const q of queries) cycles += memo.time(q, timing);
    const used = memo.usage.subarray(0, memo.nodes.length);
    expect(used.reduce((a, b) => a + b, 0)).toBeCloseTo(queries.length, 9);
    const act = memo.activity(2);
    // the fake chip's busy counter equals each node's cycles, so the weighted sum is the total time
    expect(act.tileCounters.get('tile.busyCycles')![0]).toBeCloseTo(cycles, 3);
    expect(act.nocCounters['noc.flitsInjected']).toBeCloseTo(2 * queries.length, 9);
  });

  test('a node is never simulated twice, and saved nodes are not simulated again', () => {
    const prober = fakeProber((b, n) => 1000 + 10 * (b + n));
    const memo = new StepMemo(prober, options);
    const timing = new StepTiming();
    memo.time(decode(4, 400), timing);
    const first = prober.probes;
    memo.time(decode(4, 400), timing);
    expect(prober.probes).toBe(first);
    const again = fakeProber((b, n) => 1000 + 10 * (b + n));
    const warm = new StepMemo(again, options, memo.newNodes());
    expect(warm.time(decode(4, 400), timing)).toBe(memo.time(decode(4, 400), timing));
    expect(again.probes).toBe(0);
    expect(new Set(memo.nodes.map((n) => n.key)).size).toBe(memo.nodes.length);
  });

  test('a visit adds the cycles by which it extends the step; a visit inside another adds none', () => {
    const v = (region: number, startCycles: number, endCycles: number) => ({ region, startCycles, endCycles, taskCycles: 40, tasks: 4 });
    const d = visitTiming([v(2, 0, 5), v(0, 5, 100), v(1, 100, 250), v(3, 120, 240)], 0, 260);
    expect(Array.from(d.work)).toEqual([5, 95, 150, 10]);
    expect(Array.from(d.regions)).toEqual([2, 0, 1, 3]);
    expect(Array.from(d.taskCycles)).toEqual([10, 10, 10, 10]);
    expect(d.cycles).toBe(260);
  });
});
