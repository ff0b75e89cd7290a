import type { ModelCard } from '../model/card.js';
import type { Trace } from '../trace/trace.js';
import { Simulator } from '../kernel/simulator.js';
import { Priority } from '../kernel/priority.js';
import { imageTiles, imageTokens } from '../model/derive.js';
import { RegionSharing } from './pipeline.js';
import { StepTiming } from './memo.js';
import { effectiveContext, type StepShape } from './shape.js';
import { BinnedCounts, BinnedSeries } from './timeSeries.js';

/**
 * The iteration-level scheduler of the serving fidelity (docs/serving.md). It follows
 * serveTrace's policy (sim/chip/serve.ts) decision for decision (test/serving-policy.test.ts
 * replays serveTrace's step times through it and checks every step and token):
 * requests arrive at their trace times; `min(microBatches, maxBatch)` micro-batch slots
 * each form a step whenever they are free; a slot holds up to ceil(maxBatch / slots)
 * sequences and all slots at most maxBatch; admission takes waiting requests in arrival
 * order while the KV cache has room for the whole context (prompt + image tokens +
 * outputs, capped by the window); every decoding sequence of the slot adds one row and
 * the rest of the `prefillChunkTokens` budget goes to the oldest sequence still
 * prefilling (chunked prefill, decode first); images pass the vision encoder one crop at
 * a time first. Only the step's execution differs: instead of running its task graph, its
 * cycles come from the memo of simulated steps and the region pipeline overlaps
 * micro-batches region by region.
 *
 * What serveTrace cannot do at scale is handled here: a request that can never fit
 * (longer than the model's context, more KV than the chip holds, images without a vision
 * encoder) is rejected and counted instead of stopping the run. With `admission:
 * 'recompute'` (vLLM's policy) a request is admitted when its prompt fits, its cache grows
 * token by token, and when the cache is full the most recently admitted sequence of the
 * slot is preempted: its cache is dropped and it re-enters the queue at the front, to be
 * prefilled again (prompt and tokens generated so far) later.
 */

export interface SchedulerOptions {
  readonly batching: 'single' | 'continuous';
  readonly maxBatch: number;
  readonly prefillChunkTokens: number;
  readonly microBatches: number;
  readonly kvWindowTokens: number;
  readonly kvCapacityTokens: number;
  readonly clockMHz: number;
  readonly admission: 'reserve' | 'recompute';
  /** Called every so many iterations with the requests finished (or rejected) so far. */
  readonly onProgress?: (requestsDone: number, requestsTotal: number, simulatedCycles: number) => void;
}

export type RejectReason = 'kv' | 'context' | 'vision';

/** Step timing: cycles of an iteration alone, and its visits to the regions (written to `timing`); `overlapping`: other steps are in flight. */
export interface StepTimer {
  time(shape: StepShape, timing: StepTiming, overlapping?: boolean): number;
}

/** A step's rows as they ran: every decode row's cached context, and the chunk. */
export interface ExactRows {
  readonly decodeContexts: number[];
  readonly chunk?: { readonly n: number; readonly image: number; readonly context: number; readonly emits: boolean };
}

/** A step as it started: when, its shape and its rows. */
export interface StartedStep {
  readonly startCycles: number;
  readonly shape: StepShape;
  readonly rows: ExactRows;
}

/** Sees every iteration (the held-out sampler). */
export interface StepObserver {
  /**
   * An iteration starts: its shape, the cycles the timer gave it alone, its rows, and, when
   * other steps are in flight, the steps started just before it (this one last).
   */
  observe(shape: StepShape, predictedCycles: number, rows: ExactRows, context: (() => readonly StartedStep[]) | undefined): void;
  /**
   * A step started while others were in flight: `recent` lists the steps started just
   * before it (the slots' previous steps included, whether still in flight or not), this
   * one last. The returned function, if any, is called when the step completes with its
   * latency and the cycles it would have taken alone.
   */
  observeInFlight(recent: readonly StartedStep[]): ((latencyCycles: number, aloneCycles: number) => void) | undefined;
}


export interface ScheduleResult {
  readonly arrivalCycles: Float64Array;
  readonly firstTokenCycles: Float64Array;
  readonly doneCycles: Float64Array;
  readonly tokens: Int32Array;
  /** Per request: -1 served, else the index of its reject reason in REJECT_REASONS. */
  readonly rejected: Int8Array;
  readonly preemptions: Int32Array;
  /** Every inter-token gap of every request, in cycles (unsorted). */
  readonly itlCycles: Float64Array;
  readonly iterations: number;
  readonly visionPasses: number;
  readonly generatedTokens: number;
  readonly recomputedTokens: number;
  readonly endCycles: number;
  readonly queue: ReturnType<BinnedSeries['finish']>;
  readonly running: ReturnType<BinnedSeries['finish']>;
  readonly kvTokens: ReturnType<BinnedSeries['finish']>;
  readonly tokensPerBin: ReturnType<BinnedCounts['finish']>;
  readonly maxQueue: number;
  /** Cycles each pipeline region had at least one step. */
  readonly regionBusyCycles: Float64Array;
}

