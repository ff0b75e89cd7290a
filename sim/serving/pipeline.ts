import type { Simulator, SimEvent } from '../kernel/simulator.js';
import { Priority } from '../kernel/priority.js';
import type { StepTiming } from './memo.js';

/**
 * Pipeline regions shared by the micro-batch steps in flight (docs/serving.md). A step
 * visits regions in the order its simulated steps did, doing in each
 * visit the cycles it took there alone. A region with one step runs it at full speed, so
 * steps staggered through the regions overlap freely. Steps in the same region share it
 * in proportion to their task sizes, as tiles running ready tasks in turn would (the
 * engine before issue 11; it now runs the oldest step's ready task first, which this model
 * only approximates, see docs/serving.md "Measured"): step i progresses at c x w_i / sum_j w_j cycles per
 * cycle, where w_i is its mean task cycles there (a tile alternating tasks gives each step
 * time in proportion to its task size, so a decode step behind a prefill chunk's large tasks
 * nearly stops) and c >= 1 is what the steps gain by filling each other's idle gaps:
 * c = 1 + (c2 - 1) (1 - max share) / (1 - 1/k) for k steps, c2 the gain of two like steps,
 * measured by simulating two identical steps started together (run.ts).
 */
class Job {
  visit = -1;
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
  /** Cycles each region had at least one step. */
  readonly busyCycles: Float64Array;

  constructor(
    private readonly sim: Simulator,
    readonly regions: number,
    /** c2: the speed-up two like steps in one region get over running one after the other. */
    readonly pairGain: number,
  ) {
    this.jobs = Array.from({ length: regions }, () => []);
    this.since = new Float64Array(regions);
    this.events = new Array(regions).fill(null);
    this.busyCycles = new Float64Array(regions);
  }

  /** Start a step now with these visits; `onDone` runs when its last visit ends. */
  start(t: StepTiming, onDone: () => void): void {
    const job = new Job(t.regions.slice(0, t.count), t.work.slice(0, t.count), t.taskCycles.slice(0, t.count), onDone);
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

  /** Set the speed of each job in region r from the jobs there now. */
  private rates(r: number): void {
    const js = this.jobs[r];
    const k = js.length;
    if (k === 1) {
      js[0].rate = 1;
      return;
    }
    let sum = 0;
    let top = 0;
    for (let i = 0; i < k; i++) {
      const w = js[i].taskCycles[js[i].visit];
      sum += w;
      if (w > top) top = w;
    }
    const c = 1 + ((this.pairGain - 1) * (1 - top / sum)) / (1 - 1 / k);
    for (let i = 0; i < k; i++) js[i].rate = (c * js[i].taskCycles[js[i].visit]) / sum;
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
