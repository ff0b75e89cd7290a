import type { ModelCard } from '../model/card.js';
import type { Design } from '../design/design.js';
import type { Trace } from '../trace/trace.js';
import type { TechTable } from '../tech/table.js';
import type { CounterRecord } from '../counters/counter.js';
import { Simulator } from '../kernel/simulator.js';
import { CounterRegistry } from '../counters/registry.js';
import { resolveTiles } from '../design/tiles.js';
import { imageTiles, imageTokens } from '../model/derive.js';
import { createNetwork } from '../noc/create.js';
import { zeroLoadLatencyCycles, packetFlits } from '../noc/packet.js';
import { InputError } from '../validate/inputError.js';
import { powerReport, type PowerReport } from '../power/report.js';
import { referenceFor } from '../power/reference.js';
import type { Weights, Constraints } from '../power/ppa.js';
import { bytesPerElement } from '../units/precision.js';
import { kvBytesPerTokenPerLayer, kvScaleBytesPerTokenPerLayer } from '../model/derive.js';
import { mapModel, type ChipMapping } from './mapping.js';
import { Placement } from './placement.js';
import { sizeTilesFromWork } from './heterogeneous.js';
import { kvAdmits, requestKvTokens, serveTrace, type ServeResult } from './serve.js';
import { TileKernelCosts } from './tileCosts.js';
import { chipActivity, linkLoads } from './activity.js';
import { buildTextStep } from './step.js';
import { busiestLinkTokensPerSecond, busiestTileCyclesOf, layerSequentialTokensPerSecond, ttftBoundCycles, computeTokensPerSecond, criticalPathsOf, memoryTokensPerSecond, type MessageCycles, minWorkCycles, nocTokensPerSecond } from './bounds.js';
import type { ChipEngine, Task } from './engine.js';
import { dieLinksOf, dieToDieFlits, withDieLinks } from './dieLinks.js';

/**
 * `tessera sim` as a pure function: lower, map, serve the trace on the simulated chip,
 * then turn the activity into power, area, metrics, bounds and the PPA score.
 *
 * Fidelities: `fast` = fast tiles + message-level NoC; `flit` = fast tiles + flit-level
 * NoC; `detailed` = detailed tiles + flit-level NoC.
 */

export type ChipFidelity = 'fast' | 'flit' | 'detailed';

export interface SimInput {
  readonly card: ModelCard;
  readonly design: Design;
  readonly trace: Trace;
  readonly tech: TechTable;
  readonly fidelity: ChipFidelity;
  readonly seed: number;
  readonly recordTimeline?: boolean;
  readonly weights?: Weights;
  readonly constraints?: Constraints;
  /** Stop with an EventLimitExceeded error after this many chip events (a runaway guard counted in events, so it is deterministic). */
  readonly maxEvents?: number;
  /** Names for the report (files or built-in names). */
  readonly names?: { readonly design: string; readonly model: string; readonly trace: string };
  /** Called after every serving step (the edge turns it into a progress line; the core keeps no clock). */
  readonly onProgress?: (p: SimProgress) => void;
}

export interface SimProgress {
  readonly requestsDone: number;
  readonly requestsTotal: number;
  readonly generatedTokens: number;
  readonly tokensTotal: number;
  readonly simulatedCycles: number;
}

export interface SimMetrics {
  readonly tokensPerSecond: number;
  readonly ttftMs: { readonly p50: number; readonly p99: number };
  /** null when no request generated a second token (no inter-token interval exists). */
  readonly itlMs: { readonly p50: number; readonly p99: number } | null;
  readonly powerW: number;
  readonly energyPerTokenJ: number;
  readonly activeEnergyPerTokenJ: number;
  readonly idleEnergyPerTokenJ: number;
  readonly areaMm2: number;
  /** Reticle-sized dies the design needs (report.area.dies). */
  readonly dies: number;
  readonly ppaScore: number;
  readonly feasible: boolean;
}

