import type { ModelCard } from '../model/card.js';
import type { Design } from '../design/design.js';
import type { Trace } from '../trace/trace.js';
import type { TechTable } from '../tech/table.js';
import type { CounterRecord } from '../counters/counter.js';
import type { Weights, Constraints } from '../power/ppa.js';
import { powerReport, type PowerReport } from '../power/report.js';
import { referenceFor } from '../power/reference.js';
import { imageTokens } from '../model/derive.js';
import { mapModel, type ChipMapping } from '../chip/mapping.js';
import { sizeTilesFromWork } from '../chip/heterogeneous.js';
import { StepProbe } from '../chip/stepProbe.js';
import { chipActivity, linkLoads } from '../chip/activity.js';
import { dieLinksOf, dieToDieFlits } from '../chip/dieLinks.js';
import { computeTokensPerSecond, memoryTokensPerSecond } from '../chip/bounds.js';
import type { ChipFidelity } from '../chip/run.js';
import { StepMemo, StepTiming, visitTiming, type MemoNode } from './memo.js';
import { nodeStep, type StepShape } from './shape.js';
import { RegionSharing } from './pipeline.js';
import { Simulator } from '../kernel/simulator.js';
import { scheduleTrace, type ScheduleResult, type SchedulerOptions, type StepTimer } from './scheduler.js';
import { Rng } from '../random/rng.js';
import { HoldoutSampler, type HoldoutReport } from './holdout.js';
import { servingMetrics, type ServingMetrics, type Slo } from './metrics.js';
import { errorEstimate, PerturbedTimer, replayRng, type ErrorEstimate } from './errorEstimate.js';

/**
 * `tessera sim --fidelity serve` as a pure function (docs/serving.md):
 * map the model, serve the trace at iteration level with step times from simulated steps
 * (memoised, interpolated, cross-checked on held-out shapes), and report serving metrics,
 * power from the simulated steps' activity, and what was simulated.
 */

export interface ServingOptions {
  /** Fidelity of the simulated steps (fast, flit or detailed). */
  readonly stepFidelity: ChipFidelity;
  readonly admission: 'reserve' | 'recompute';
  readonly contextGridTokens: number;
  readonly tolerance: number;
  /** Held-out iterations simulated for the error estimate, shared over the kinds (0: none). */
  readonly holdout: number;
  /** Replays of the trace with step times erring as the held-out ones (the error estimate). */
  readonly errorReplays: number;
  /** Longest window of requests the replays serve (a seeded random window of a longer trace). */
  readonly errorReplayRequests: number;
  readonly slo: Slo;
}

export const DEFAULT_SERVING: ServingOptions = {
  stepFidelity: 'fast',
  admission: 'reserve',
  contextGridTokens: 256,
  tolerance: 0.02,
  holdout: 36,
  errorReplays: 8,
  errorReplayRequests: 2000,
  // MLPerf Inference's Llama 3.1 8B server limits (mlcommons/inference loadgen/mlperf.conf:
  // llama3_1-8b.Server.ttft_latency = 2000, tpot_latency = 100, in ms)
  slo: { ttftMs: 2000, itlMs: 100 },
};

export interface ServingInput {
  readonly card: ModelCard;
  readonly design: Design;
  readonly trace: Trace;
  readonly tech: TechTable;
  readonly seed: number;
  readonly options?: Partial<ServingOptions>;
  readonly weights?: Weights;
  readonly constraints?: Constraints;
  readonly names?: { readonly design: string; readonly model: string; readonly trace: string };
  /**
   * Simulated steps saved by an earlier run of the same design, model and simulator
   * version, looked up for the design as mapped (with heterogeneous tiles, as sized).
   */
  readonly savedSteps?: (design: Design) => readonly MemoNode[];
  readonly onProgress?: (requestsDone: number, requestsTotal: number, simulatedCycles: number, stepsSimulated: number) => void;
}

