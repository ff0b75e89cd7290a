import type { Simulator } from '../kernel/simulator.js';
import { Priority } from '../kernel/priority.js';
import type { NetworkPort, NetworkMessage } from '../noc/port.js';
import type { TileCostModel, TileWork } from './work.js';

/**
 * The full-chip execution engine: tiles run tasks, tasks wait for NoC messages.
 *
 * A task belongs to one tile, optionally computes `work` (timed by the tile cost model),
 * and when done sends messages (unicast or multicast) whose deliveries satisfy other
 * tasks' dependencies. Each tile runs one task at a time: of its ready tasks, the one of
 * the oldest step (micro-batch) first, then in the order they became ready. So an older
 * micro-batch runs through a pipeline region ahead of a younger one, and the younger
 * follows a region behind (staggered), filling the gaps. Events happen only at task
 * boundaries and message deliveries (the fast tile fidelity); activity is accumulated per
 * tile, and so are the bytes each tile's network interface ejects.
 */

/**
 * Bytes a task sends on completion to one task on each destination tile. A task's sends
 * form a list in the order they were added (`next`), so a task with one send allocates
 * nothing but the send; `targets` arrays may be shared between sends (a gather tree's
 * children all send to `[parent]`) and are never modified.
 */
export class Send {
  /** The task's next send (issued after this one), or null. */
  declare next: Send | null;
  /**
   * For the deliveries of a large multicast: the targets' tiles sorted (`index[k]`) and,
   * after them, each one's position in `targets` (`index[n + k]`); built on the first
   * delivery and searched by bisection (typed arrays: nothing for the collector to trace).
   */
  declare index: Int32Array | undefined;
  /** One task per destination tile (their tiles are the destinations). */
  declare readonly targets: readonly Task[];
  declare readonly bytes: number;
  /** Targets on the sending task's own tile (satisfied without the network). */
  declare readonly local: number;
  constructor(targets: readonly Task[], bytes: number, local: number) {
    this.targets = targets;
    this.bytes = bytes;
    this.local = local;
    this.next = null;
    this.index = undefined;
  }
}

const NONE: readonly Task[] = Object.freeze([]);

export class Task {
  /** Unmet dependencies: local predecessors plus messages still to arrive. */
  declare pending: number;
  /** Local successors (a shared empty array until the first `then`: most tasks have none). */
  declare after: readonly Task[];
  /** The first message sent on completion (null when none); the others follow through `Send.next`. */
  declare sends: Send | null;
  /** The last of them (where `sendTo` appends). */
  private declare lastSend: Send | null;
  declare startCycles: number;
  declare endCycles: number;
  /** Position in its step's task list (set by the builder; used by graph analyses). */
  declare index: number;
  /** Called when the task completes (after its sends are issued). */
  declare onDone: ((t: Task) => void) | null;
  /** Order in which it became ready (ties within a step). */
  declare readySeq: number;
  declare readonly tile: number;
  declare readonly work: TileWork | null;
  /** Short label for timelines: `L3.q_proj`, `embed`, ... */
  declare readonly label: string;
  /** Which step instance (micro-batch step) it belongs to, for timelines. */
  declare readonly step: number;
  constructor(tile: number, work: TileWork | null, label: string, step: number) {
    // every field assigned here, in one order (one object shape, no field initialisers)
    this.tile = tile;
    this.work = work;
    this.label = label;
    this.step = step;
    this.pending = 0;
    this.after = NONE;
    this.sends = null;
    this.lastSend = null;
    this.startCycles = -1;
    this.endCycles = -1;
    this.index = -1;
    this.onDone = null;
    this.readySeq = 0;
  }

  /** `next` runs only after this task completes (same or another tile, no message). */
  then(next: Task): Task {
    if (this.after === NONE) this.after = [next];
    else (this.after as Task[]).push(next);
    next.pending++;
    return next;
  }

