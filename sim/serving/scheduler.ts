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

type Regions = { readonly count: number; readonly pairGain: number };

export function scheduleTrace(card: ModelCard, trace: Trace, timer: StepTimer, regions: Regions, opt: SchedulerOptions, observer?: StepObserver): ScheduleResult {
  return new IterationScheduler(card, trace, timer, regions, opt, observer).run();
}

/** Why a request can never be served (an index into REJECT_REASONS), or -1. */
function rejectReason(card: ModelCard, r: Trace['requests'][number], imageTok: number, capacity: number, capped: (t: number) => number): number {
  const all = r.promptTokens + imageTok + r.outputTokens;
  if (r.images.length > 0 && !card.vision) return 2;
  if (all > card.text.maxPositionEmbeddings) return 1;
  if (capped(all) > capacity) return 0;
  return -1;
}

/** Requests waiting for admission: arrival order, preempted requests go back to its front. */
class WaitingQueue {
  private arrived: number[] = [];
  private head = 0;
  private readonly front: number[] = [];

  get count(): number {
    return this.arrived.length - this.head + this.front.length;
  }
  push(i: number): void {
    this.arrived.push(i);
  }
  pushFront(i: number): void {
    this.front.push(i);
  }
  peek(): number {
    return this.front.length ? this.front[this.front.length - 1] : this.arrived[this.head];
  }
  shift(): number {
    return this.front.length ? this.front.pop()! : this.arrived[this.head++];
  }
  /** Drop the admitted prefix once it is most of the array. */
  compact(): void {
    if (this.head > 4096 && this.head * 2 > this.arrived.length) {
      this.arrived = this.arrived.slice(this.head);
      this.head = 0;
    }
  }
}

/** Per-request token times: first token, inter-token gaps, completion; and the tokens per time bin. */
class TokenLog {
  readonly first: Float64Array;
  readonly done: Float64Array;
  readonly tokens: Int32Array;
  private readonly lastToken: Float64Array;
  private itl = new Float64Array(1 << 16);
  private itlCount = 0;

  constructor(n: number, readonly bins: BinnedCounts) {
    this.first = new Float64Array(n).fill(-1);
    this.done = new Float64Array(n).fill(-1);
    this.lastToken = new Float64Array(n).fill(-1);
    this.tokens = new Int32Array(n);
  }

  /** Request i emitted a token at `now`. */
  token(i: number, now: number): void {
    this.tokens[i]++;
    this.bins.add(now);
    if (this.first[i] < 0) this.first[i] = now;
    else {
      if (this.itlCount === this.itl.length) {
        const grown = new Float64Array(this.itl.length * 2);
        grown.set(this.itl);
        this.itl = grown;
      }
      this.itl[this.itlCount++] = now - this.lastToken[i];
    }
    this.lastToken[i] = now;
  }

  itlCycles(): Float64Array {
    return this.itl.subarray(0, this.itlCount);
  }
}

/** One iteration's batch: every decoding row, then at most one prefill chunk. */
interface Batch {
  readonly members: Member[];
  readonly decodeRows: number;
  readonly decodeContextSum: number;
  readonly chunk?: Member;
}

/**
 * The scheduler's state and policy. Its fields and methods mirror serveTrace's closures
 * (sim/chip/serve.ts: waiting, nextArrival, kvInUse, active, slotBusy, finished (here
 * count.finished); arrive, onArrival, admit, startVision, formStep, complete) so the two can
 * be read side by side; runStep stands where serveTrace builds and starts a step's task graph.
 */
class IterationScheduler {
  private readonly sim = new Simulator({ nearWindowCycles: 1 << 14 });
  private readonly sharing: RegionSharing;
  private readonly reqs: Trace['requests'];
  private readonly N: number;
  private readonly maxBatch: number;
  private readonly slots: number;
  private readonly perSlot: number;
  private readonly window: number;
  private readonly capacity: number;
  private readonly recompute: boolean;
  private readonly timing = new StepTiming();