export interface ServingResult {
  readonly simulated: string;
  /** The design simulated (with heterogeneous tiles: as sized from the trace). */
  readonly design: Design;
  readonly feasible: boolean;
  readonly reasons: readonly string[];
  /** null when the design is infeasible (nothing was simulated). */
  readonly metrics: ServingMetrics | null;
  readonly power: { readonly totalW: number; readonly computeW: number; readonly sramW: number; readonly romW: number; readonly nocW: number; readonly leakageW: number; readonly energyPerTokenJ: number } | null;
  readonly areaMm2: number;
  readonly ppaScore: number | null;
  readonly bounds: { readonly computeTokensPerSecond: number; readonly memoryTokensPerSecond: number; readonly atBatch: number; readonly atContextTokens: number } | null;
  readonly steps: {
    readonly fidelity: ChipFidelity;
    /** Distinct steps simulated in this run (memo nodes), and loaded from a saved memo. */
    readonly simulated: number;
    readonly loaded: number;
    readonly used: number;
    readonly chipEvents: number;
    readonly kernelsRun: number;
    readonly kernelEvents: number;
    readonly refinementChecks: number;
    readonly refinementSplits: number;
    readonly contextGridTokens: number;
    readonly tolerance: number;
    /** What two like steps gain by sharing a region (measured; 1 when steps never share). */
    readonly pairGain: number;
    readonly holdout: HoldoutReport | null;
  };
  readonly errorEstimate: ErrorEstimate | null;
  readonly run: {
    readonly iterations: number;
    readonly visionPasses: number;
    readonly simulatedCycles: number;
    readonly generatedTokens: number;
    readonly recomputedTokens: number;
    readonly requests: number;
    /** Busy share of each pipeline region over the window; the largest is the load. */
    readonly regionUtilisation: readonly number[];
    readonly load: number;
    readonly maxQueue: number;
  } | null;
  readonly timeSeries: {
    readonly binSeconds: number;
    readonly startSeconds: readonly number[];
    readonly queueMean: readonly number[];
    readonly queueMax: readonly number[];
    readonly runningMean: readonly number[];
    readonly kvOccupancyMean: readonly number[];
    readonly kvOccupancyMax: readonly number[];
    readonly tokensPerSecond: readonly number[];
  } | null;
  readonly mapping: { readonly feasible: boolean; readonly regions: number; readonly kvCapacityTokens: number; readonly shortfalls: ChipMapping['shortfalls'] };
  readonly counters: CounterRecord;
  readonly requests: readonly { readonly arrivalMs: number; readonly ttftMs: number | null; readonly tokens: number; readonly doneMs: number | null; readonly rejected?: string }[];
  readonly report: PowerReport;
  /** Steps simulated in this run, to save for the next run of the same design, model and simulator version. */
  readonly newSteps: readonly MemoNode[];
}

function contextOf(card: ModelCard, r: Trace['requests'][number]): number {
  return r.promptTokens + r.images.reduce((s, im) => s + imageTokens(card, im.widthPx, im.heightPx), 0) + r.outputTokens;
}