  /** When this task completes, send `bytes` to each of `targets` (each on its own tile; the array is kept, not copied). */
  sendTo(targets: readonly Task[], bytes: number): void {
    if (targets.length === 0) return;
    let local = 0;
    for (let i = 0; i < targets.length; i++) {
      targets[i].pending++;
      if (targets[i].tile === this.tile) local++;
    }
    const send = new Send(targets, bytes, local);
    if (this.lastSend === null) this.sends = send;
    else this.lastSend.next = send;
    this.lastSend = send;
  }
}

export interface TimelineEntry {
  readonly tile: number;
  readonly label: string;
  readonly step: number;
  readonly startCycles: number;
  readonly endCycles: number;
}

export interface MessageEntry {
  readonly src: number;
  readonly dst: number;
  readonly bytes: number;
  readonly sentCycles: number;
  readonly deliveredCycles: number;
}

export interface EngineOptions {
  /** Record every task's start and end and every message for a timeline (costs memory on long runs). */
  readonly recordTimeline?: boolean;
}

/** Does `a` run before `b` on a tile: older step first, then readiness order. */
const before = (a: Task, b: Task) => a.step < b.step || (a.step === b.step && a.readySeq < b.readySeq);

/**
 * A binary min-heap of ready tasks (one per tile; usually a handful of entries). Its size is
 * counted apart from the array, which never shrinks: popping the last entries of a small
 * array lets V8 trim its storage, and the next push allocates it again (50k tasks a run).
 */
class ReadyQueue {
  private readonly items: Task[] = [];
  size = 0;
  push(t: Task): void {
    const a = this.items;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(t, a[p])) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = t;
  }
  pop(): Task | undefined {
    const a = this.items;
    if (this.size === 0) return undefined;
    const top = a[0];
    const n = --this.size;
    const last = a[n];
    if (n) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const c = l + 1 < n && before(a[l + 1], a[l]) ? l + 1 : l;
        if (!before(a[c], last)) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/** Position in `s.targets` of the target on tile `dst` (the targets are on distinct tiles). */
function positionOf(s: Send, dst: number): number {
  const n = s.targets.length;
  let index = s.index;
  if (index === undefined) {
    // the targets' positions in tile order (tiles are distinct, so any sort gives this order)
    const order = new Int32Array(n);
    for (let k = 0; k < n; k++) order[k] = k;
    order.sort((a, b) => s.targets[a].tile - s.targets[b].tile);
    index = s.index = new Int32Array(2 * n);
    for (let k = 0; k < n; k++) {
      index[k] = s.targets[order[k]].tile;
      index[n + k] = order[k];
    }
  }
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (index[mid] < dst) lo = mid + 1;
    else hi = mid;
  }
  if (index[lo] !== dst) throw new Error(`internal: a multicast delivered to tile ${dst}, which is not one of its targets`);
  return index[n + lo];
}

/** A cost's counters as (per-tile array, value) pairs, and per tile how many times it ran while tallying. */
interface Compact {
  readonly arrays: Float64Array[];
  readonly values: Float64Array;
  times: Float64Array | null;
}

export class ChipEngine {
  private readonly queues: ReadyQueue[];
  private readySeq = 0;
  private readonly busy: Uint8Array;
  /** Per tile: bytes its network interface ejected (deliveries from other tiles). */
  readonly ejectedBytes: Float64Array;
  /** Per tile: busy cycles (compute). */
  readonly busyCycles: Float64Array;
  /** Per counter name, per tile (read through `tileCounters`, which first folds the tallies in). */
  private readonly counterArrays: Map<string, Float64Array> = new Map();
  readonly timeline: TimelineEntry[] = [];
  readonly messages: MessageEntry[] = [];
  tasksRun = 0;
  /** Cycle the last task completed: the end of the simulated window (issue 11). */
  lastCompletionCycles = 0;
  messagesSent = 0;
  localDeliveries = 0;
  bytesSent = 0;

