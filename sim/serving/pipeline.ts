import type { Simulator, SimEvent } from '../kernel/simulator.js';
import { Priority } from '../kernel/priority.js';
import type { StepTiming } from './memo.js';

/**
 * Pipeline regions shared by the micro-batch steps in flight (docs/serving.md). A step
 * visits regions in the order its simulated steps did, doing in each visit the cycles it
 * took there alone. A region with one step runs it at full speed, so steps staggered
 * through the regions overlap freely. Steps that meet in a region share it as the engine's
 * tiles do (sim/chip/engine.ts): a tile runs the ready task of the oldest step first, one
 * task at a time. So the older of two steps runs nearly at full speed, slowed only when a
 * younger step's task holds a tile its next task needs, and the younger fills the older's
 * gaps. Step i progresses at
 *
 *   rate_i = prod over older j of min(1, follow x 2 w_i / (w_i + w_j))
 *          x prod over younger j of max(0.02, 1 - (1 - lead) x 2 w_j / (w_i + w_j))
 *
 * full-speed cycles per cycle, w its mean task cycles there. `lead` and `follow` are the
 * speeds of the older and the younger of two like steps sharing a region, fitted at the
 * start of the run to two identical steps simulated started together (run.ts); the task-size
 * terms make a small-task step behind a large-task one nearly stop (a decode step behind a
 * prefill chunk waits for it, as step by step) and barely slow a large-task step ahead of it.
 * Steps started in lockstep thus drift into a stagger, as the engine's do.
 */
export interface RegionOrder {
  /** Speed of the older of two like steps sharing a region, in (0, 1]. */
  readonly lead: number;
  /** Speed of the younger of two like steps sharing a region, in (0, 1]. */
  readonly follow: number;
}

/** Steps alone: no sharing parameters needed. */
export const NO_SHARING: RegionOrder = { lead: 1, follow: 1 };

class Job {
  visit = -1;
  /** Start order (the engine's step age). */
  age = 0;
  /** Cycles of the current visit still to do (at full speed). */
  rem = 0;
  /** Its speed in its current region (cycles of its own time per cycle). */
  rate = 1;
  constructor(
    readonly regions: Int32Array,
    readonly work: Float64Array,
    readonly taskCycles: Float64Array,
    readonly onDone: () => void,
  ) {}
}

export class RegionSharing {
  private readonly jobs: Job[][];
  private readonly since: Float64Array;
  private readonly events: (SimEvent | null)[];
  private started = 0;
  /** Cycles each region had at least one step. */
  readonly busyCycles: Float64Array;

  constructor(
    private readonly sim: Simulator,
    readonly regions: number,
    readonly order: RegionOrder,
  ) {
    this.jobs = Array.from({ length: regions }, () => []);
    this.since = new Float64Array(regions);
    this.events = new Array(regions).fill(null);
    this.busyCycles = new Float64Array(regions);
  }

  /** Start a step now with these visits; `onDone` runs when its last visit ends. */
  start(t: StepTiming, onDone: () => void): void {
    const job = new Job(t.regions.slice(0, t.count), t.work.slice(0, t.count), t.taskCycles.slice(0, t.count), onDone);
    job.age = this.started++;
    this.next(job, true);
  }

  /** Move a job to its next visit with work, or finish it. */
  private next(job: Job, starting = false): void {
    const n = job.regions.length;
    do job.visit++;
    while (job.visit < n && job.work[job.visit] <= 0);
    if (job.visit >= n) {
      // a step without work still takes a cycle
      if (starting) this.sim.schedule(1, job.onDone, undefined, Priority.Default);
      else job.onDone();
      return;
    }
    const r = job.regions[job.visit];
    this.advance(r);
    job.rem = job.work[job.visit];
    this.jobs[r].push(job);
    this.rates(r);
    this.reschedule(r);
  }

  /** Set the speed of each job in region r from the jobs there now (oldest first, see above). */
  private rates(r: number): void {
    const js = this.jobs[r];
    const k = js.length;
    if (k === 1) {
      js[0].rate = 1;
      return;
    }
    const { lead, follow } = this.order;
    for (let i = 0; i < k; i++) {
      const wi = js[i].taskCycles[js[i].visit];
      let rate = 1;
      for (let j = 0; j < k; j++) {
        if (j === i) continue;
        const wj = js[j].taskCycles[js[j].visit];
        rate *= js[j].age < js[i].age ? Math.min(1, (2 * follow * wi) / (wi + wj)) : Math.max(0.02, 1 - (2 * (1 - lead) * wj) / (wi + wj));
      }
      js[i].rate = Math.max(1e-6, rate);
    }
  }

  /** Bring region r's jobs up to now. */
  private advance(r: number): void {
    const now = this.sim.now;
    const dt = now - this.since[r];
    this.since[r] = now;
    const js = this.jobs[r];
    if (dt <= 0 || js.length === 0) return;
    this.busyCycles[r] += dt;
    for (let i = 0; i < js.length; i++) js[i].rem -= js[i].rate * dt;
  }

  private reschedule(r: number): void {
    const ev = this.events[r];
    if (ev) this.sim.cancel(ev);
    this.events[r] = null;
    const js = this.jobs[r];
    if (js.length === 0) return;
    let soonest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < js.length; i++) soonest = Math.min(soonest, Math.max(0, js[i].rem) / js[i].rate);
    this.events[r] = this.sim.schedule(Math.max(1, Math.ceil(soonest - 1e-9)), this.fire, r, Priority.Default);
  }

  private readonly fire = (r: number): void => {
    this.events[r] = null;
    this.advance(r);
    const js = this.jobs[r];
    let done: Job[] | undefined;
    let kept = 0;
    for (let i = 0; i < js.length; i++) {
      const j = js[i];
      if (j.rem <= 1e-6) (done ??= []).push(j);
      else js[kept++] = j;
    }
    js.length = kept;
    if (kept > 0) this.rates(r);
    this.reschedule(r);
    if (done) for (const j of done) this.next(j);
  };
}