export function simulateServing(input: ServingInput): ServingResult {
  const { card, trace, tech } = input;
  const opt = resolveOptions(input.options);
  const serving = input.design.serving;
  const window = input.design.mapping.kvWindowTokens;
  const { design, mapping, requiredKvTokens } = mapForTrace(card, input.design, trace);
  const slots = serving.batching === 'single' ? 1 : Math.max(1, Math.min(serving.microBatches, serving.maxBatch));
  const simulatedText = describeRun(input, design, opt, slots);
  if (!mapping.feasible) return infeasibleResult(input, design, mapping, opt, requiredKvTokens, simulatedText);

  // the step memo, and the gain of two steps sharing a region
  const probe = new StepProbe(card, design, mapping, opt.stepFidelity, window, tech);
  const perSlot = Math.max(1, Math.ceil((serving.batching === 'single' ? 1 : serving.maxBatch) / slots));
  const memo = new StepMemo(probe, { contextGridTokens: opt.contextGridTokens, tolerance: opt.tolerance, maxDecodeRows: perSlot, chunkTokens: serving.prefillChunkTokens, kvWindowTokens: window, seed: input.seed, vocabSize: card.text.vocabSize }, input.savedSteps?.(design));
  const loaded = memo.nodes.length;
  const pairGain = slots > 1 || card.vision ? measurePairGain(probe, perSlot, opt.contextGridTokens, input.seed, card.text.vocabSize) : 1;

  // serve the trace, then check the memo on held-out iterations
  const holdout = new HoldoutSampler(opt.holdout, input.seed, card.text.vocabSize);
  const onProgress = input.onProgress;
  const schedOptions = schedulerOptions(serving, window, mapping.kvCapacityTokens, design.clockMHz, opt.admission);
  const regions = { count: mapping.regions.length, pairGain };
  const sched: ScheduleResult = scheduleTrace(card, trace, memo, regions, { ...schedOptions, onProgress: onProgress && ((done, total, cycles) => onProgress(done, total, cycles, memo.simulatedNodes)) }, holdout);
  const stepsUsed = memo.nodes.reduce((n, _, i) => n + (memo.usage[i] > 0 ? 1 : 0), 0);
  const probeEventsBeforeHoldout = probe.events;
  const held = opt.holdout > 0 ? holdout.check(probe, (group) => groupLatencies(memo, mapping.regions.length, pairGain, group)) : null;
  const metrics = servingMetrics(sched, design.clockMHz, opt.slo);
  const estimate = held && held.samples > 0 && opt.errorReplays > 0 ? estimateError(input, design, memo, held, regions, schedOptions, opt, metrics) : null;

  const cycles = Math.max(1, sched.endCycles);
  const { chip, report } = servingPower(input, design, memo, sched.generatedTokens, cycles, probeEventsBeforeHoldout, simulatedText);
  const msPerCycle = 1 / (design.clockMHz * 1000);
  const w = report.power.byCategoryW;
  const meanContext = Math.round(trace.requests.reduce((s, r) => s + r.promptTokens + r.outputTokens / 2, 0) / trace.requests.length);
  return {
    simulated: simulatedText,
    design,
    feasible: true,
    reasons: [],
    metrics,
    power: { totalW: report.power.totalW, computeW: w.compute, sramW: w.sram, romW: w.rom, nocW: w.noc, leakageW: w.leakage, energyPerTokenJ: report.metrics.energyPerTokenJ },
    areaMm2: report.area.totalMm2,
    ppaScore: report.ppa.score,
    bounds: { computeTokensPerSecond: computeTokensPerSecond(card, design, meanContext), memoryTokensPerSecond: memoryTokensPerSecond(card, design, meanContext, perSlot), atBatch: perSlot, atContextTokens: meanContext },
    steps: stepsSummary(opt, probe, memo, { loaded, used: stepsUsed, pairGain, holdout: held }),
    errorEstimate: estimate,
    run: runSummary(sched, cycles, trace.requests.length),
    timeSeries: timeSeriesOf(sched, msPerCycle, mapping.kvCapacityTokens),
    mapping: mappingSummary(mapping),
    counters: chip,
    requests: requestRows(sched, msPerCycle),
    report,
    newSteps: memo.newNodes(),
  };
}

/** The serving options, with those left undefined at their defaults. */
function resolveOptions(options: Partial<ServingOptions> | undefined): ServingOptions {
  return { ...DEFAULT_SERVING, ...Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined)) };
}

/**
 * Map the model for the trace: the design must hold the smallest request (larger ones that
 * never fit are rejected and counted); heterogeneous tiles are sized for the largest.
 */