  constructor(
    private readonly sim: Simulator,
    private readonly network: NetworkPort,
    private readonly costs: TileCostModel,
    readonly tileCount: number,
    private readonly options: EngineOptions = {},
  ) {
    this.queues = Array.from({ length: tileCount }, () => new ReadyQueue());
    this.busy = new Uint8Array(tileCount);
    this.ejectedBytes = new Float64Array(tileCount);
    this.busyCycles = new Float64Array(tileCount);
  }

  /** Release tasks with no dependencies (call after building a step's graph). */
  start(tasks: readonly Task[]): void {
    // an index loop: this runs once per step, unoptimised, where `for...of` allocates per task
    for (let i = 0; i < tasks.length; i++) if (tasks[i].pending === 0) this.ready(tasks[i]);
  }

  private ready(t: Task): void {
    t.readySeq = this.readySeq++;
    const q = this.queues[t.tile];
    // an idle tile with nothing queued starts the task at once
    if (!this.busy[t.tile] && q.size === 0) this.runTask(t);
    else {
      q.push(t);
      if (!this.busy[t.tile]) this.runNext(t.tile);
    }
  }

  private satisfy(t: Task): void {
    if (--t.pending === 0) this.ready(t);
    else if (t.pending < 0) throw new Error(`internal: task ${t.label} on tile ${t.tile} over-satisfied`);
  }

  private runNext(tile: number): void {
    const task = this.queues[tile].pop();
    if (task) this.runTask(task);
  }

  private runTask(task: Task): void {
    const tile = task.tile;
    this.busy[tile] = 1;
    task.startCycles = this.sim.now;
    let cycles = 0;
    if (task.work) {
      const c = this.costs.cost(tile, task.work);
      cycles = c.cycles;
      // counters in a compact form, computed once per (cached) cost object
      let compact = this.compactCosts.get(c);
      if (!compact) {
        const names = Object.keys(c.counters);
        const values = Float64Array.from(names, (n) => c.counters[n]);
        compact = { arrays: names.map((n) => this.counterArray(n)), values, times: null };
        if (!values.every((x) => Number.isInteger(x))) this.stopTallies();
        this.compactCosts.set(c, compact);
      }
      if (this.tallying) {
        if (compact.times === null) {
          compact.times = new Float64Array(this.tileCount);
          this.tallied.push(compact);
        }
        compact.times[tile]++;
      } else {
        const { arrays, values } = compact;
        for (let i = 0; i < arrays.length; i++) arrays[i][tile] += values[i];
      }
      this.busyCycles[tile] += cycles;
    }
    this.sim.post(cycles, this.finish, task, Priority.Default);
  }

  private readonly compactCosts = new WeakMap<object, Compact>();
  /**
   * While every cost's counters are integers, a task only counts how many times its tile
   * ran that cost (`times`); the counters are folded in (count x value) when read. Sums of
   * integers below 2^53 are exact in any order, so this equals adding each task's counters
   * as it runs. A cost with a fractional counter ends the tallies: they are folded in and
   * every later task adds its counters directly, in order.
   */
  private tallying = true;
  private readonly tallied: Compact[] = [];

  private foldTallies(): void {
    for (const c of this.tallied) {
      const times = c.times!;
      for (let t = 0; t < times.length; t++) {
        const k = times[t];
        if (k === 0) continue;
        for (let i = 0; i < c.arrays.length; i++) c.arrays[i][t] += c.values[i] * k;
        times[t] = 0;
      }
    }
  }

  private stopTallies(): void {
    this.foldTallies();
    this.tallying = false;
  }

  /** Per tile, per counter name: activity accumulated from task costs. */
  get tileCounters(): ReadonlyMap<string, Float64Array> {
    this.foldTallies();
    return this.counterArrays;
  }

  private counterArray(name: string): Float64Array {
    let arr = this.counterArrays.get(name);
    if (!arr) {
      arr = new Float64Array(this.tileCount);
      this.counterArrays.set(name, arr);
    }
    return arr;
  }

