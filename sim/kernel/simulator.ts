import { PriorityQueue } from '@datastructures-js/priority-queue';
import { Priority, PRIORITY_LEVELS as LEVELS } from './priority.js';

// Module-local copy: under tsx an imported binding can compile to a getter, which costs
// measurably on the hot paths below.
const PRIORITY_LEVELS = LEVELS;

/** An event handler; `arg` is the value given to `schedule`, so hot paths need no closures. */
export type EventHandler<T = any> = (arg: T) => void;

/**
 * A scheduled event. Returned by `schedule` as the handle for `cancel`. Fields are
 * `declare`d and all assigned in the constructor, in one order: one is made per message
 * delivery, and class-field initialisers would first define each field as undefined.
 */
export class SimEvent<T = any> {
  declare timeCycles: number;
  declare priority: number;
  declare seq: number;
  declare handler: EventHandler<T>;
  declare arg: T;
  /** Linked-list successor inside a near-future bucket. */
  declare next: SimEvent | null;
  declare cancelled: boolean;
  declare fired: boolean;
  /** True while the event sits in the near-future wheel (false: in the far queue). */
  declare inWheel: boolean;
  /** Scheduled by `post` (no handle was returned): the kernel reuses the object once it has fired. */
  declare pooled: boolean;
  constructor(timeCycles: number, priority: number, seq: number, handler: EventHandler<T>, arg: T) {
    this.timeCycles = timeCycles;
    this.priority = priority;
    this.seq = seq;
    this.handler = handler;
    this.arg = arg;
    this.next = null;
    this.cancelled = false;
    this.fired = false;
    this.inWheel = false;
    this.pooled = false;
  }
}

const NOTHING: EventHandler = () => {};

/** Raised for misuse of the kernel (scheduling into the past, non-integer times). */
export class SimulationError extends Error {
  override name = 'SimulationError';
}

export interface SimulatorOptions {
  /**
   * Width of the near-future bucket wheel in cycles (a power of two), or 0 to keep every
   * event in the library priority queue. Events due within the window go to one-cycle FIFO
   * buckets; later events wait in `@datastructures-js/priority-queue` and migrate into the
   * wheel, in (time, priority, seq) order, as the window reaches them. Measured in
   * `bench/kernel.bench.ts`: the wheel is several times faster than the library alone.
   */
  nearWindowCycles?: number;
}

/** (time, priority, insertion sequence): the total order of events. */
function compareEvents(a: SimEvent, b: SimEvent): number {
  return a.timeCycles - b.timeCycles || a.priority - b.priority || a.seq - b.seq;
}

/**
 * Discrete-event kernel with integer-cycle time.
 *
 * Ordering contract: events run in ascending (time, priority, insertion sequence), on
 * both the near (bucket wheel) and the far (priority queue) path, so a run is a pure
 * function of its inputs. Cancellation is O(1): the event is flagged and skipped when
 * reached (ns-3's lazy cancel).
 *
 * Invariant: every pending event due before `now + window` sits in the wheel and every
 * later one in the far queue. Far events for a cycle always migrate before any event can
 * be scheduled directly into that cycle's bucket, so FIFO order among equal keys holds.
 */
export class Simulator {
  private nowCycles = 0;
  private seqCounter = 0;
  private pendingCount = 0;
  private dispatched = 0;
  private stopRequested = false;

  private readonly window: number;
  private readonly mask: number;
  /** heads/tails indexed by bucket * PRIORITY_LEVELS + priority */
  private readonly heads: (SimEvent | null)[];
  private readonly tails: (SimEvent | null)[];
  /** events (including cancelled ones) held per bucket */
  private readonly bucketCount: Int32Array;
  /** one bit per bucket that holds events */
  private readonly bitmap: Uint32Array;
  private wheelSize = 0;
  private readonly far: PriorityQueue<SimEvent>;

  constructor(options: SimulatorOptions = {}) {
    const w = options.nearWindowCycles ?? 1024;
    if (!Number.isInteger(w) || w < 0 || (w !== 0 && (w & (w - 1)) !== 0) || w > 1 << 20) {
      throw new SimulationError(`nearWindowCycles = ${w}: must be 0 or a power of two up to 2^20`);
    }
    this.window = w;
    this.mask = w - 1;
    const slots = Math.max(w, 1) * PRIORITY_LEVELS;
    this.heads = new Array(slots).fill(null);
    this.tails = new Array(slots).fill(null);
    this.bucketCount = new Int32Array(Math.max(w, 1));
    this.bitmap = new Uint32Array(Math.max(1, w >>> 5));
    this.far = new PriorityQueue<SimEvent>(compareEvents);
  }

