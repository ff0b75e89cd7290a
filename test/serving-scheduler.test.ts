import { scheduleTrace, type SchedulerOptions, type StepTimer } from '../sim/serving/scheduler.js';
import { StepTiming } from '../sim/serving/memo.js';
import { servingMetrics } from '../sim/serving/metrics.js';
import { findCapacity } from '../sim/serving/capacity.js';
import { selectRequests } from '../sim/trace/transform.js';
import { builtinModel } from '../sim/model/catalog.js';
import type { StepShape } from '../sim/serving/shape.js';
import type { Trace } from '../sim/trace/trace.js';
import { InputError } from '../sim/validate/inputError.js';
import { Simulator } from '../sim/kernel/simulator.js';
import { RegionSharing } from '../sim/serving/pipeline.js';
import { Rng } from '../sim/random/rng.js';

/**
 * The iteration-level scheduler with step times given by a formula (so every expected
 * figure is computed here from first principles): latencies, conservation of tokens,
 * rejection, KV admission and preemption, micro-batches through the region pipeline.
 */

const card = builtinModel('smollm2-135m')!;
const CLOCK_MHZ = 1; // 1 cycle = 1 us, 1000 cycles = 1 ms

/** Every step takes `base + perRow x rows` cycles, split evenly over `regions` regions visited in order (tasks of `taskCycles`). */
function timer(base: number, perRow: number, regions = 1, taskCycles = () => 10): StepTimer & { shapes: StepShape[] } {
  return {
    shapes: [],
    time(s: StepShape, out: StepTiming) {
      this.shapes.push(s);
      const c = s.vision ? base : base + perRow * (s.decodeRows + s.prefillRows);
      out.shape({ cycles: c, regions: Int32Array.from({ length: regions }, (_, r) => r), work: new Float64Array(regions), taskCycles: new Float64Array(regions) });
      for (let r = 0; r < regions; r++) {
        out.work[r] = c / regions;
        out.taskCycles[r] = taskCycles();
      }
      return c;
    },
  };
}

const one = { count: 1, pairGain: 1 };

const opts = (over: Partial<SchedulerOptions> = {}): SchedulerOptions => ({ batching: 'continuous', maxBatch: 4, prefillChunkTokens: 32, microBatches: 1, kvWindowTokens: 0, kvCapacityTokens: 100_000, clockMHz: CLOCK_MHZ, admission: 'reserve', ...over });
const trace = (requests: { arrivalMs: number; promptTokens: number; outputTokens: number }[]): Trace => ({ kind: 'trace', schemaVersion: 1, name: 't', requests: requests.map((r) => ({ ...r, contextCached: false, images: [] })) });