export interface SimResult {
  /** The design can serve the trace (weights, KV cache and activations fit): it was simulated. */
  readonly feasible: true;
  readonly simulated: string;
  readonly metrics: SimMetrics;
  readonly power: { readonly computeW: number; readonly sramW: number; readonly romW: number; readonly nocW: number; readonly leakageW: number; readonly byComponentW: Readonly<Record<string, number>> };
  readonly counters: { readonly romBytesRead: number; readonly kvBytesRead: number; readonly kvBytesWritten: number; readonly flitsInjected: number; readonly flitsEjected: number; readonly flitsReplicated: number; readonly macs: number };
  readonly bounds: {
    readonly computeTokensPerSecond: number;
    readonly memoryTokensPerSecond: number;
    /** Infinity (JSON null) when the run sent nothing over a link. */
    readonly nocTokensPerSecond: number;
    readonly mappingTokensPerSecond: number;
    /**
     * The regions working one after the other, each at its tightest resource (ROM ports or
     * lanes) for the step at `boundAt`: what a single micro-batch can reach on this mapping.
     */
    readonly layerSequentialTokensPerSecond: number;
    /**
     * The trace's first request alone: its encoder crops and prefill chunks (or, context
     * cached, one decode step) through the regions one after the other, each at its ROM or
     * lane limit (a lower bound of its TTFT, queueing aside).
     */
    readonly firstTtftBoundMs: number;
    /** What that bound is made of, in words. */
    readonly firstTtftBoundBasis: string;
    /** Which limit of the mapped step sets the mapping bound. */
    readonly mappingLimitedBy: 'critical path' | 'busiest tile' | 'busiest link' | 'none';
    readonly criticalPathCycles: number;
    /**
     * The step's critical path at the tile model's kernel times with zero-load messages
     * (the latency bound of one step), and the share of it that is message latency.
     */
    readonly latencyBoundCycles: number;
    readonly criticalPathNocShare: number;
    /** The busiest tile's cycles per step with every task at its resource limit. */
    readonly busiestTileCycles: number;
    readonly boundAt: { readonly batch: number; readonly contextTokens: number };
  };
  readonly run: { readonly simulatedCycles: number; readonly events: number; readonly fidelity: ChipFidelity; readonly requestsSimulated: number; readonly generatedTokens: number; readonly steps: number; readonly kernelsSimulated: number; readonly kernelEvents: number };
  readonly mapping: { readonly feasible: boolean; readonly regions: number; readonly kvCapacityTokens: number; readonly shortfalls: ChipMapping['shortfalls']; readonly reasons: readonly string[] };
  /** How far the simulated rate is below the mapping bound, and the largest cause of the gap. */
  readonly belowBound: { readonly fractionOfMappingBound: number; readonly dominantStall: string; readonly stallCycles: Readonly<Record<string, number>> };
  /**
   * Sequences in flight at once at most: min(serving.maxBatch, requests, what the KV cache
   * holds together); `kvLimited` when the KV cache is the limit. The mapping bound uses it.
   */
  readonly concurrency: { readonly sequences: number; readonly maxBatch: number; readonly kvAdmits: number; readonly kvLimited: boolean };
  readonly allCounters: CounterRecord;
  readonly requests: readonly { readonly arrivalMs: number; readonly ttftMs: number; readonly tokens: number; readonly doneMs: number }[];
  readonly report: PowerReport;
}

/**
 * A design that cannot serve the trace: nothing was simulated, so every measurement is
 * null (never a zero that reads like a result); the area is still the design's.
 */
export interface InfeasibleSimResult {
  readonly feasible: false;
  readonly simulated: string;
  readonly metrics: { readonly tokensPerSecond: null; readonly ttftMs: null; readonly itlMs: null; readonly powerW: null; readonly energyPerTokenJ: null; readonly areaMm2: number; readonly ppaScore: null; readonly feasible: false };
  readonly run: { readonly fidelity: ChipFidelity; readonly requestsSimulated: 0; readonly requestsInTrace: number };
  readonly mapping: SimResult['mapping'];
  /** The area report; its PPA score is the search's penalty for an infeasible design. */
  readonly report: PowerReport;
}