  /** Current simulated time in cycles. */
  get now(): number {
    return this.nowCycles;
  }

  /** Events scheduled and neither fired nor cancelled. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Events dispatched so far (cancelled events are not counted). */
  get eventsDispatched(): number {
    return this.dispatched;
  }

  /** Schedule `handler(arg)` to run `delayCycles` from now. */
  schedule<T>(delayCycles: number, handler: EventHandler<T>, arg?: T, priority: number = Priority.Default): SimEvent<T> {
    return this.scheduleAt(this.nowCycles + delayCycles, handler, arg, priority);
  }

  /** Schedule `handler(arg)` at absolute cycle `timeCycles` (>= now). */
  scheduleAt<T>(timeCycles: number, handler: EventHandler<T>, arg?: T, priority: number = Priority.Default): SimEvent<T> {
    this.check(timeCycles, priority);
    const ev = new SimEvent<T>(timeCycles, priority, this.seqCounter++, handler, arg as T);
    this.pendingCount++;
    if (timeCycles - this.nowCycles < this.window) this.pushNear(ev);
    else this.far.enqueue(ev);
    return ev;
  }

  /**
   * Schedule `handler(arg)` `delayCycles` from now without a handle: the event cannot be
   * cancelled, and its object is reused once it has fired, so a hot path that schedules
   * an event per task or message allocates nothing for it. Same order as `schedule`.
   */
  post<T>(delayCycles: number, handler: EventHandler<T>, arg?: T, priority: number = Priority.Default): void {
    this.postAt(this.nowCycles + delayCycles, handler, arg, priority);
  }

  /** `post` at absolute cycle `timeCycles` (>= now). */
  postAt<T>(timeCycles: number, handler: EventHandler<T>, arg?: T, priority: number = Priority.Default): void {
    this.check(timeCycles, priority);
    let ev = this.spare.pop();
    if (ev) {
      ev.timeCycles = timeCycles;
      ev.priority = priority;
      ev.seq = this.seqCounter++;
      ev.handler = handler;
      ev.arg = arg;
      ev.fired = false;
    } else {
      ev = new SimEvent<T>(timeCycles, priority, this.seqCounter++, handler, arg as T);
      ev.pooled = true;
    }
    this.pendingCount++;
    if (timeCycles - this.nowCycles < this.window) this.pushNear(ev);
    else this.far.enqueue(ev);
  }

  /** Fired `post` events, ready for reuse. */
  private readonly spare: SimEvent[] = [];

  private check(timeCycles: number, priority: number): void {
    if (!Number.isSafeInteger(timeCycles)) {
      throw new SimulationError(`event time ${timeCycles} is not an integer cycle count`);
    }
    if (timeCycles < this.nowCycles) {
      throw new SimulationError(`cannot schedule into the past: time ${timeCycles} < now ${this.nowCycles}`);
    }
    if (!(priority >= 0 && priority < PRIORITY_LEVELS && (priority | 0) === priority)) {
      throw new SimulationError(`priority ${priority} is not an integer in [0, ${PRIORITY_LEVELS - 1}]`);
    }
  }

  /** Cancel a pending event. Returns false if it already fired or was cancelled. */
  cancel(ev: SimEvent): boolean {
    if (ev.fired || ev.cancelled) return false;
    ev.cancelled = true;
    this.pendingCount--;
    return true;
  }

  /** Ask `run`/`runUntil` to return after the current event. */
  stop(): void {
    this.stopRequested = true;
  }

  /** Time of the next live event, or undefined when none is pending. */
  peekTime(): number | undefined {
    const ev = this.peekNext();
    return ev ? ev.timeCycles : undefined;
  }

  /** Dispatch exactly one event. Returns false when nothing is pending. */
  step(): boolean {
    const ev = this.peekNext();
    if (!ev) return false;
    this.take(ev);
    this.fire(ev);
    return true;
  }

  /**
   * Dispatch every event due at or before `untilCycles`, then leave the clock at
   * `untilCycles`. Returns the number of events dispatched.
   */
  runUntil(untilCycles: number): number {
    if (!Number.isSafeInteger(untilCycles) || untilCycles < this.nowCycles) {
      throw new SimulationError(`runUntil(${untilCycles}): must be an integer cycle >= now (${this.nowCycles})`);
    }
    const before = this.dispatched;
    this.stopRequested = false;
    for (;;) {
      const ev = this.peekNext();
      if (!ev || ev.timeCycles > untilCycles) break;
      this.take(ev);
      this.fire(ev);
      if (this.stopRequested) return this.dispatched - before;
    }
    this.advanceTo(untilCycles);
    return this.dispatched - before;
  }