  // per request
  private readonly arrival: Float64Array;
  private readonly rejected: Int8Array;
  private readonly preemptions: Int32Array;
  private readonly imageTok: Int32Array;
  /** Tokens a preempted request must prefill again (its generated tokens), beyond its prompt. */
  private readonly redo: Int32Array;
  private readonly log: TokenLog;

  // time series
  private readonly queueSeries: BinnedSeries;
  private readonly runningSeries: BinnedSeries;
  private readonly kvSeries: BinnedSeries;
  private maxQueue = 0;

  // the serving state (serveTrace's, plus preemption)
  private readonly waiting = new WaitingQueue();
  private nextArrival = 0;
  private arrivalPending = false;
  private kvInUse = 0;
  private runningCount = 0;
  private admittedOrder = 0;
  private readonly active: Seq[][];
  private readonly slotBusy: Uint8Array;
  /** Iterations and vision passes run, tokens generated and recomputed (after preemption), requests finished or rejected. */
  private readonly count = { iterations: 0, visionPasses: 0, generated: 0, recomputed: 0, finished: 0 };

  /**
   * Steps in flight, and the last few started (for the held-out check of overlapping steps):
   * a step and the `slots` started just before it, which include every step still in flight
   * when it starts (a slot runs one step at a time). Three per slot (until 2026-12-03) made
   * each check simulate up to 12 steps together, most of a run's chip events.
   */
  private stepsInFlight = 0;
  private readonly recent: StartedStep[] = [];
  private readonly keep: number;

