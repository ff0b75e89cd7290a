import { scheduleTrace, type ExactRows, type StepObserver, type StepTimer } from '../sim/serving/scheduler.js';
import type { StepTiming } from '../sim/serving/memo.js';
import { serveTrace, type StartedStep } from '../sim/chip/serve.js';
import { planMapping } from '../sim/chip/run.js';
import { TileKernelCosts } from '../sim/chip/tileCosts.js';
import { Simulator } from '../sim/kernel/simulator.js';
import { createNetwork } from '../sim/noc/create.js';
import { CounterRegistry } from '../sim/counters/registry.js';
import { builtinModel } from '../sim/model/catalog.js';
import { presetDesign } from '../sim/design/presets.js';
import { DesignSchema, type Design } from '../sim/design/design.js';
import { parseInput } from '../sim/validate/zod.js';
import { Rng } from '../sim/random/rng.js';
import type { ModelCard } from '../sim/model/card.js';
import type { Trace } from '../sim/trace/trace.js';

/**
 * The serving fidelity's scheduler (sim/serving/scheduler.ts) against serveTrace
 * (sim/chip/serve.ts), decision for decision. serveTrace runs step by step on the chip and
 * reports every step it starts; the scheduler then serves the same trace with each step's
 * time replayed from that run (the k-th step it starts takes as long as serveTrace's k-th
 * step took, in a pipeline region of its own so nothing stretches it). If both follow the
 * same policy (admission, KV reservation, slots, chunked prefill decode-first, vision
 * passes) they start the same steps with the same rows in the same order, and every
 * request's first token and completion land on the same cycle. Any divergence (a change
 * to serveTrace's policy not mirrored in the scheduler, or the reverse) fails here.
 */

/** A step's rows as `context+new/image!` (decode rows first, then the chunk; `!`: it emits a token), or `vision`. */
const fromChip = (s: StartedStep): string => (s.kind === 'vision' ? 'vision' : s.rows.map((r) => `${r.contextTokens}+${r.newTokens}/${r.newTokens - r.textTokens}${r.emitsToken ? '!' : ''}`).join(' '));

const fromScheduler = (vision: boolean, rows: ExactRows): string => {
  if (vision) return 'vision';
  const c = rows.chunk;
  return [...rows.decodeContexts.map((x) => `${x}+1/0!`), ...(c ? [`${c.context}+${c.n}/${c.image}${c.emits ? '!' : ''}`] : [])].join(' ');
};

function design(preset: string, over: { serving?: Partial<Design['serving']>; mapping?: Partial<Design['mapping']> }): Design {
  const d = presetDesign(preset)!;
  return parseInput(DesignSchema, { ...d, serving: { ...d.serving, ...over.serving }, mapping: { ...d.mapping, ...over.mapping } }, preset);
}

/** Both sides on one design and trace; `kvCapacityTokens` (optional) tightens the KV cache so admission binds. */
function replay(card: ModelCard, d0: Design, trace: Trace, kvCapacityTokens?: number) {
  const planned = planMapping(card, d0, trace);
  const d = planned.design;
  const mapping = kvCapacityTokens === undefined ? planned.mapping : { ...planned.mapping, kvCapacityTokens };
  expect(mapping.feasible).toBe(true);
  const sim = new Simulator();
  const network = createNetwork(sim, d, { model: 'message', counters: new CounterRegistry(), reservation: 'path' });
  const started: StartedStep[] = [];
  const chip = serveTrace(card, d, trace, mapping, { sim, network, costs: new TileKernelCosts(d, 'fast') }, {
    batching: d.serving.batching,
    maxBatch: d.serving.maxBatch,
    prefillChunkTokens: d.serving.prefillChunkTokens,
    microBatches: d.serving.microBatches,
    kvWindowTokens: d.mapping.kvWindowTokens,
    seed: 1,
    onStepStart: (s) => started.push(s),
  });
  const durations = started.map((s) => s.done.endCycles - s.startCycles);
  expect(Math.min(...durations)).toBeGreaterThan(0);

  // the scheduler with serveTrace's step times, each step in a region of its own
  let k = 0;
  const timer: StepTimer = {
    time(_shape, out: StepTiming) {
      const region = k;
      const cycles = k < durations.length ? durations[k] : 1;
      k++;
      out.shape({ cycles, regions: Int32Array.of(region), work: new Float64Array(1), taskCycles: new Float64Array(1) });
      out.work[0] = cycles;
      out.taskCycles[0] = 1;
      return cycles;
    },
  };
  const decisions: string[] = [];
  const observer: StepObserver = {
    observe: (shape, _c, rows) => void decisions.push(fromScheduler(shape.vision, rows)),
    observeInFlight: () => undefined,
  };
  const s = scheduleTrace(
    card,
    trace,
    timer,
    { count: durations.length + 1, pairGain: 1 },
    {
      batching: d.serving.batching,
      maxBatch: d.serving.maxBatch,
      prefillChunkTokens: d.serving.prefillChunkTokens,
      microBatches: d.serving.microBatches,
      kvWindowTokens: d.mapping.kvWindowTokens,
      kvCapacityTokens: mapping.kvCapacityTokens,
      clockMHz: d.clockMHz,
      admission: 'reserve',
    },
    observer,
  );
  return { chip, started, decisions, s };
}