function mapForTrace(card: ModelCard, asGiven: Design, trace: Trace): { design: Design; mapping: ChipMapping; requiredKvTokens: number } {
  const serving = asGiven.serving;
  const window = asGiven.mapping.kvWindowTokens;
  const needs = trace.requests.map((r) => (window > 0 ? Math.min(contextOf(card, r), window) : contextOf(card, r)));
  const mapOptions = { maxBatch: serving.batching === 'single' ? 1 : serving.maxBatch, chunkTokens: serving.prefillChunkTokens, requiredKvTokens: Math.min(...needs) };
  let design = asGiven;
  let mapping = mapModel(card, design, mapOptions);
  if (design.mapping.heterogeneousTiles) {
    design = sizeTilesFromWork(design, mapping, Math.max(...needs));
    mapping = mapModel(card, design, mapOptions);
  }
  return { design, mapping, requiredKvTokens: mapOptions.requiredKvTokens };
}

/** One sentence on what is simulated: model, design, trace, step fidelity, batching, admission, regions. */
function describeRun(input: ServingInput, design: Design, opt: ServingOptions, slots: number): string {
  const { card, trace } = input;
  const names = input.names ?? { design: input.design.name, model: card.name, trace: trace.name };
  const serving = input.design.serving;
  return `${names.model} on ${names.design} (${design.mesh.rows}x${design.mesh.cols} tiles, ${design.processNodeNm} nm, ${design.clockMHz} MHz), trace ${names.trace} (${trace.requests.length} request${trace.requests.length === 1 ? '' : 's'}), fidelity serve: iteration-level serving with step times from ${opt.stepFidelity}-fidelity simulated steps (context grid ${opt.contextGridTokens} tokens, row tolerance ${(100 * opt.tolerance).toFixed(1)}%); ${serving.batching === 'single' ? 'one request at a time' : `continuous batching, max batch ${serving.maxBatch}, ${slots} micro-batch${slots === 1 ? '' : 'es'}`}, prefill chunk ${serving.prefillChunkTokens}, KV admission ${opt.admission}; ${design.mapping.pipelineStages} pipeline region${design.mapping.pipelineStages === 1 ? '' : 's'}`;
}

/** Nothing simulated: what does not fit, and the area of the design as it stands. */
function infeasibleResult(input: ServingInput, design: Design, mapping: ChipMapping, opt: ServingOptions, requiredKvTokens: number, simulatedText: string): ServingResult {
  const reasons = mapping.shortfalls.map((s) => `${s.what} do not fit on tile ${s.tile} (row ${Math.floor(s.tile / design.mesh.cols)}, col ${s.tile % design.mesh.cols}): need ${s.needBytes} bytes, have ${s.haveBytes}${s.what === 'kv' ? ` (the smallest request needs ${requiredKvTokens} cached tokens)` : ''}`);
  const report = powerReport({ design, tech: input.tech, counters: {}, simulatedCycles: 1, tokens: 0, reference: referenceFor(input.card), weights: input.weights, constraints: input.constraints, mappingFeasible: false, title: `INFEASIBLE: ${simulatedText}` });
  return { simulated: `not simulated: the mapping is infeasible. ${simulatedText}`, design, feasible: false, reasons, metrics: null, power: null, areaMm2: report.area.totalMm2, ppaScore: null, bounds: null, steps: { fidelity: opt.stepFidelity, simulated: 0, loaded: 0, used: 0, chipEvents: 0, kernelsRun: 0, kernelEvents: 0, refinementChecks: 0, refinementSplits: 0, contextGridTokens: opt.contextGridTokens, tolerance: opt.tolerance, pairGain: 1, holdout: null }, errorEstimate: null, run: null, timeSeries: null, mapping: mappingSummary(mapping), counters: {}, requests: [], report, newSteps: [] };
}

function mappingSummary(mapping: ChipMapping): ServingResult['mapping'] {
  return { feasible: mapping.feasible, regions: mapping.regions.length, kvCapacityTokens: mapping.kvCapacityTokens, shortfalls: mapping.shortfalls };
}