export const REJECT_REASONS: readonly RejectReason[] = ['kv', 'context', 'vision'];

interface Seq {
  readonly id: number;
  /** KV tokens reserved (reserve) or held (recompute). */
  kv: number;
  cached: number;
  textLeft: number;
  imageLeft: number;
  generated: number;
  state: 'vision' | 'prefill' | 'decode' | 'done';
  readonly slot: number;
  readonly admittedOrder: number;
}

interface Member {
  readonly seq: Seq;
  readonly n: number;
  readonly text: number;
  readonly image: number;
  readonly emits: boolean;
}

export function scheduleTrace(card: ModelCard, trace: Trace, timer: StepTimer, regions: { readonly count: number; readonly pairGain: number }, opt: SchedulerOptions, observer?: StepObserver): ScheduleResult {
  const sim = new Simulator({ nearWindowCycles: 1 << 14 });
  const sharing = new RegionSharing(sim, regions.count, regions.pairGain);
  const reqs = trace.requests;
  const N = reqs.length;
  const cyclesPerMs = opt.clockMHz * 1000;
  const maxBatch = opt.batching === 'single' ? 1 : opt.maxBatch;
  const slots = opt.batching === 'single' ? 1 : Math.max(1, Math.min(opt.microBatches, maxBatch));
  const perSlot = Math.max(1, Math.ceil(maxBatch / slots));
  const window = opt.kvWindowTokens;
  const capacity = opt.kvCapacityTokens;
  const recompute = opt.admission === 'recompute';

  const arrival = new Float64Array(N);
  const first = new Float64Array(N).fill(-1);
  const done = new Float64Array(N).fill(-1);
  const lastToken = new Float64Array(N).fill(-1);
  const tokens = new Int32Array(N);
  const rejected = new Int8Array(N).fill(-1);
  const preemptions = new Int32Array(N);
  const imageTok = new Int32Array(N);
  /** Tokens a preempted request must prefill again (its generated tokens), beyond its prompt. */
  const redo = new Int32Array(N);
  let itl = new Float64Array(1 << 16);
  let itlCount = 0;

  const capped = (t: number) => (window > 0 ? Math.min(t, window) : t);
  for (let i = 0; i < N; i++) {
    const r = reqs[i];
    arrival[i] = Math.round(r.arrivalMs * cyclesPerMs);
    imageTok[i] = r.images.reduce((s, im) => s + imageTokens(card, im.widthPx, im.heightPx), 0);
    const all = r.promptTokens + imageTok[i] + r.outputTokens;
    if (r.images.length > 0 && !card.vision) rejected[i] = 2;
    else if (all > card.text.maxPositionEmbeddings) rejected[i] = 1;
    else if (capped(all) > capacity) rejected[i] = 0;
  }
  const start = N ? arrival[0] : 0;
  const span = N ? Math.max(1, arrival[N - 1] - start) : 1;
  const queueSeries = new BinnedSeries(start, span / 256);
  const runningSeries = new BinnedSeries(start, span / 256);
  const kvSeries = new BinnedSeries(start, span / 256);
  const tokenBins = new BinnedCounts(start, span / 256);

  // the waiting queue: arrival order, preempted requests go back to its front
  let waiting: number[] = [];
  let waitHead = 0;
  const front: number[] = [];
  const waitingCount = () => waiting.length - waitHead + front.length;
  const peekWaiting = () => (front.length ? front[front.length - 1] : waiting[waitHead]);
  const shiftWaiting = () => (front.length ? front.pop()! : waiting[waitHead++]);
  let nextArrival = 0;
  let kvInUse = 0;
  let runningCount = 0;
  let admittedOrder = 0;
  const active: Seq[][] = Array.from({ length: slots }, () => []);
  const slotBusy = new Uint8Array(slots);
  let iterations = 0;
  let visionPasses = 0;
  let generated = 0;
  let recomputed = 0;
  let finished = 0;
  let maxQueue = 0;
  const timing = new StepTiming();

  const record = () => {
    const now = sim.now;
    const q = waitingCount();
    if (q > maxQueue) maxQueue = q;
    queueSeries.set(now, q);
    runningSeries.set(now, runningCount);
    kvSeries.set(now, kvInUse);
  };
  const progress = () => opt.onProgress?.(finished, N, sim.now);

  const arrive = () => {
    while (nextArrival < N && arrival[nextArrival] <= sim.now) {
      const i = nextArrival++;
      if (rejected[i] >= 0) {
        finished++;
        continue;
      }
      waiting.push(i);
    }
    if (waitHead > 4096 && waitHead * 2 > waiting.length) {
      waiting = waiting.slice(waitHead);
      waitHead = 0;
    }
    // one pending arrival event at a time (arrive() also runs after every step)
    if (nextArrival < N && !arrivalPending) {
      arrivalPending = true;
      sim.scheduleAt(arrival[nextArrival], onArrival, undefined, Priority.High);
    }
    record();
  };
  let arrivalPending = false;
  const onArrival = () => {
    arrivalPending = false;
    arrive();
    for (let s = 0; s < slots; s++) if (!slotBusy[s]) formStep(s);
  };

  /** KV tokens a request needs at admission: its whole context (reserve) or its prompt so far (recompute). */
  const kvAtAdmission = (i: number) => {
    const r = reqs[i];
    return recompute ? capped(r.promptTokens + imageTok[i] + redo[i]) : capped(r.promptTokens + imageTok[i] + r.outputTokens);
  };

  const admit = (slot: number) => {
    let inFlight = 0;
    for (const a of active) inFlight += a.length;
    while (waitingCount() > 0 && active[slot].length < perSlot && inFlight < maxBatch) {
      const i = peekWaiting();
      const need = kvAtAdmission(i);
      if (kvInUse + need > capacity) break;
      shiftWaiting();
      kvInUse += need;
      const r = reqs[i];
      const cached = r.contextCached && redo[i] === 0;
      const seq: Seq = {
        id: i,
        kv: need,
        cached: cached ? r.promptTokens : 0,
        textLeft: cached ? 0 : r.promptTokens + redo[i],
        imageLeft: cached ? 0 : imageTok[i],
        // a preempted sequence resumes with the tokens it generated; its prefill re-creates their cache
        generated: tokens[i],
        state: cached ? 'decode' : imageTok[i] > 0 ? 'vision' : 'prefill',
        slot,
        admittedOrder: admittedOrder++,
      };
      active[slot].push(seq);
      inFlight++;
      runningCount++;
      if (seq.state === 'vision') startVision(seq);
    }
    record();
  };

  /**
   * Steps in flight, and the last few started (for the held-out check of overlapping steps):
   * a step and the `slots` started just before it, which include every step still in flight
   * when it starts (a slot runs one step at a time). Three per slot (until 2026-12-03) made
   * each check simulate up to 12 steps together, most of a run's chip events.
   */
  let inFlight = 0;
  const recent: StartedStep[] = [];
  const keep = slots + 1;

  /** Time a step that starts now, run it through the shared regions, call `done` when it completes. */
  const runStep = (shape: StepShape, exact: () => ExactRows, done: () => void): void => {
    const cycles = timer.time(shape, timing, inFlight > 0);
    if (observer) {
      // rows as they are now: the contexts change when the step completes
      const step: StartedStep = { startCycles: sim.now, shape, rows: exact() };
      if (recent.length === keep) recent.shift();
      recent.push(step);
      observer.observe(shape, cycles, step.rows, inFlight > 0 ? () => [...recent] : undefined);
    }
    const report = observer && inFlight > 0 ? observer.observeInFlight([...recent]) : undefined;
    const start = sim.now;
    inFlight++;
    sharing.start(timing, () => {
      inFlight--;
      report?.(sim.now - start, cycles);
      done();
    });
  };

  const startVision = (seq: Seq) => {
    let left = reqs[seq.id].images.reduce((s, im) => s + imageTiles(card, im.widthPx, im.heightPx).tiles, 0);
    const next = () => {
      const shape: StepShape = { vision: true, decodeRows: 0, decodeContextSum: 0, prefillRows: 0, imageRows: 0, prefillContext: 0, emits: false };
      visionPasses++;
      runStep(shape, () => ({ decodeContexts: [] }), () => {
        if (--left > 0) return next();
        seq.state = 'prefill';
        if (!slotBusy[seq.slot]) formStep(seq.slot);
      });
    };
    next();
  };

  /** Drop the most recently admitted sequence of the slot (recompute policy). */
  const preempt = (slot: number): boolean => {
    const seqs = active[slot];
    if (seqs.length === 0) return false;
    let victim = 0;
    for (let k = 1; k < seqs.length; k++) if (seqs[k].admittedOrder > seqs[victim].admittedOrder) victim = k;
    const s = seqs[victim];
    seqs.splice(victim, 1);
    kvInUse -= s.kv;
    runningCount--;
    preemptions[s.id]++;
    redo[s.id] = tokens[s.id];
    front.push(s.id);
    return true;
  };

  const formStep = (slot: number) => {
    if (slotBusy[slot]) return;
    admit(slot);
    const seqs = active[slot];
    if (recompute) {
      // every decoding row appends one position; prefill chunks were admitted with room
      for (;;) {
        let grow = 0;
        for (const s of seqs) if (s.state === 'decode' && (window === 0 || s.kv < window)) grow++;
        if (kvInUse + grow <= capacity || !preempt(slot)) break;
      }
    }
    const members: Member[] = [];
    let b = 0;
    let contextSum = 0;
    for (const s of seqs) {
      if (s.state !== 'decode') continue;
      members.push({ seq: s, n: 1, text: 1, image: 0, emits: true });
      b++;
      contextSum += effectiveContext(s.cached, window);
    }
    let budget = opt.prefillChunkTokens - b;
    let chunk: Member | undefined;
    for (const s of seqs) {
      if (budget <= 0) break;
      if (s.state !== 'prefill') continue;
      const image = Math.min(s.imageLeft, budget);
      const text = Math.min(s.textLeft, budget - image);
      const n = image + text;
      if (n === 0) continue;
      chunk = { seq: s, n, text, image, emits: s.imageLeft - image === 0 && s.textLeft - text === 0 };
      members.push(chunk);
      budget -= n;
      break; // one prefilling sequence per step
    }
    if (members.length === 0) return;
    slotBusy[slot] = 1;
    const shape: StepShape = { vision: false, decodeRows: b, decodeContextSum: contextSum, prefillRows: chunk?.n ?? 0, imageRows: chunk?.image ?? 0, prefillContext: chunk ? effectiveContext(chunk.seq.cached, window) : 0, emits: chunk?.emits ?? false };
    runStep(
      shape,
      () => ({
        decodeContexts: members.filter((m) => m !== chunk).map((m) => m.seq.cached),
        chunk: chunk && { n: chunk.n, image: chunk.image, context: chunk.seq.cached, emits: chunk.emits },
      }),
      () => complete(slot, members),
    );
  };

  const complete = (slot: number, members: Member[]) => {
    iterations++;
    const now = sim.now;
    for (const m of members) {
      const s = m.seq;
      s.cached += m.n;
      if (recompute && m.n > 0 && s.state === 'decode' && (window === 0 || s.kv < window)) {
        s.kv++;
        kvInUse++;
      }
      if (s.state === 'prefill') {
        s.textLeft -= m.text;
        s.imageLeft -= m.image;
        if (!m.emits) continue;
        s.state = 'decode';
        // a re-prefill rebuilt the cache of the tokens generated before preemption, then emits the next
        recomputed += redo[s.id];
        redo[s.id] = 0;
      }
      s.generated++;
      generated++;
      tokens[s.id]++;
      tokenBins.add(now);
      const i = s.id;
      if (first[i] < 0) first[i] = now;
      else {
        if (itlCount === itl.length) {
          const grown = new Float64Array(itl.length * 2);
          grown.set(itl);
          itl = grown;
        }
        itl[itlCount++] = now - lastToken[i];
      }
      lastToken[i] = now;
      if (s.generated >= reqs[i].outputTokens) finish(s, now);
    }
    active[slot] = active[slot].filter((s) => s.state !== 'done');
    slotBusy[slot] = 0;
    arrive();
    for (let k = 0; k < slots; k++) if (!slotBusy[k]) formStep(k);
    if ((iterations & 4095) === 0) progress();
  };

  const finish = (s: Seq, now: number) => {
    s.state = 'done';
    done[s.id] = now;
    kvInUse -= s.kv;
    runningCount--;
    finished++;
  };

  if (N > 0) {
    arrivalPending = true;
    sim.scheduleAt(arrival[0], onArrival, undefined, Priority.High);
  }
  sim.run();
  const served = N - rejected.reduce((a, r) => a + (r >= 0 ? 1 : 0), 0);
  if (done.reduce((a, d, i) => a + (d >= 0 && rejected[i] < 0 ? 1 : 0), 0) !== served) {
    throw new Error(`internal: serving stalled with ${served - done.filter((d) => d >= 0).length} requests unfinished at cycle ${sim.now}`);
  }
  progress();
  const end = sim.now;
  return {
    arrivalCycles: arrival,
    firstTokenCycles: first,
    doneCycles: done,
    tokens,
    rejected,
    preemptions,
    itlCycles: itl.subarray(0, itlCount),
    iterations,
    visionPasses,
    generatedTokens: generated,
    recomputedTokens: recomputed,
    endCycles: end,
    queue: queueSeries.finish(end),
    running: runningSeries.finish(end),
    kvTokens: kvSeries.finish(end),
    tokensPerBin: tokenBins.finish(end),
    maxQueue,
    regionBusyCycles: sharing.busyCycles,
  };
}