  constructor(
    private readonly card: ModelCard,
    trace: Trace,
    private readonly timer: StepTimer,
    regions: Regions,
    private readonly opt: SchedulerOptions,
    private readonly observer?: StepObserver,
  ) {
    this.sharing = new RegionSharing(this.sim, regions.count, regions.pairGain);
    const reqs = (this.reqs = trace.requests);
    const N = (this.N = reqs.length);
    const cyclesPerMs = opt.clockMHz * 1000;
    this.maxBatch = opt.batching === 'single' ? 1 : opt.maxBatch;
    this.slots = opt.batching === 'single' ? 1 : Math.max(1, Math.min(opt.microBatches, this.maxBatch));
    this.perSlot = Math.max(1, Math.ceil(this.maxBatch / this.slots));
    this.window = opt.kvWindowTokens;
    this.capacity = opt.kvCapacityTokens;
    this.recompute = opt.admission === 'recompute';
    this.keep = this.slots + 1;
    this.active = Array.from({ length: this.slots }, () => []);
    this.slotBusy = new Uint8Array(this.slots);

    this.arrival = new Float64Array(N);
    this.rejected = new Int8Array(N).fill(-1);
    this.preemptions = new Int32Array(N);
    this.imageTok = new Int32Array(N);
    this.redo = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      const r = reqs[i];
      this.arrival[i] = Math.round(r.arrivalMs * cyclesPerMs);
      this.imageTok[i] = r.images.reduce((s, im) => s + imageTokens(card, im.widthPx, im.heightPx), 0);
      this.rejected[i] = rejectReason(card, r, this.imageTok[i], this.capacity, this.capped);
    }
    const start = N ? this.arrival[0] : 0;
    const span = N ? Math.max(1, this.arrival[N - 1] - start) : 1;
    this.queueSeries = new BinnedSeries(start, span / 256);
    this.runningSeries = new BinnedSeries(start, span / 256);
    this.kvSeries = new BinnedSeries(start, span / 256);
    this.log = new TokenLog(N, new BinnedCounts(start, span / 256));
  }

  private readonly capped = (t: number) => (this.window > 0 ? Math.min(t, this.window) : t);

  run(): ScheduleResult {
    const { sim, N } = this;
    if (N > 0) {
      this.arrivalPending = true;
      sim.scheduleAt(this.arrival[0], this.onArrival, undefined, Priority.High);
    }
    sim.run();
    this.checkAllServed();
    this.progress();
    return this.result();
  }

  // ---- arrivals and the recorded series

  private record(): void {
    const now = this.sim.now;
    const q = this.waiting.count;
    if (q > this.maxQueue) this.maxQueue = q;
    this.queueSeries.set(now, q);
    this.runningSeries.set(now, this.runningCount);
    this.kvSeries.set(now, this.kvInUse);
  }

  private progress(): void {
    this.opt.onProgress?.(this.count.finished, this.N, this.sim.now);
  }

  /** Queue the requests that have arrived by now (rejected ones count as finished). */
  private arrive(): void {
    const { sim, N, arrival } = this;
    while (this.nextArrival < N && arrival[this.nextArrival] <= sim.now) {
      const i = this.nextArrival++;
      if (this.rejected[i] >= 0) {
        this.count.finished++;
        continue;
      }
      this.waiting.push(i);
    }
    this.waiting.compact();
    // one pending arrival event at a time (arrive() also runs after every step)
    if (this.nextArrival < N && !this.arrivalPending) {
      this.arrivalPending = true;
      sim.scheduleAt(arrival[this.nextArrival], this.onArrival, undefined, Priority.High);
    }
    this.record();
  }

  private readonly onArrival = (): void => {
    this.arrivalPending = false;
    this.arrive();
    this.formFreeSlots();
  };

  private formFreeSlots(): void {
    for (let s = 0; s < this.slots; s++) if (!this.slotBusy[s]) this.formStep(s);
  }

  // ---- admission and KV reservation

  /** KV tokens a request needs at admission: its whole context (reserve) or its prompt so far (recompute). */
  private kvAtAdmission(i: number): number {
    const r = this.reqs[i];
    const { imageTok, redo } = this;
    return this.recompute ? this.capped(r.promptTokens + imageTok[i] + redo[i]) : this.capped(r.promptTokens + imageTok[i] + r.outputTokens);
  }

  /** Admit waiting requests into the slot, in order, while the slot, the batch and the KV cache have room. */
  private admit(slot: number): void {
    const { active, waiting } = this;
    let inFlight = 0;
    for (const a of active) inFlight += a.length;
    while (waiting.count > 0 && active[slot].length < this.perSlot && inFlight < this.maxBatch) {
      const i = waiting.peek();
      const need = this.kvAtAdmission(i);
      if (this.kvInUse + need > this.capacity) break;
      waiting.shift();
      this.kvInUse += need;
      const seq = this.newSeq(i, slot, need);
      active[slot].push(seq);
      inFlight++;
      this.runningCount++;
      if (seq.state === 'vision') this.startVision(seq);
    }
    this.record();
  }

  /** A sequence for request i as admitted: a cached context decodes at once, images pass the encoder first. */
  private newSeq(i: number, slot: number, kv: number): Seq {
    const r = this.reqs[i];
    const redo = this.redo[i];
    const cached = r.contextCached && redo === 0;
    return {
      id: i,
      kv,
      cached: cached ? r.promptTokens : 0,
      textLeft: cached ? 0 : r.promptTokens + redo,
      imageLeft: cached ? 0 : this.imageTok[i],
      // a preempted sequence resumes with the tokens it generated; its prefill re-creates their cache
      generated: this.log.tokens[i],
      state: cached ? 'decode' : this.imageTok[i] > 0 ? 'vision' : 'prefill',
      slot,
      admittedOrder: this.admittedOrder++,
    };
  }

  /** Recompute policy: every decoding row appends one position; preempt until they fit (prefill chunks were admitted with room). */
  private makeRoomForDecode(slot: number): void {
    const seqs = this.active[slot];
    for (;;) {
      let grow = 0;
      for (const s of seqs) if (s.state === 'decode' && (this.window === 0 || s.kv < this.window)) grow++;
      if (this.kvInUse + grow <= this.capacity || !this.preempt(slot)) break;
    }
  }

  /** Drop the most recently admitted sequence of the slot (recompute policy). */
  private preempt(slot: number): boolean {
    const seqs = this.active[slot];
    if (seqs.length === 0) return false;
    let victim = 0;
    for (let k = 1; k < seqs.length; k++) if (seqs[k].admittedOrder > seqs[victim].admittedOrder) victim = k;
    const s = seqs[victim];
    seqs.splice(victim, 1);
    this.kvInUse -= s.kv;
    this.runningCount--;
    this.preemptions[s.id]++;
    this.redo[s.id] = this.log.tokens[s.id];
    this.waiting.pushFront(s.id);
    return true;
  }

  // ---- forming an iteration's batch

  /** The slot is free: admit, form its batch and launch it (nothing to do until an arrival or a vision pass completes). */
  private formStep(slot: number): void {
    if (this.slotBusy[slot]) return;
    this.admit(slot);
    if (this.recompute) this.makeRoomForDecode(slot);
    const batch = this.formBatch(this.active[slot]);
    if (batch.members.length === 0) return;
    this.slotBusy[slot] = 1;
    const { members, chunk } = batch;
    this.runStep(
      this.stepShape(batch),
      () => ({
        decodeContexts: members.filter((m) => m !== chunk).map((m) => m.seq.cached),
        chunk: chunk && { n: chunk.n, image: chunk.image, context: chunk.seq.cached, emits: chunk.emits },
      }),
      () => this.complete(slot, members),
    );
  }

  /** Decode first: one row per decoding sequence; the rest of the token budget goes to one prefill chunk. */
  private formBatch(seqs: readonly Seq[]): Batch {
    const members: Member[] = [];
    let decodeRows = 0;
    let decodeContextSum = 0;
    for (const s of seqs) {
      if (s.state !== 'decode') continue;
      members.push({ seq: s, n: 1, text: 1, image: 0, emits: true });
      decodeRows++;
      decodeContextSum += effectiveContext(s.cached, this.window);
    }
    const chunk = prefillChunk(seqs, this.opt.prefillChunkTokens - decodeRows);
    if (chunk) members.push(chunk);
    return { members, decodeRows, decodeContextSum, chunk };
  }

  private stepShape({ decodeRows, decodeContextSum, chunk }: Batch): StepShape {
    return {
      vision: false,
      decodeRows,
      decodeContextSum,
      prefillRows: chunk?.n ?? 0,
      imageRows: chunk?.image ?? 0,
      prefillContext: chunk ? effectiveContext(chunk.seq.cached, this.window) : 0,
      emits: chunk?.emits ?? false,
    };
  }

  /** Images pass the vision encoder one crop (encoder tile) at a time; the last pass hands the sequence to prefill. */
  private startVision(seq: Seq): void {
    let left = this.reqs[seq.id].images.reduce((s, im) => s + imageTiles(this.card, im.widthPx, im.heightPx).tiles, 0);
    const next = () => {
      const shape: StepShape = { vision: true, decodeRows: 0, decodeContextSum: 0, prefillRows: 0, imageRows: 0, prefillContext: 0, emits: false };
      this.count.visionPasses++;
      this.runStep(shape, () => ({ decodeContexts: [] }), () => {
        if (--left > 0) return next();
        seq.state = 'prefill';
        if (!this.slotBusy[seq.slot]) this.formStep(seq.slot);
      });
    };
    next();
  }

  // ---- launching into the pipeline regions

  /** Time a step that starts now, run it through the shared regions, call `done` when it completes. */
  private runStep(shape: StepShape, exact: () => ExactRows, done: () => void): void {
    const { sim } = this;
    const overlapping = this.stepsInFlight > 0;
    const cycles = this.timer.time(shape, this.timing, overlapping);
    const report = this.observer ? this.observeStart(shape, cycles, exact, overlapping) : undefined;
    const start = sim.now;
    this.stepsInFlight++;
    this.sharing.start(this.timing, () => {
      this.stepsInFlight--;
      report?.(sim.now - start, cycles);
      done();
    });
  }

  /** Show the held-out observer a starting step; returns its completion report for an overlapping step. */
  private observeStart(shape: StepShape, cycles: number, exact: () => ExactRows, overlapping: boolean): ((latencyCycles: number, aloneCycles: number) => void) | undefined {
    const observer = this.observer!;
    const recent = this.recent;
    // rows as they are now: the contexts change when the step completes
    const step: StartedStep = { startCycles: this.sim.now, shape, rows: exact() };
    if (recent.length === this.keep) recent.shift();
    recent.push(step);
    observer.observe(shape, cycles, step.rows, overlapping ? () => [...recent] : undefined);
    return overlapping ? observer.observeInFlight([...recent]) : undefined;
  }

  // ---- completing an iteration

  private complete(slot: number, members: readonly Member[]): void {
    this.count.iterations++;
    const now = this.sim.now;
    for (const m of members) this.advance(m, now);
    this.active[slot] = this.active[slot].filter((s) => s.state !== 'done');
    this.slotBusy[slot] = 0;
    this.arrive();
    this.formFreeSlots();
    if ((this.count.iterations & 4095) === 0) this.progress();
  }

  /** A member's rows are cached; a finished prefill turns to decode; an emitting row adds a token. */
  private advance(m: Member, now: number): void {
    const s = m.seq;
    s.cached += m.n;
    if (this.recompute && m.n > 0 && s.state === 'decode' && (this.window === 0 || s.kv < this.window)) {
      s.kv++;
      this.kvInUse++;
    }
    if (s.state === 'prefill') {
      s.textLeft -= m.text;
      s.imageLeft -= m.image;
      if (!m.emits) return;
      s.state = 'decode';
      // a re-prefill rebuilt the cache of the tokens generated before preemption, then emits the next
      this.count.recomputed += this.redo[s.id];
      this.redo[s.id] = 0;
    }
    s.generated++;
    this.count.generated++;
    this.log.token(s.id, now);
    if (s.generated >= this.reqs[s.id].outputTokens) this.finish(s, now);
  }

  private finish(s: Seq, now: number): void {
    s.state = 'done';
    this.log.done[s.id] = now;
    this.kvInUse -= s.kv;
    this.runningCount--;
    this.count.finished++;
  }

  // ---- the result

  private checkAllServed(): void {
    const { N, rejected } = this;
    const done = this.log.done;
    const served = N - rejected.reduce((a, r) => a + (r >= 0 ? 1 : 0), 0);
    if (done.reduce((a, d, i) => a + (d >= 0 && rejected[i] < 0 ? 1 : 0), 0) !== served) {
      throw new Error(`internal: serving stalled with ${served - done.filter((d) => d >= 0).length} requests unfinished at cycle ${this.sim.now}`);
    }
  }

  private result(): ScheduleResult {
    const end = this.sim.now;
    const { log } = this;
    return {
      arrivalCycles: this.arrival,
      firstTokenCycles: log.first,
      doneCycles: log.done,
      tokens: log.tokens,
      rejected: this.rejected,
      preemptions: this.preemptions,
      itlCycles: log.itlCycles(),
      iterations: this.count.iterations,
      visionPasses: this.count.visionPasses,
      generatedTokens: this.count.generated,
      recomputedTokens: this.count.recomputed,
      endCycles: end,
      queue: this.queueSeries.finish(end),
      running: this.runningSeries.finish(end),
      kvTokens: this.kvSeries.finish(end),
      tokensPerBin: log.bins.finish(end),
      maxQueue: this.maxQueue,
      regionBusyCycles: this.sharing.busyCycles,
    };
  }
}

/** Chunked prefill: up to `budget` rows (image rows first) of the oldest sequence still prefilling; one per step. */
function prefillChunk(seqs: readonly Seq[], budget: number): Member | undefined {
  for (const s of seqs) {
    if (budget <= 0) return undefined;
    if (s.state !== 'prefill') continue;
    const image = Math.min(s.imageLeft, budget);
    const text = Math.min(s.textLeft, budget - image);
    const n = image + text;
    if (n === 0) continue;
    return { seq: s, n, text, image, emits: s.imageLeft - image === 0 && s.textLeft - text === 0 };
  }
  return undefined;
}