export interface SimOutput {
  readonly result: SimResult | InfeasibleSimResult;
  /** The engine, for the timeline (only when the design was feasible). */
  readonly engine?: ChipEngine;
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** The longest context any request needs in the KV cache (prompt + images + outputs, windowed). */
function kvTokensNeeded(card: ModelCard, design: Design, trace: Trace): number {
  let need = 0;
  for (const r of trace.requests) {
    const all = r.promptTokens + r.images.reduce((s, im) => s + imageTokens(card, im.widthPx, im.heightPx), 0) + r.outputTokens;
    need = Math.max(need, design.mapping.kvWindowTokens > 0 ? Math.min(all, design.mapping.kvWindowTokens) : all);
  }
  return need;
}

/**
 * Most sequences in flight at once: serving.maxBatch (1 when serving one at a time), the
 * trace's requests, and how many of them the KV cache holds together (the smallest first).
 */
function concurrencyOf(card: ModelCard, design: Design, trace: Trace, mapping: ChipMapping): SimResult['concurrency'] {
  const maxBatch = design.serving.batching === 'single' ? 1 : design.serving.maxBatch;
  const needs = trace.requests.map((r) => {
    const image = r.images.reduce((s, im) => s + imageTokens(card, im.widthPx, im.heightPx), 0);
    return requestKvTokens(r.promptTokens + image + r.outputTokens, image > 0, design.mapping.kvWindowTokens, mapping.encoderScratchTokens);
  });
  const admits = kvAdmits(needs, mapping.kvCapacityTokens);
  const sequences = Math.max(1, Math.min(maxBatch, admits, trace.requests.length));
  return { sequences, maxBatch, kvAdmits: admits, kvLimited: admits < Math.min(maxBatch, trace.requests.length) };
}

/** The TTFT bound of the trace's first request in milliseconds (bounds.ts, `ttftBoundCycles`), and what it is made of. */
function firstTtftBound(card: ModelCard, design: Design, mapping: ChipMapping, trace: Trace): { firstTtftBoundMs: number; firstTtftBoundBasis: string } {
  const r = trace.requests[0];
  if (!r) return { firstTtftBoundMs: 0, firstTtftBoundBasis: 'no request' };
  const crops = r.images.reduce((s, im) => s + imageTiles(card, im.widthPx, im.heightPx).tiles, 0);
  const image = r.images.reduce((s, im) => s + imageTokens(card, im.widthPx, im.heightPx), 0);
  const cycles = ttftBoundCycles(card, design, mapping, { promptTokens: r.promptTokens, imageTokens: image, crops, contextCached: r.contextCached });
  const regions = `${mapping.regions.length} region${mapping.regions.length === 1 ? '' : 's'}`;
  const chunk = design.serving.prefillChunkTokens;
  const chunks = Math.ceil((r.promptTokens + image) / chunk);
  const basis = r.contextCached
    ? `one decode step (context cached) through the ${regions} one after the other, each at its ROM or lane limit`
    : `${crops ? `${crops} encoder crop${crops === 1 ? '' : 's'}, then ` : ''}${chunks} prefill chunk${chunks === 1 ? '' : 's'} of up to ${chunk} tokens, one after the other, each through the ${regions} one after the other at its ROM or lane limit`;
  return { firstTtftBoundMs: cycles / (design.clockMHz * 1000), firstTtftBoundBasis: basis };
}

/** Reject a trace the model cannot serve: contexts beyond the model's maximum. */
export function checkTraceFitsModel(card: ModelCard, trace: Trace, traceName: string): void {
  trace.requests.forEach((r, i) => {
    const all = r.promptTokens + r.images.reduce((s, im) => s + imageTokens(card, im.widthPx, im.heightPx), 0) + r.outputTokens;
    if (all > card.text.maxPositionEmbeddings) {
      throw new InputError(traceName, `requests[${i}]`, `${all} tokens`, `longer than ${card.name}'s context of ${card.text.maxPositionEmbeddings} tokens (prompt + image tokens + outputs)`, 'shorten the request or use a model with a longer context');
    }
  });
  if (trace.requests.some((r) => r.images.length > 0) && !card.vision) {
    const i = trace.requests.findIndex((r) => r.images.length > 0);
    throw new InputError(traceName, `requests[${i}].images`, `${trace.requests[i].images.length} image(s)`, `${card.name} has no vision encoder`, 'drop the images or use a vision-language model');
  }
}

/**
 * The mapping a run of `trace` uses: the model mapped with the design's serving limits and
 * the KV room the longest request needs (tiles sized first when the design asks for it).
 * `simulateChip` runs on it; fix suggestions test candidate designs with it.
 */
export function planMapping(card: ModelCard, inputDesign: Design, trace: Trace): { design: Design; mapping: ChipMapping; requiredKvTokens: number } {
  const serving = inputDesign.serving;
  const mapOptions = { maxBatch: serving.batching === 'single' ? 1 : serving.maxBatch, chunkTokens: serving.prefillChunkTokens, requiredKvTokens: kvTokensNeeded(card, inputDesign, trace) };
  let design = inputDesign;
  let mapping = mapModel(card, design, mapOptions);
  if (design.mapping.heterogeneousTiles) {
    // size every tile from its share of the work, then map onto the sized tiles
    design = sizeTilesFromWork(design, mapping, mapOptions.requiredKvTokens);
    mapping = mapModel(card, design, mapOptions);
  }
  return { design, mapping, requiredKvTokens: mapOptions.requiredKvTokens };
}

const WHAT: Record<'weights' | 'kv' | 'activations', string> = { weights: 'weights do', kv: 'KV cache does', activations: 'activation buffers do' };
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const count = (n: number, noun: string, nouns = `${noun}s`) => `${int(n)} ${n === 1 ? noun : nouns}`;

/** One line per shortfall, with the numbers: what does not fit where, need and have. */
export function shortfallReasons(mapping: ChipMapping, design: Design, requiredKvTokens: number): string[] {
  return mapping.shortfalls.map((s) => {
    const where = `tile ${s.tile} (row ${Math.floor(s.tile / design.mesh.cols)}, col ${s.tile % design.mesh.cols})`;
    const memory = s.what === 'weights' ? 'WMEM' : 'DMEM';
    const extra = s.what === 'kv' ? `: the longest request needs ${int(requiredKvTokens)} cached tokens, the chip holds ${int(mapping.kvCapacityTokens)}` : '';
    return `${WHAT[s.what]} not fit on ${where}: need ${int(s.needBytes)} bytes, ${memory} has ${int(s.haveBytes)} (short by ${int(s.needBytes - s.haveBytes)})${extra}`;
  });
}

/** The serving loop's per-step callback for `onProgress` (totals computed once). */
function progressReporter(onProgress: SimInput['onProgress'], trace: Trace) {
  if (!onProgress) return undefined;
  const requestsTotal = trace.requests.length;
  const tokensTotal = trace.requests.reduce((s, r) => s + r.outputTokens, 0);
  return (requestsDone: number, generatedTokens: number, simulatedCycles: number) => onProgress({ requestsDone, requestsTotal, generatedTokens, tokensTotal, simulatedCycles });
}

export function simulateChip(input: SimInput): SimOutput {
  const { card, trace, tech } = input;
  const names = input.names ?? { design: input.design.name, model: card.name, trace: trace.name };
  checkTraceFitsModel(card, trace, names.trace);
  const serving = input.design.serving;
  const { design, mapping, requiredKvTokens } = planMapping(card, input.design, trace);
  const reasons = shortfallReasons(mapping, design, requiredKvTokens);
  const simulatedText = describeRun(input, design, names);

  if (!mapping.feasible) return infeasibleOutput(input, design, mapping, reasons, simulatedText);

  const sim = new Simulator();
  const registry = new CounterRegistry();
  const dies = dieLinksOf(design, tech); // a design beyond the reticle: die-to-die latency on crossing messages
  const network = withDieLinks(createNetwork(sim, design, { model: input.fidelity === 'fast' ? 'message' : 'flit', counters: registry, reservation: 'path' }), sim, dies.layout, design.mesh.cols, dies.latencyCycles);
  const costs = new TileKernelCosts(design, input.fidelity === 'detailed' ? 'detailed' : 'fast');
  const served: ServeResult = serveTrace(card, design, trace, mapping, { sim, network, costs }, {
    batching: serving.batching,
    maxBatch: serving.maxBatch,
    prefillChunkTokens: serving.prefillChunkTokens,
    microBatches: serving.microBatches,
    kvWindowTokens: design.mapping.kvWindowTokens,
    seed: input.seed,
    recordTimeline: input.recordTimeline,
    onStep: progressReporter(input.onProgress, trace),
    maxEvents: input.maxEvents,
  });
  // the window ends with the last task, at every fidelity: no NoC bookkeeping event after
  // the work (a pending watchdog check, a stale router wake) stretches it
  const cycles = Math.max(1, served.engine.lastCompletionCycles);
  const nTiles = design.mesh.rows * design.mesh.cols;

  // per-tile records from the engine, plus the ROM's idle (power-gated) cycles
  const { tileRecords, chip } = chipActivity(design, served.engine.tileCounters, registry.totals(), cycles);
  chip['kernel.eventsDispatched'] = sim.eventsDispatched;

  // link loads for the heatmap
  const lf = network.linkFlits();
  chip['noc.dieToDieFlits'] = dieToDieFlits(dies.layout, design.mesh.rows, design.mesh.cols, lf);
  const links = linkLoads(design, lf);

  const { ttft, itl, requests } = requestLatencies(served, design.clockMHz);
  const first = served.requests.length ? Math.min(...served.requests.map((r) => r.arrivalCycles)) : 0;
  const last = served.requests.length ? Math.max(...served.requests.map((r) => r.doneCycles)) : cycles;
  const windowSeconds = Math.max(1, last - first) / (design.clockMHz * 1e6);
  const tokensPerSecond = served.generatedTokens / windowSeconds;

  const report = powerReport({
    design,
    tech,
    counters: chip,
    simulatedCycles: cycles,
    tokens: served.generatedTokens,
    tileCounters: tileRecords,
    linkLoads: links,
    ttftMs: ttft,
    itlMs: itl.length ? itl : undefined,
    reference: referenceFor(card),
    weights: input.weights,
    constraints: input.constraints,
    mappingFeasible: true,
    title: simulatedText,
  });

  // Bounds at the run's largest decode step (`batch` rows of one micro-batch step), at that
  // step's first occurrence (its shortest context); without decode steps, a step is built
  // at the requests' mean context.
  const largest = [...served.decodeSteps.keys()].sort((a, b) => b - a)[0];
  const rep = largest !== undefined ? served.decodeSteps.get(largest)! : undefined;
  const meanContext = rep ? rep.contextTokens : Math.round(trace.requests.reduce((s, r) => s + r.promptTokens + r.outputTokens / 2, 0) / Math.max(1, trace.requests.length));
  const batch = largest ?? 1;
  const compute = computeTokensPerSecond(card, design, meanContext);
  const memory = memoryTokensPerSecond(card, design, meanContext, batch);
  const noc = nocTokensPerSecond(design, chip['noc.linkFlitHops'] ?? 0, served.generatedTokens);
  // the critical path at resource limits, and the same path at the tile model's kernel
  // times (zero-load messages): what the tiles alone cost
  const { atLimits: cp, atKernels: cpTiles, nocShare, busiestTile } = mappedCriticalPaths(card, design, mapping, batch, meanContext, (tile, work) => costs.cost(tile, work).cycles, rep?.tasks);
  // `slots` micro-batch steps can be in flight at once, each at least the critical path
  // long; never more sequences than maxBatch
  const concurrency = concurrencyOf(card, design, trace, mapping);
  const slots = serving.batching === 'single' ? 1 : Math.max(1, Math.min(serving.microBatches, concurrency.sequences));
  const inFlight = serving.batching === 'single' ? batch : Math.min(slots * batch, concurrency.sequences);
  const f = design.clockMHz * 1e6;
  const mappingLimits = {
    'critical path': (inFlight * f) / cp,
    'busiest tile': (batch * f) / Math.max(1, busiestTile),
    'busiest link': busiestLinkTokensPerSecond(design, lf, served.generatedTokens),
  };
  const [mappingLimitedBy, mappingBound] = Object.entries(mappingLimits).sort((a, b) => a[1] - b[1])[0] as [keyof typeof mappingLimits, number];

  const belowBound = diagnoseBelowBound(chip, served, nTiles, cycles, first, last, tokensPerSecond / mappingBound, (inFlight * f) / Math.max(1e-12, tokensPerSecond), cp, cpTiles);

  const w = report.power.byCategoryW;
  return {
    engine: served.engine,
    result: {
      feasible: true,
      simulated: simulatedText,
      metrics: {
        tokensPerSecond,
        ttftMs: { p50: pct(ttft, 50), p99: pct(ttft, 99) },
        itlMs: itl.length ? { p50: pct(itl, 50), p99: pct(itl, 99) } : null,
        powerW: report.power.totalW,
        energyPerTokenJ: report.metrics.energyPerTokenJ,
        activeEnergyPerTokenJ: report.metrics.activeEnergyPerTokenJ,
        idleEnergyPerTokenJ: report.metrics.idleEnergyPerTokenJ,
        areaMm2: report.area.totalMm2,
        dies: report.area.dies.count,
        ppaScore: report.ppa.score,
        feasible: report.ppa.feasible,
      },
      power: { computeW: w.compute, sramW: w.sram, romW: w.rom, nocW: w.noc, leakageW: w.leakage, byComponentW: report.power.byComponentW },
      counters: {
        romBytesRead: (chip['tile.romBytesRead'] ?? 0) + (chip['tile.romScaleBytesRead'] ?? 0),
        kvBytesRead: chip['tile.kvBytesRead'] ?? 0,
        kvBytesWritten: chip['tile.kvBytesWritten'] ?? 0,
        flitsInjected: chip['noc.flitsInjected'] ?? 0,
        flitsEjected: chip['noc.flitsEjected'] ?? 0,
        flitsReplicated: chip['noc.flitsReplicated'] ?? 0,
        macs: chip['tile.macs'] ?? 0,
      },
      bounds: { computeTokensPerSecond: compute, memoryTokensPerSecond: memory, nocTokensPerSecond: noc, mappingTokensPerSecond: mappingBound, layerSequentialTokensPerSecond: layerSequentialTokensPerSecond(card, design, mapping, batch, meanContext), ...firstTtftBound(card, design, mapping, trace), mappingLimitedBy, criticalPathCycles: cp, latencyBoundCycles: cpTiles, criticalPathNocShare: nocShare, busiestTileCycles: busiestTile, boundAt: { batch, contextTokens: meanContext } },
      run: { simulatedCycles: cycles, events: sim.eventsDispatched, fidelity: input.fidelity, requestsSimulated: trace.requests.length, generatedTokens: served.generatedTokens, steps: served.steps, kernelsSimulated: costs.kernelsRun, kernelEvents: costs.events },
      mapping: { feasible: true, regions: mapping.regions.length, kvCapacityTokens: mapping.kvCapacityTokens, shortfalls: [], reasons: [] },
      concurrency,
      belowBound,
      allCounters: chip,
      requests,
      report,
    },
  };
}

/** Zero-load latency of a message on the mesh: XY hops between the tiles, flits of its bytes (sim/noc/packet.ts). */
class ZeroLoadMessages implements MessageCycles {
  constructor(
    private readonly noc: Design['noc'],
    private readonly cols: number,
  ) {}