describe('serving scheduler', () => {
  test('one request: TTFT = its prefill chunks, ITL = one decode step, done after all tokens', () => {
    const t = timer(1000, 10);
    const s = scheduleTrace(card, trace([{ arrivalMs: 5, promptTokens: 100, outputTokens: 6 }]), t, one, opts());
    // chunks of 32, 32, 32, 4 rows; the last emits the first token
    const prefill = 3 * (1000 + 320) + (1000 + 40);
    expect(s.firstTokenCycles[0] - s.arrivalCycles[0]).toBe(prefill);
    expect(Array.from(s.itlCycles)).toEqual(Array(5).fill(1010));
    expect(s.doneCycles[0]).toBe(5000 + prefill + 5 * 1010);
    expect(s.generatedTokens).toBe(6);
    expect(s.iterations).toBe(4 + 5);
    const m = servingMetrics(s, CLOCK_MHZ, { ttftMs: 100, itlMs: 100 });
    expect(m.ttftMs.p50).toBeCloseTo(prefill / 1000, 9);
    expect(m.tpotMs.p50).toBeCloseTo(1.01, 9);
    expect(m.sloAttainment).toBe(1);
  });

  test('decode first: a prefilling request shares the budget with the decode rows of its slot', () => {
    const t = timer(100, 1);
    scheduleTrace(card, trace([{ arrivalMs: 0, promptTokens: 10, outputTokens: 50 }, { arrivalMs: 1, promptTokens: 100, outputTokens: 2 }]), t, one, opts());
    const mixed = t.shapes.filter((s) => s.decodeRows > 0 && s.prefillRows > 0);
    expect(mixed.length).toBeGreaterThan(0);
    for (const s of t.shapes) expect(s.decodeRows + s.prefillRows).toBeLessThanOrEqual(32);
    // a full mixed chunk uses exactly the budget left by the decode rows
    expect(mixed.some((s) => s.decodeRows === 1 && s.prefillRows === 31)).toBe(true);
  });

  test('conservation, rejection and KV admission over random requests', () => {
    const rng = new Rng(7, 'test');
    const reqs = Array.from({ length: 200 }, (_, i) => ({ arrivalMs: i * 3, promptTokens: rng.int(1, 600), outputTokens: rng.int(1, 80) }));
    reqs.push({ arrivalMs: 700, promptTokens: 9000, outputTokens: 10 }); // beyond SmolLM2's 8,192-token context
    reqs.push({ arrivalMs: 701, promptTokens: 3000, outputTokens: 10 }); // beyond the KV capacity below
    const capacity = 2000;
    const s = scheduleTrace(card, trace(reqs), timer(500, 20), one, opts({ kvCapacityTokens: capacity, maxBatch: 8 }));
    const m = servingMetrics(s, CLOCK_MHZ, { ttftMs: 1e9, itlMs: 1e9 });
    expect(m.requests.rejected).toEqual({ kv: 1, context: 1, vision: 0 });
    expect(m.requests.served).toBe(200);
    expect(s.generatedTokens).toBe(reqs.slice(0, 200).reduce((a, r) => a + r.outputTokens, 0));
    expect(Math.max(...s.kvTokens.max)).toBeLessThanOrEqual(capacity);
    for (let i = 0; i < 200; i++) {
      expect(s.tokens[i]).toBe(reqs[i].outputTokens);
      expect(s.firstTokenCycles[i]).toBeGreaterThan(s.arrivalCycles[i]);
      expect(s.doneCycles[i]).toBeGreaterThanOrEqual(s.firstTokenCycles[i]);
    }
    // gaps: one per token after the first
    expect(s.itlCycles.length).toBe(s.generatedTokens - 200);
    expect(s.queue.mean.length).toBeLessThanOrEqual(512);
    s.queue.mean.forEach((v, k) => expect(v).toBeLessThanOrEqual(s.queue.max[k] + 1e-9));
  });

  test('recompute admission admits more sequences, preempts when the cache fills, and still finishes every request', () => {
    const reqs = Array.from({ length: 40 }, (_, i) => ({ arrivalMs: i, promptTokens: 200, outputTokens: 300 }));
    const capacity = 1500; // three whole contexts, or seven prompts
    const reserve = scheduleTrace(card, trace(reqs), timer(500, 20), one, opts({ kvCapacityTokens: capacity, maxBatch: 8 }));
    const recompute = scheduleTrace(card, trace(reqs), timer(500, 20), one, opts({ kvCapacityTokens: capacity, maxBatch: 8, admission: 'recompute' }));
    expect(reserve.preemptions.reduce((a, b) => a + b, 0)).toBe(0);
    expect(recompute.preemptions.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(recompute.recomputedTokens).toBeGreaterThan(0);
    expect(recompute.generatedTokens).toBe(40 * 300);
    expect(Math.max(...recompute.kvTokens.max)).toBeLessThanOrEqual(capacity);
    expect(Math.max(...recompute.running.max)).toBeGreaterThan(Math.max(...reserve.running.max));
  });

  test('micro-batches in the shared regions: two slots on two regions', () => {
    const reqs = [
      { arrivalMs: 0, promptTokens: 1, outputTokens: 101 },
      { arrivalMs: 0, promptTokens: 1, outputTokens: 101 },
    ];
    const regions = { count: 2, pairGain: 1 };
    const oneSlot = scheduleTrace(card, trace(reqs), timer(1000, 0, 2), regions, opts({ maxBatch: 2, microBatches: 1 }));
    const twoSlots = scheduleTrace(card, trace(reqs), timer(1000, 0, 2), regions, opts({ maxBatch: 2, microBatches: 2 }));
    // one slot: the second prompt waits one step (one prefilling sequence per step), then
    // both decode in every 1000-cycle step; two slots of one sequence each start together
    // and share each region at half speed (no gain from the overlap): 2000 cycles a step,
    // and they stay in step, as bunched micro-batches do step by step
    expect(oneSlot.endCycles).toBe(102 * 1000);
    expect(twoSlots.endCycles).toBe(101 * 2000);
    expect(twoSlots.generatedTokens).toBe(202);
  });

  test('region sharing: a step alone runs at full speed; like steps share a region evenly; a small-task step nearly stops behind a large-task one', () => {
    const sim = new Simulator();
    const sharing = new RegionSharing(sim, 1, 1.2);
    const t = new StepTiming();
    const done: number[] = [];
    const start = (at: number, work: number, task: number) =>
      sim.scheduleAt(at, () => {
        t.shape({ cycles: work, regions: Int32Array.of(0), work: Float64Array.of(work), taskCycles: Float64Array.of(task) });
        t.work[0] = work;
        t.taskCycles[0] = task;
        sharing.start(t, () => done.push(sim.now));
      });
    start(0, 1000, 10);
    sim.run();
    expect(done).toEqual([1000]);
    done.length = 0;
    // two like steps together: each at pairGain / 2 = 0.6 of full speed
    start(2000, 1200, 10);
    start(2000, 1200, 10);
    sim.run();
    expect(done.map((d) => d - 2000)).toEqual([2000, 2000]);
    done.length = 0;
    // a decode-like step (tasks of 10) beside a prefill-like one (tasks of 990): 1% of the region
    start(10000, 100, 10);
    start(10000, 50000, 990);
    sim.run();
    expect(done[0] - 10000).toBeGreaterThan(5000);
  });
});

describe('trace selection', () => {
  const base = trace(Array.from({ length: 100 }, (_, i) => ({ arrivalMs: i * 6000, promptTokens: 10, outputTokens: 1 })));
  test('window in minutes, shifted to start at the window; rate scale divides times; sampling is seeded', () => {
    const w = selectRequests(base, { fromMinutes: 1, toMinutes: 2 }, 1);
    expect(w.requests.length).toBe(10);
    expect(w.requests[0].arrivalMs).toBe(0);
    const r = selectRequests(base, { rateScale: 4 }, 1);
    expect(r.requests[10].arrivalMs).toBe(15_000);
    const a = selectRequests(base, { sampleFraction: 0.3 }, 5);
    const b = selectRequests(base, { sampleFraction: 0.3 }, 5);
    expect(a.requests).toEqual(b.requests);
    expect(a.requests.length).toBeGreaterThan(10);
    expect(a.requests.length).toBeLessThan(55);
  });
  test('bad selections are input errors naming the option', () => {
    expect(() => selectRequests(base, { fromMinutes: 5, toMinutes: 2 }, 1)).toThrow(/--to/);
    expect(() => selectRequests(base, { rateScale: 0 }, 1)).toThrow(InputError);
    expect(() => selectRequests(base, { sampleFraction: 1.5 }, 1)).toThrow(/--sample/);
    expect(() => selectRequests(base, { fromMinutes: 500 }, 1)).toThrow(/no request/);
  });
});

describe('capacity search', () => {
  test('bisection finds the boundary of a falling attainment within the tolerance', () => {
    const attainment = (r: number) => Math.max(0, 1 - r / 30); // meets 0.9 up to r = 3
    const c = findCapacity(attainment, 0.9, { relTolerance: 0.01 });
    expect(c.rateScale).toBeLessThanOrEqual(3);
    expect(c.rateScale).toBeGreaterThan(3 / 1.01);
    expect(c.failsAt).toBeGreaterThan(3);
    expect(c.runs.length).toBeLessThan(20);
  });
  test('no scale meets: 0; every scale meets: the largest tried', () => {
    expect(findCapacity(() => 0, 0.5).rateScale).toBe(0);
    expect(findCapacity(() => 1, 0.5, { maxScale: 64 }).failsAt).toBe(Number.POSITIVE_INFINITY);
  });
});
