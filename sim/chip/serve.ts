import type { ModelCard } from '../model/card.js';
import type { Design } from '../design/design.js';
import type { Trace } from '../trace/trace.js';
import { Simulator } from '../kernel/simulator.js';
import { Priority } from '../kernel/priority.js';
import { Rng } from '../random/rng.js';
import { imageTiles, imageTokens } from '../model/derive.js';
import type { NetworkPort } from '../noc/port.js';
import type { ChipMapping } from './mapping.js';
import { Placement } from './placement.js';
import { ChipEngine, type Task } from './engine.js';
import { buildTextStep, buildVisionStep, type ImageRows, type StepSequence } from './step.js';
import type { TileCostModel } from './work.js';

/**
 * Serving a trace on the chip (docs/chip.md, "Execution"). Requests arrive as the trace
 * says; each micro-batch slot forms a step whenever it is free: every decoding sequence
 * of the slot contributes one row, and the remaining per-step token budget
 * (`prefillChunkTokens`) goes to the oldest sequence still prefilling (chunked prefill,
 * decode first). Admission takes arrived requests in order while the slot has room
 * (maxBatch split over the slots) and the KV cache has room for the request's whole
 * context (prompt + output, capped by the window). Images go through the vision encoder
 * first; their tokens enter with the first prefill chunk. `single` serves one request at a
 * time; `continuous` is iteration-level continuous batching. Several slots
 * (micro-batches) keep the pipeline regions busy at once: weights are read once per
 * micro-batch step.
 */

export interface ServingOptions {
  readonly batching: 'single' | 'continuous';
  readonly maxBatch: number;
  readonly prefillChunkTokens: number;
  readonly microBatches: number;
  readonly kvWindowTokens: number;
  readonly seed: number;
  /** Record every compute task for a timeline. */
  readonly recordTimeline?: boolean;
  /** Abort when simulated time passes this many cycles (runaway guard). */
  readonly maxCycles?: number;
  /** Called after every step with the requests finished, tokens generated and the cycle (progress). */
  readonly onStep?: (requestsDone: number, generatedTokens: number, nowCycles: number) => void;
  /** Throw EventLimitExceeded after this many events (a deterministic runaway guard). */
  readonly maxEvents?: number;
  /** Called as every step starts (the policy's decisions, for test/serving-policy.test.ts). */
  readonly onStepStart?: (step: StartedStep) => void;
}

/** A run stopped by its event limit (`maxEvents`). */
export class EventLimitExceeded extends Error {
  override name = 'EventLimitExceeded';
  constructor(readonly limit: number, readonly atCycles: number) {
    super(`stopped after the limit of ${limit} simulated events (at cycle ${atCycles}) with work still pending`);
  }
}

/** A step as serveTrace starts it: a text step's rows (decode rows, then the chunk) or a vision pass. */
export interface StartedStep {
  readonly kind: 'text' | 'vision';
  readonly slot: number;
  readonly startCycles: number;
  readonly rows: readonly StepSequence[];
  readonly imageRows: number;
  /** The step's last task: it completes (endCycles) when the step does. */
  readonly done: Task;
}

export interface RequestRecord {
  readonly id: number;
  readonly arrivalCycles: number;
  admittedCycles: number;
  firstTokenCycles: number;
  /** Cycle each generated token became known. */
  readonly tokenCycles: number[];
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly imageTokens: number;
  doneCycles: number;
}

export interface ServeResult {
  readonly requests: RequestRecord[];
  readonly simulatedCycles: number;
  readonly steps: number;
  readonly generatedTokens: number;
  readonly kvPositionsRead: number;
  readonly kvPositionsWritten: number;
  readonly engine: ChipEngine;
  readonly events: number;
  /**
   * The first decode-only step of each batch size seen (its task graph and mean context),
   * for the mapping bound: the earliest step of a size has the shortest context, so its
   * critical path is the shortest of its size.
   */
  readonly decodeSteps: ReadonlyMap<number, { readonly tasks: readonly Task[]; readonly contextTokens: number }>;
  /** Cycles in which at least one step with prompt or image tokens (or a vision pass) was running. */
  readonly prefillCycles: number;
}

interface Seq {
  readonly rec: RequestRecord;
  readonly kvTokens: number;
  cached: number;
  textLeft: number;
  imageLeft: number;
  generated: number;
  state: 'vision' | 'prefill' | 'decode' | 'done';
  slot: number;
  /** The connector tiles that hold this request's image rows once the encoder is done. */
  image: ImageRows['holders'] | null;
  tokenIds: number[];
}