  cycles(src: number, dst: number, bytes: number): number {
    const cols = this.cols;
    return zeroLoadLatencyCycles(this.noc, Math.abs(Math.floor(src / cols) - Math.floor(dst / cols)) + Math.abs((src % cols) - (dst % cols)), packetFlits(this.noc, bytes));
  }
}

/**
 * Critical path of one decode step of `batch` sequences at `contextTokens` on the mapped
 * chip, every message at its zero-load latency: `atLimits` with every task at its tile's
 * tightest resource, `atKernels` with every task at `taskCycles` (the tile model's time);
 * and `busiestTile`, the largest sum of one tile's task limits in the step.
 */
export function mappedCriticalPaths(
  card: ModelCard,
  design: Design,
  mapping: ChipMapping,
  batch: number,
  contextTokens: number,
  taskCycles: (tile: number, work: NonNullable<Task['work']>) => number,
  /** the step's task graph when the run already built it */
  graph?: readonly Task[],
): { atLimits: number; atKernels: number; nocShare: number; busiestTile: number } {
  const tasks =
    graph ??
    buildTextStep(
      { card, design, place: new Placement(mapping, design.mesh.cols, design.mapping.treeRadix) },
      0,
      Array.from({ length: batch }, () => ({ contextTokens, newTokens: 1, textTokens: 1, emitsToken: true, tokenIds: [0] })),
      design.mapping.kvWindowTokens,
    ).tasks;
  const tiles = resolveTiles(design);
  const bytesPerWeight = bytesPerElement(design.precision.weights);
  const kvEntry = (kvBytesPerTokenPerLayer(card, design.precision.kvCache) + kvScaleBytesPerTokenPerLayer(card, design.precision.kvCache)) / (2 * card.text.numKvHeads * card.text.headDim);
  const message = new ZeroLoadMessages(design.noc, design.mesh.cols);
  // each task's limit and kernel time, once per task: a task the run executed took
  // exactly its kernel time (tiles run one task at a time); tasks share their work
  // objects (and tiles their parameters), so one limit per pair
  const n = tasks.length;
  const atLimit = new Float64Array(n);
  const kernel = new Float64Array(n);
  const uniform = tiles.every((tp) => tp === tiles[0]);
  const byWork = new Map<object, number>();
  const limits = new Map<object, Map<object, number>>();
  for (let i = 0; i < n; i++) {
    const t = tasks[i];
    if (!t.work) continue;
    const tp = tiles[t.tile];
    let c: number | undefined;
    if (uniform) {
      c = byWork.get(t.work);
      if (c === undefined) byWork.set(t.work, (c = minWorkCycles(tp, design, t.work, bytesPerWeight, kvEntry)));
    } else {
      let byTile = limits.get(t.work);
      if (!byTile) limits.set(t.work, (byTile = new Map()));
      c = byTile.get(tp);
      if (c === undefined) byTile.set(tp, (c = minWorkCycles(tp, design, t.work, bytesPerWeight, kvEntry)));
    }
    atLimit[i] = c;
  }
  for (let i = 0; i < n; i++) {
    const t = tasks[i];
    kernel[i] = t.endCycles >= 0 ? t.endCycles - t.startCycles : t.work ? taskCycles(t.tile, t.work) : 0;
  }
  const [atLimits, atKernels, computeOnly] = criticalPathsOf(tasks, [atLimit, kernel, kernel], message, [true, true, false]);
  return { atLimits, atKernels, nocShare: atKernels > 0 ? 1 - computeOnly / atKernels : 0, busiestTile: busiestTileCyclesOf(tasks, atLimit) };
}

/**
 * Why a run stays below its mapping bound: the tiles' stall counters, and the dominant cause
 * among arrivals (an idle system), prefill, the tile kernels (the critical path at kernel
 * times beyond resource limits: cpTiles - cp) and the network and queueing (the simulated
 * step beyond cpTiles).
 */
function diagnoseBelowBound(chip: Record<string, number>, served: ServeResult, nTiles: number, cycles: number, first: number, last: number, fraction: number, stepCycles: number, cp: number, cpTiles: number) {
  const stallNames = ['tile.stallFetchCycles', 'tile.stallDispatchCycles', 'tile.stallReservationCycles', 'tile.stallRawCycles', 'tile.stallRomPortCycles', 'tile.stallDmemPortCycles', 'tile.stallWritePortCycles', 'tile.stallNocCycles'];
  const stallCycles: Record<string, number> = {};
  for (const n of stallNames) stallCycles[n] = chip[n] ?? 0;
  const busy = served.engine.busyCycles.reduce((a, b) => a + b, 0);
  stallCycles['tile.idleWaitingForDataCycles'] = nTiles * cycles - busy;
  // time in which at least one request was in the system (union of [arrival, done])
  const spans = served.requests.map((r) => [r.arrivalCycles, r.doneCycles] as const).sort((a, b) => a[0] - b[0]);
  let occupied = 0;
  let reach = -1;
  for (const [a, d] of spans) {
    if (d <= reach) continue;
    occupied += d - Math.max(a, reach);
    reach = d;
  }
  const idleFraction = 1 - occupied / Math.max(1, last - first);
  // Where the step's time goes: resource limits (cp), kernel inefficiency (cpTiles - cp),
  // and network and queueing delay (the simulated step beyond cpTiles).
  const tileLoss = cpTiles - cp;
  const netLoss = stepCycles - cpTiles;
  const worstTileStall = Object.entries(stallCycles)
    .filter(([k]) => k !== 'tile.idleWaitingForDataCycles')
    .sort((a, b) => b[1] - a[1])[0][0];
  const prefillFraction = served.prefillCycles / Math.max(1, last - first);
  const dominantStall =
    idleFraction > 0.1
      ? `arrivals: no request was in the system for ${(100 * idleFraction).toFixed(0)}% of the window (the trace, not the chip, limits tokens/s)`
      : prefillFraction > 0.25
        ? `prefill: steps with prompt or image tokens ran during ${(100 * prefillFraction).toFixed(0)}% of the window (the bounds are for decode steps)`
        : tileLoss >= netLoss
        ? `tile kernels: at the tile model's kernel times the step's critical path is ${int(cpTiles)} cycles against ${int(cp)} at the resource limits (largest tile stall: ${worstTileStall})`
        : `network and queueing: a step takes ${int(stepCycles)} cycles against a ${int(cpTiles)}-cycle critical path at the kernels' times with zero-load messages (NoC contention, multicast/gather serialisation at region roots, tasks queued on busy tiles)`;
  return { fractionOfMappingBound: fraction, dominantStall, stallCycles };
}

/** Each request's TTFT and gaps between tokens (ITL) in ms, and its row for the report. */
function requestLatencies(served: ServeResult, clockMHz: number) {
  const msPerCycle = 1 / (clockMHz * 1000);
  const ttft: number[] = [];
  const itl: number[] = [];
  const requests = served.requests.map((r) => {
    const t = (r.firstTokenCycles - r.arrivalCycles) * msPerCycle;
    ttft.push(t);
    for (let i = 1; i < r.tokenCycles.length; i++) itl.push((r.tokenCycles[i] - r.tokenCycles[i - 1]) * msPerCycle);
    return { arrivalMs: r.arrivalCycles * msPerCycle, ttftMs: t, tokens: r.tokenCycles.length, doneMs: r.doneCycles * msPerCycle };
  });
  return { ttft, itl, requests };
}

/** The one-line description of what a run simulates (design, trace, fidelity, serving). */
function describeRun(input: SimInput, design: Design, names: { readonly design: string; readonly model: string; readonly trace: string }): string {
  const { trace } = input;
  const serving = design.serving;
  return `${names.model} on ${names.design} (${design.mesh.rows}x${design.mesh.cols} tiles, ${design.processNodeNm} nm, ${design.clockMHz} MHz), trace ${names.trace} (${trace.requests.length} request${trace.requests.length === 1 ? '' : 's'}), fidelity ${input.fidelity}: ${input.fidelity === 'detailed' ? 'detailed' : 'fast'} tile model, ${input.fidelity === 'fast' ? 'message-level' : 'flit-level'} NoC; ${serving.batching === 'single' ? 'one request at a time' : `continuous batching, max batch ${serving.maxBatch}, ${count(Math.min(serving.microBatches, serving.maxBatch), 'micro-batch', 'micro-batches')}`}, prefill chunk ${serving.prefillChunkTokens}; ${count(design.mapping.pipelineStages, 'pipeline region')}${input.design.mapping.heterogeneousTiles ? '; tiles sized from their share of the work (WMEM, DMEM, VLEN, FETCH per tile)' : ''}`;
}

/** A design whose mapping does not fit: nothing simulated, area and the shortfalls reported. */
function infeasibleOutput(input: SimInput, design: Design, mapping: ChipMapping, reasons: string[], simulatedText: string): SimOutput {
  const { card, trace, tech } = input;
  const report = powerReport({ design, tech, counters: {}, simulatedCycles: 1, tokens: 0, reference: referenceFor(card), weights: input.weights, constraints: input.constraints, mappingFeasible: false, title: `INFEASIBLE: ${simulatedText}` });
  return {
    result: {
      feasible: false,
      simulated: `not simulated: the design cannot serve this trace. ${simulatedText}`,
      metrics: { tokensPerSecond: null, ttftMs: null, itlMs: null, powerW: null, energyPerTokenJ: null, areaMm2: report.area.totalMm2, ppaScore: null, feasible: false },
      run: { fidelity: input.fidelity, requestsSimulated: 0, requestsInTrace: trace.requests.length },
      mapping: { feasible: false, regions: mapping.regions.length, kvCapacityTokens: mapping.kvCapacityTokens, shortfalls: mapping.shortfalls, reasons },
      report,
    },
  };
}