  /** Dispatch until no event is pending (or `stop()`), at most `maxEvents`. */
  run(maxEvents = Number.POSITIVE_INFINITY): number {
    const before = this.dispatched;
    this.stopRequested = false;
    while (this.dispatched - before < maxEvents) {
      const ev = this.peekNext();
      if (!ev) break;
      this.take(ev);
      this.fire(ev);
      if (this.stopRequested) break;
    }
    return this.dispatched - before;
  }

  // ---- internals -------------------------------------------------------------------

  private fire(ev: SimEvent): void {
    ev.fired = true;
    this.pendingCount--;
    this.dispatched++;
    ev.handler(ev.arg);
    if (ev.pooled) {
      // drop the references (the handler's argument may be large) and keep the object
      ev.handler = NOTHING;
      ev.arg = undefined;
      this.spare.push(ev);
    }
  }

  private pushNear(ev: SimEvent): void {
    const b = ev.timeCycles & this.mask;
    const slot = b * PRIORITY_LEVELS + ev.priority;
    const tail = this.tails[slot];
    if (tail) tail.next = ev;
    else this.heads[slot] = ev;
    this.tails[slot] = ev;
    ev.inWheel = true;
    if (this.bucketCount[b]++ === 0) this.bitmap[b >>> 5] |= 1 << (b & 31);
    this.wheelSize++;
  }

  /** Move the clock forward (never back) and pull far events into the new window. */
  private advanceTo(t: number): void {
    if (t <= this.nowCycles) return;
    this.nowCycles = t;
    if (this.window === 0) return;
    const limit = t + this.window;
    const far = this.far;
    while (!far.isEmpty()) {
      const top = far.front()!;
      if (top.timeCycles >= limit) break;
      far.dequeue();
      if (top.cancelled) continue;
      this.pushNear(top);
    }
  }

  /**
   * The next live event, left in place; the clock does not move. The wheel's earliest
   * event precedes every far event, so the far queue is consulted only when the wheel is
   * empty. Cancelled events met on the way are discarded.
   */
  private peekNext(): SimEvent | null {
    while (this.wheelSize > 0) {
      const b = this.nextBusyBucket(this.nowCycles & this.mask);
      const base = b * PRIORITY_LEVELS;
      for (let p = 0; p < PRIORITY_LEVELS; p++) {
        let ev = this.heads[base + p];
        while (ev && ev.cancelled) {
          this.unlinkHead(b, p, ev);
          ev = this.heads[base + p];
        }
        if (ev) return ev;
      }
      // The bucket held only cancelled events and is now empty: look again.
    }
    const far = this.far;
    while (!far.isEmpty() && far.front()!.cancelled) far.dequeue();
    return far.isEmpty() ? null : far.front();
  }

  /** Remove `ev`, which `peekNext` just returned, and move the clock to its time. */
  private take(ev: SimEvent): void {
    if (ev.inWheel) this.unlinkHead(ev.timeCycles & this.mask, ev.priority, ev);
    else this.far.dequeue();
    this.advanceTo(ev.timeCycles);
  }

  private unlinkHead(b: number, p: number, ev: SimEvent): void {
    const slot = b * PRIORITY_LEVELS + p;
    this.heads[slot] = ev.next;
    if (ev.next === null) this.tails[slot] = null;
    ev.next = null;
    ev.inWheel = false;
    this.wheelSize--;
    if (--this.bucketCount[b] === 0) this.bitmap[b >>> 5] &= ~(1 << (b & 31));
  }

  /** First bucket at or after `start` (cyclically) that holds events. Requires wheelSize > 0. */
  private nextBusyBucket(start: number): number {
    const words = this.bitmap;
    const nWords = words.length;
    let w = start >>> 5;
    // bits at or above `start` within its word
    let bits = words[w] & (0xffffffff << (start & 31));
    for (let i = 0; i <= nWords; i++) {
      if (bits !== 0) {
        const b = (w << 5) + (31 - Math.clz32(bits & -bits));
        return b & this.mask;
      }
      w = w + 1 === nWords ? 0 : w + 1;
      bits = words[w];
    }
    throw new SimulationError('internal: wheel reported events but no bucket holds any');
  }
}