export function serveTrace(card: ModelCard, design: Design, trace: Trace, mapping: ChipMapping, deps: { sim: Simulator; network: NetworkPort; costs: TileCostModel }, opt: ServingOptions): ServeResult {
  const { sim } = deps;
  const place = new Placement(mapping, design.mesh.cols, design.mapping.treeRadix);
  const engine = new ChipEngine(sim, deps.network, deps.costs, design.mesh.rows * design.mesh.cols, { recordTimeline: opt.recordTimeline });
  const sc = { card, design, place };
  const cyclesPerMs = design.clockMHz * 1000;
  const rng = new Rng(opt.seed, 'serve/tokens');
  const maxBatch = opt.batching === 'single' ? 1 : opt.maxBatch;
  // never more micro-batch slots than sequences allowed in flight
  const slots = opt.batching === 'single' ? 1 : Math.max(1, Math.min(opt.microBatches, maxBatch));
  const perSlot = Math.max(1, Math.ceil(maxBatch / slots));
  const window = opt.kvWindowTokens;

  const records: RequestRecord[] = trace.requests.map((r, i) => ({
    id: i,
    arrivalCycles: Math.round(r.arrivalMs * cyclesPerMs),
    admittedCycles: -1,
    firstTokenCycles: -1,
    tokenCycles: [],
    promptTokens: r.promptTokens,
    outputTokens: r.outputTokens,
    imageTokens: r.images.reduce((s, im) => s + imageTokens(card, im.widthPx, im.heightPx), 0),
    doneCycles: -1,
  }));
  const waiting: number[] = [];
  let nextArrival = 0;
  let kvInUse = 0;
  const active: Seq[][] = Array.from({ length: slots }, () => []);
  const slotBusy = new Uint8Array(slots);
  let steps = 0;
  let generated = 0;
  let kvRead = 0;
  let kvWritten = 0;
  let stepIds = 0;
  let finished = 0;
  const decodeSteps = new Map<number, { tasks: readonly Task[]; contextTokens: number }>();
  /** [start, end] of every step that processed prompt or image tokens (vision passes included). */
  const prefillSpans: [number, number][] = [];

  const kvNeed = (r: RequestRecord) => requestKvTokens(r.promptTokens + r.imageTokens + r.outputTokens, r.imageTokens > 0, window, mapping.encoderScratchTokens);

  const arrive = () => {
    while (nextArrival < records.length && records[nextArrival].arrivalCycles <= sim.now) waiting.push(nextArrival++);
    if (nextArrival < records.length) sim.scheduleAt(records[nextArrival].arrivalCycles, onArrival, undefined, Priority.High);
  };
  const onArrival = () => {
    arrive();
    for (let s = 0; s < slots; s++) if (!slotBusy[s]) formStep(s);
  };

  const admit = (slot: number) => {
    let inFlight = 0;
    for (const a of active) inFlight += a.length;
    while (waiting.length && active[slot].length < perSlot && inFlight < maxBatch) {
      const rec = records[waiting[0]];
      const need = kvNeed(rec);
      if (need > mapping.kvCapacityTokens) {
        throw new Error(`request ${rec.id} needs ${need} cached tokens but the chip holds ${mapping.kvCapacityTokens}`);
      }
      if (kvInUse + need > mapping.kvCapacityTokens) break;
      waiting.shift();
      kvInUse += need;
      rec.admittedCycles = sim.now;
      const r = trace.requests[rec.id];
      const ids = Array.from({ length: Math.min(64, r.promptTokens + r.outputTokens + 1) }, () => rng.int(0, card.text.vocabSize - 1));
      const seq: Seq = {
        rec,
        kvTokens: need,
        cached: r.contextCached ? r.promptTokens : 0,
        textLeft: r.contextCached ? 0 : r.promptTokens,
        imageLeft: r.contextCached ? 0 : rec.imageTokens,
        generated: 0,
        state: r.contextCached ? 'decode' : rec.imageTokens > 0 ? 'vision' : 'prefill',
        slot,
        image: null,
        tokenIds: ids,
      };
      active[slot].push(seq);
      inFlight++;
      if (seq.state === 'vision') startVision(seq, r.images);
    }
  };

  // the encoder runs one encoder tile (image crop) at a time; the last one hands over
  const startVision = (seq: Seq, images: Trace['requests'][number]['images']) => {
    let left = images.reduce((s, im) => s + imageTiles(card, im.widthPx, im.heightPx).tiles, 0);
    const next = () => {
      const built = buildVisionStep(sc, stepIds++, 1);
      opt.onStepStart?.({ kind: 'vision', slot: seq.slot, startCycles: sim.now, rows: [], imageRows: 0, done: built.done });
      const began = sim.now;
      built.done.onDone = () => {
        prefillSpans.push([began, sim.now]);
        if (--left > 0) return next();
        seq.state = 'prefill';
        seq.image = built.image.holders;
        if (!slotBusy[seq.slot]) formStep(seq.slot);
      };
      engine.start(built.tasks);
    };
    next();
  };

  const formStep = (slot: number) => {
    if (slotBusy[slot]) return;
    admit(slot);
    const seqs = active[slot];
    const rows: StepSequence[] = [];
    const members: { seq: Seq; n: number; text: number; image: number; emits: boolean }[] = [];
    for (const s of seqs) {
      if (s.state !== 'decode') continue;
      rows.push({ contextTokens: s.cached, newTokens: 1, textTokens: 1, emitsToken: true, tokenIds: [s.tokenIds[s.generated % s.tokenIds.length]] });
      members.push({ seq: s, n: 1, text: 1, image: 0, emits: true });
    }
    let budget = opt.prefillChunkTokens - rows.length;
    let imageInput: ImageRows | undefined;
    for (const s of seqs) {
      if (budget <= 0) break;
      if (s.state !== 'prefill') continue;
      const image = Math.min(s.imageLeft, budget);
      const text = Math.min(s.textLeft, budget - image);
      const n = image + text;
      if (n === 0) continue;
      const emits = s.imageLeft - image === 0 && s.textLeft - text === 0;
      rows.push({ contextTokens: s.cached, newTokens: n, textTokens: text, emitsToken: emits, tokenIds: s.tokenIds });
      members.push({ seq: s, n, text, image, emits });
      if (image > 0) imageInput = { holders: s.image!, rows: image };
      budget -= n;
      break; // one prefilling sequence per step
    }
    if (rows.length === 0) return; // nothing to do until an arrival or a vision pass completes
    slotBusy[slot] = 1;
    const built = buildTextStep(sc, stepIds++, rows, window, imageInput);
    opt.onStepStart?.({ kind: 'text', slot, startCycles: sim.now, rows, imageRows: imageInput?.rows ?? 0, done: built.done });
    kvRead += built.kvPositionsRead;
    if (members.every((m) => m.seq.state === 'decode') && !decodeSteps.has(rows.length)) {
      decodeSteps.set(rows.length, { tasks: built.tasks, contextTokens: Math.round(rows.reduce((a, r) => a + r.contextTokens, 0) / rows.length) });
    }
    const began = sim.now;
    const prefilling = members.some((m) => m.seq.state !== 'decode');
    built.done.onDone = () => {
      steps++;
      const now = sim.now;
      if (prefilling) prefillSpans.push([began, now]);
      for (const m of members) {
        const s = m.seq;
        s.cached += m.n;
        kvWritten += m.n * card.text.numLayers * card.text.numKvHeads;
        if (s.state === 'prefill') {
          s.textLeft -= m.text;
          s.imageLeft -= m.image;
          if (!m.emits) continue;
          s.state = 'decode';
        }
        s.generated++;
        generated++;
        s.rec.tokenCycles.push(now);
        if (s.rec.firstTokenCycles < 0) s.rec.firstTokenCycles = now;
        if (s.generated >= s.rec.outputTokens) {
          s.state = 'done';
          s.rec.doneCycles = now;
          kvInUse -= s.kvTokens;
          finished++;
        }
      }
      active[slot] = active[slot].filter((s) => s.state !== 'done');
      slotBusy[slot] = 0;
      arrive();
      // a finished request frees room: every idle slot may admit now
      for (let k = 0; k < slots; k++) if (!slotBusy[k]) formStep(k);
      opt.onStep?.(finished, generated, now);
      if (opt.maxCycles !== undefined && now > opt.maxCycles) sim.stop();
    };
    engine.start(built.tasks);
  };

  sim.scheduleAt(records.length ? records[0].arrivalCycles : 0, onArrival, undefined, Priority.High);
  const before = sim.eventsDispatched;
  sim.run(opt.maxEvents);
  if (opt.maxEvents !== undefined && sim.eventsDispatched - before >= opt.maxEvents && sim.pending > 0) throw new EventLimitExceeded(opt.maxEvents, sim.now);
  if (finished < records.length && !(opt.maxCycles !== undefined && sim.now > opt.maxCycles)) {
    throw new Error(`internal: simulation stalled with ${records.length - finished} requests unfinished at cycle ${sim.now}`);
  }
  return { requests: records, simulatedCycles: sim.now, steps, generatedTokens: generated, kvPositionsRead: kvRead, kvPositionsWritten: kvWritten, engine, events: sim.eventsDispatched - before, decodeSteps, prefillCycles: unionLength(prefillSpans) };
}

/**
 * KV-cache tokens a request reserves at admission: its whole context (prompt, image
 * tokens, outputs; capped by the window), and with images at least the vision encoder's
 * scratch, which lives in that allocation while the encoder runs.
 */
export function requestKvTokens(contextTokens: number, hasImages: boolean, window: number, encoderScratchTokens: number): number {
  const tokens = window > 0 ? Math.min(contextTokens, window) : contextTokens;
  return hasImages ? Math.max(tokens, encoderScratchTokens) : tokens;
}

/** How many requests the KV cache holds at once, the smallest first (an upper bound on sequences in flight). */
export function kvAdmits(needs: readonly number[], capacityTokens: number): number {
  const sorted = [...needs].sort((a, b) => a - b);
  let used = 0;
  let k = 0;
  while (k < sorted.length && used + sorted[k] <= capacityTokens) used += sorted[k++];
  return k;
}

/** Total length of the union of closed intervals. */
export function unionLength(spans: [number, number][]): number {
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let reach = -Infinity;
  for (const [a, b] of sorted) {
    if (b <= reach) continue;
    total += b - Math.max(a, reach);
    reach = b;
  }
  return total;
}