function schedulerOptions(serving: Design['serving'], window: number, kvCapacityTokens: number, clockMHz: number, admission: ServingOptions['admission']): SchedulerOptions {
  return {
    batching: serving.batching,
    maxBatch: serving.maxBatch,
    prefillChunkTokens: serving.prefillChunkTokens,
    microBatches: serving.microBatches,
    kvWindowTokens: window,
    kvCapacityTokens,
    clockMHz,
    admission,
  };
}

/**
 * The error estimate: replays of a window of at most `errorReplayRequests` requests (the
 * whole trace when it is that short) with step times erring as the held-out ones, against
 * the same window served as the run did.
 */
function estimateError(input: ServingInput, design: Design, memo: StepMemo, held: HoldoutReport, regions: { count: number; pairGain: number }, schedOptions: SchedulerOptions, opt: ServingOptions, metrics: ServingMetrics): ErrorEstimate {
  const { card, trace } = input;
  const n = Math.min(trace.requests.length, opt.errorReplayRequests);
  const from = new Rng(input.seed, 'serving/replay-window').int(0, trace.requests.length - n);
  const window = n === trace.requests.length ? trace : { ...trace, requests: trace.requests.slice(from, from + n) };
  const serve = (timer: StepTimer) => servingMetrics(scheduleTrace(card, window, timer, regions, schedOptions), design.clockMHz, opt.slo);
  const base = window === trace ? metrics : serve({ time: (shape, timing) => memo.predict(shape, timing) });
  const replays = Array.from({ length: opt.errorReplays }, (_, k) => serve(new PerturbedTimer(memo, held.errors, replayRng(input.seed, k))));
  return errorEstimate(base, replays, held, window === trace ? undefined : { requests: n, from });
}

/** Power: the activity of the simulated steps, weighted as the iterations used them. */
function servingPower(input: ServingInput, design: Design, memo: StepMemo, tokens: number, cycles: number, kernelEvents: number, title: string): { chip: CounterRecord; report: PowerReport } {
  const { tech } = input;
  const act = memo.activity(design.mesh.rows * design.mesh.cols);
  const { tileRecords, chip } = chipActivity(design, act.tileCounters, act.nocCounters, cycles);
  chip['kernel.eventsDispatched'] = kernelEvents;
  chip['noc.dieToDieFlits'] = dieToDieFlits(dieLinksOf(design, tech).layout, design.mesh.rows, design.mesh.cols, act.linkFlits);
  const report = powerReport({
    design,
    tech,
    counters: chip,
    simulatedCycles: cycles,
    tokens,
    tileCounters: tileRecords,
    linkLoads: linkLoads(design, act.linkFlits),
    reference: referenceFor(input.card),
    weights: input.weights,
    constraints: input.constraints,
    mappingFeasible: true,
    title,
  });
  return { chip, report };
}

/** What was simulated for the step times: memo nodes simulated, loaded and used, chip and kernel events, refinement. */
function stepsSummary(opt: ServingOptions, probe: StepProbe, memo: StepMemo, run: { loaded: number; used: number; pairGain: number; holdout: HoldoutReport | null }): ServingResult['steps'] {
  const kernels = probe.kernelStats;
  const refinement = memo.refinement();
  return {
    fidelity: opt.stepFidelity,
    simulated: memo.simulatedNodes,
    loaded: run.loaded,
    used: run.used,
    chipEvents: probe.events,
    kernelsRun: kernels.kernelsRun,
    kernelEvents: kernels.kernelEvents,
    refinementChecks: refinement.checks,
    refinementSplits: refinement.splits,
    contextGridTokens: opt.contextGridTokens,
    tolerance: opt.tolerance,
    pairGain: run.pairGain,
    holdout: run.holdout,
  };
}