  private readonly finish = (task: Task): void => {
    task.endCycles = this.sim.now;
    this.lastCompletionCycles = task.endCycles;
    this.tasksRun++;
    this.busy[task.tile] = 0;
    if (this.options.recordTimeline && task.work) {
      this.timeline.push({ tile: task.tile, label: task.label, step: task.step, startCycles: task.startCycles, endCycles: task.endCycles });
    }
    for (let s = task.sends; s !== null; s = s.next) this.issue(task.tile, s);
    const after = task.after;
    for (let i = 0; i < after.length; i++) this.satisfy(after[i]);
    task.onDone?.(task);
    // a successor on this tile may already have started (satisfy -> ready -> runNext)
    if (!this.busy[task.tile]) this.runNext(task.tile);
  };

  /**
   * Hand a send to the network. Deliveries find their target task through the message
   * tag (a slot per send) and, for multicast, the destination: no closure or map per
   * message on the hot path.
   */
  private issue(src: number, s: Send): void {
    const targets = s.targets;
    if (s.local > 0) {
      for (let i = 0; i < targets.length; i++) {
        if (targets[i].tile === src) {
          this.localDeliveries++;
          this.satisfy(targets[i]);
        }
      }
    }
    const remote = targets.length - s.local;
    if (remote === 0) return;
    const slot = this.freeCount > 0 ? this.freeSlots[--this.freeCount] : this.slots.length;
    if (slot >= this.slotPending.length) {
      const grow = (a: Int32Array | Float64Array) => {
        const b = new (a.constructor as typeof Int32Array | typeof Float64Array)(a.length * 2);
        b.set(a);
        return b;
      };
      this.slotPending = grow(this.slotPending) as Int32Array;
      this.slotSentAt = grow(this.slotSentAt) as Float64Array;
    }
    this.slots[slot] = s;
    this.slotPending[slot] = remote;
    this.slotSentAt[slot] = this.sim.now;
    this.bytesSent += s.bytes * remote;
    this.messagesSent += remote;
    if (remote === 1) {
      const d = targets[0].tile === src ? targets[1].tile : targets[0].tile;
      this.network.send(src, d, s.bytes, this.onDelivered, slot);
    } else {
      const dsts: number[] = [];
      for (let i = 0; i < targets.length; i++) if (targets[i].tile !== src) dsts.push(targets[i].tile);
      this.network.multicast(src, dsts, s.bytes, this.onDelivered, slot);
    }
  }

  private readonly slots: (Send | null)[] = [];
  private slotPending: Int32Array = new Int32Array(1024);
  private slotSentAt: Float64Array = new Float64Array(1024);
  /** Slots free for reuse: a stack of `freeCount` (an array popped empty would let V8 drop its storage, reallocated on the next push). */
  private freeSlots: Int32Array = new Int32Array(1024);
  private freeCount = 0;

  private readonly onDelivered = (msg: NetworkMessage, at: number): void => {
    const slot = msg.tag;
    const s = this.slots[slot]!;
    if (this.options.recordTimeline) this.messages.push({ src: msg.src, dst: msg.dst, bytes: s.bytes, sentCycles: this.slotSentAt[slot], deliveredCycles: at });
    let i = 0;
    const targets = s.targets;
    if (targets.length > 1) {
      if (targets.length <= 8) while (targets[i].tile !== msg.dst) i++;
      else i = positionOf(s, msg.dst);
    }
    if (--this.slotPending[slot] === 0) {
      this.slots[slot] = null;
      if (this.freeCount === this.freeSlots.length) {
        const grown = new Int32Array(2 * this.freeSlots.length);
        grown.set(this.freeSlots);
        this.freeSlots = grown;
      }
      this.freeSlots[this.freeCount++] = slot;
    }
    this.ejectedBytes[msg.dst] += s.bytes;
    this.satisfy(targets[i]);
  };

  /** Counter totals over all tiles. */
  totals(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, arr] of this.tileCounters) out[name] = arr.reduce((a, b) => a + b, 0);
    return out;
  }
}