function expectSameRun(r: ReturnType<typeof replay>): void {
  const { chip, started, decisions, s } = r;
  // the same steps, in the same order, with the same rows
  expect(decisions).toEqual(started.map(fromChip));
  // hence the same cycles for every token
  chip.requests.forEach((rec, i) => {
    expect([i, s.firstTokenCycles[i]]).toEqual([i, rec.firstTokenCycles]);
    expect([i, s.doneCycles[i]]).toEqual([i, rec.doneCycles]);
    expect(s.tokens[i]).toBe(rec.outputTokens);
  });
  const chipItl = chip.requests.flatMap((rec) => rec.tokenCycles.slice(1).map((t, j) => t - rec.tokenCycles[j])).sort((a, b) => a - b);
  expect(Array.from(s.itlCycles).sort((a, b) => a - b)).toEqual(chipItl);
  expect(s.iterations).toBe(chip.steps);
}

/** Seeded requests: Poisson arrivals, prompts and outputs uniform in the ranges, some prompts already cached. */
function requests(seed: number, n: number, meanGapMs: number, prompt: [number, number], output: [number, number], opts: { cached?: number; image?: { widthPx: number; heightPx: number }; imageShare?: number } = {}): Trace {
  const rng = new Rng(seed, 'policy-test');
  let t = 0;
  return {
    kind: 'trace',
    schemaVersion: 1,
    name: 'policy',
    requests: Array.from({ length: n }, () => {
      t += rng.exponential(meanGapMs);
      const images = opts.image && rng.next() < (opts.imageShare ?? 0) ? [opts.image] : [];
      return { arrivalMs: t, promptTokens: rng.int(prompt[0], prompt[1]), outputTokens: rng.int(output[0], output[1]), contextCached: rng.next() < (opts.cached ?? 0), images };
    }),
  };
}

const tiny = builtinModel('tiny')!;

describe('the serving scheduler mirrors serveTrace decision for decision', () => {
  test('one slot: continuous batching, chunked prefill decode-first, KV admission binding, cached prompts', () => {
    const d = design('tiny-2x2', { serving: { batching: 'continuous', maxBatch: 4, microBatches: 1, prefillChunkTokens: 16 } });
    const r = replay(tiny, d, requests(1, 40, 2, [1, 60], [1, 24], { cached: 0.15 }), 160);
    expect(r.started.length).toBeGreaterThan(100);
    expectSameRun(r);
  });

  test('three micro-batch slots over two pipeline regions, max batch not a multiple of the slots, a KV window', () => {
    const d = design('tiny-2x2', { serving: { batching: 'continuous', maxBatch: 5, microBatches: 3, prefillChunkTokens: 24 }, mapping: { pipelineStages: 2, kvWindowTokens: 48 } });
    const r = replay(tiny, d, requests(2, 40, 0.1, [1, 90], [4, 30]), 400);
    // steps of different slots overlapped on the chip
    const overlapped = r.started.some((a, i) => r.started.slice(i + 1).some((b) => b.startCycles < a.done.endCycles && b.slot !== a.slot));
    expect(overlapped).toBe(true);
    expectSameRun(r);
  });

  test('the KV cache binds across slots: a request finishing in one slot lets an idle slot admit', () => {
    const d = design('tiny-2x2', { serving: { batching: 'continuous', maxBatch: 4, microBatches: 3, prefillChunkTokens: 32 }, mapping: { kvWindowTokens: 0 } });
    expectSameRun(replay(tiny, d, requests(5, 30, 0.05, [10, 80], [2, 20]), 130));
  });

  test('single batching: one request at a time', () => {
    const d = design('tiny-2x2', { serving: { batching: 'single', prefillChunkTokens: 8 } });
    expectSameRun(replay(tiny, d, requests(3, 12, 3, [1, 30], [1, 10])));
  });

  test('images: vision passes one crop at a time, image rows in the first chunks', () => {
    const card = builtinModel('tiny-vlm')!;
    const d = design('tiny-2x2', { serving: { batching: 'continuous', maxBatch: 3, microBatches: 2, prefillChunkTokens: 16 } });
    const r = replay(card, d, requests(4, 10, 20, [1, 20], [1, 8], { image: { widthPx: 64, heightPx: 64 }, imageShare: 0.6 }));
    expect(r.started.some((s) => s.kind === 'vision')).toBe(true);
    expect(r.started.some((s) => s.imageRows > 0)).toBe(true);
    expectSameRun(r);
  });
});