function runSummary(sched: ScheduleResult, cycles: number, requests: number): NonNullable<ServingResult['run']> {
  const regionUtilisation = Array.from(sched.regionBusyCycles, (b) => b / cycles);
  return {
    iterations: sched.iterations,
    visionPasses: sched.visionPasses,
    simulatedCycles: cycles,
    generatedTokens: sched.generatedTokens,
    recomputedTokens: sched.recomputedTokens,
    requests,
    regionUtilisation,
    load: Math.max(0, ...regionUtilisation),
    maxQueue: sched.maxQueue,
  };
}

/** Each request's arrival, time to first token, tokens and completion (or why it was rejected). */
function requestRows(sched: ScheduleResult, msPerCycle: number): ServingResult['requests'] {
  return Array.from(sched.arrivalCycles, (a, i) => {
    const rej = sched.rejected[i];
    return {
      arrivalMs: a * msPerCycle,
      ttftMs: rej >= 0 ? null : (sched.firstTokenCycles[i] - a) * msPerCycle,
      tokens: sched.tokens[i],
      doneMs: rej >= 0 ? null : sched.doneCycles[i] * msPerCycle,
      ...(rej >= 0 ? { rejected: (['kv', 'context', 'vision'] as const)[rej] } : {}),
    };
  });
}

/** The serving tier's latency of each step of a group started at the given cycles: memo times through fresh shared regions. */
function groupLatencies(memo: StepMemo, regions: number, pairGain: number, group: readonly { readonly shape: StepShape; readonly startCycles: number }[]): number[] {
  const sim = new Simulator({ nearWindowCycles: 1 << 14 });
  const sharing = new RegionSharing(sim, regions, pairGain);
  const out = group.map(() => 0);
  group.forEach((g, k) =>
    sim.scheduleAt(g.startCycles, () => {
      const timing = new StepTiming();
      memo.predict(g.shape, timing);
      sharing.start(timing, () => (out[k] = sim.now - g.startCycles));
    }),
  );
  sim.run();
  return out;
}

/**
 * What two like steps gain by sharing a region (pipeline.ts): two identical decode steps
 * of `rows` rows simulated started together against one alone, 2 T(one) / T(two), in [1, 2].
 */
function measurePairGain(probe: StepProbe, rows: number, context: number, seed: number, vocab: number): number {
  const fam = { vision: false, emits: true, imageShare: 'text' as const };
  const one = probe.run([nodeStep(fam, rows, 0, context, 'pair/a', seed, vocab)]);
  const two = probe.run([nodeStep(fam, rows, 0, context, 'pair/a', seed, vocab), nodeStep(fam, rows, 0, context, 'pair/b', seed, vocab)]);
  const alone = visitTiming(one.steps[0].visits, 0, one.steps[0].doneCycles).cycles;
  const together = Math.max(...two.steps.map((x) => x.doneCycles));
  return Math.min(2, Math.max(1, (2 * alone) / together));
}

function timeSeriesOf(s: ScheduleResult, msPerCycle: number, kvCapacity: number): NonNullable<ServingResult['timeSeries']> {
  const toS = (c: number) => (c * msPerCycle) / 1000;
  const binSeconds = toS(s.queue.widthCycles);
  const tokBin = toS(s.tokensPerBin.widthCycles);
  // tokens per bin, resampled onto the queue's bins (both double from the same start)
  const tokens = s.queue.startCycles.map((start) => {
    const k = Math.floor((start - s.queue.startCycles[0]) / s.tokensPerBin.widthCycles);
    return (s.tokensPerBin.counts[k] ?? 0) / tokBin;
  });
  return {
    binSeconds,
    startSeconds: s.queue.startCycles.map(toS),
    queueMean: s.queue.mean,
    queueMax: s.queue.max,
    runningMean: s.running.mean,
    kvOccupancyMean: s.kvTokens.mean.map((v) => v / Math.max(1, kvCapacity)),
    kvOccupancyMax: s.kvTokens.max.map((v) => v / Math.max(1, kvCapacity)),
    tokensPerSecond: tokens,
  };
}
