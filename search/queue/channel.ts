import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { LabelRecord, LabelSettings, SimulationJob } from '../label/job.js';
import { contentHash, packText, unpackText } from './codec.js';
import { announceRun, PREFIX, queueNameFor, refusalsKey, settingsKey, withdrawRun, type RunMeta } from './registry.js';
import { connectionOptions, type QueueTarget } from './url.js';

/**
 * The coordinator's side of one run on the queue (search/queue/runner.ts makes one per run
 * id): its BullMQ queue, the events it listens to, and the jobs it waits for.
 *
 * Exactly-once results over at-least-once delivery: a label's job id is `label-<index>` in
 * the run's own queue, so adding it again (a restarted coordinator) is a no-op; a job is
 * settled once, by the first of its `completed` event or a sweep of the completed set (which
 * also collects results that workers finished while no coordinator was listening); a second
 * completion of the same id finds nothing waiting and is dropped.
 */

/** What one job carries: the label index, the settings' content hash, a given design. */
export interface QueueJobData {
  readonly index: number;
  readonly settings: string;
  readonly design?: string;
}

export interface ChannelContext {
  readonly target: QueueTarget;
  readonly client: Redis;
  readonly codeVersion: string;
  readonly spaceVersion: string;
  readonly coordinator: string;
  readonly notice: (text: string) => void;
  /** A label arrived from this worker. */
  readonly onLabel: (label: LabelRecord) => void;
  readonly onStalled: () => void;
}

interface Pending {
  readonly index: number;
  readonly job: SimulationJob;
  /** Its add to the queue has completed. */
  added: boolean;
  readonly promise: Promise<LabelRecord>;
  resolve(label: LabelRecord): void;
  reject(error: Error): void;
}

const TICK_MS = 1_000;
/** Every this many ticks, look for awaited jobs that Redis lost. */
const LOST_CHECK_TICKS = 10;
/** After this long with jobs waiting and none taken, say how to start a worker. */
const NO_WORKER_NOTICE_MS = 15_000;

export const jobIdFor = (index: number) => `label-${index}`;

export class RunChannel {
  readonly queue: string;
  private readonly q: Queue;
  private events?: QueueEvents;
  private readonly pending = new Map<string, Pending>();
  private settingsIds = new WeakMap<LabelSettings, Promise<string>>();
  private readonly removals = new Set<Promise<unknown>>();
  private readonly ready: Promise<void>;
  private meta?: RunMeta;
  private timer?: NodeJS.Timeout;
  private refusalsSeen = 0;
  private failure?: Error;
  private jobTaken = false;
  private waitingSince?: number;
  private warnedNoWorker = false;
  private closed = false;
  private ticking = false;
  private ticks = 0;

  constructor(
    private readonly ctx: ChannelContext,
    readonly runId: string,
    title: string,
  ) {
    this.queue = queueNameFor(runId, ctx.codeVersion);
    this.q = new Queue(this.queue, { connection: connectionOptions(ctx.target), prefix: PREFIX });
    this.q.on('error', () => {}); // connection trouble: the client reconnects; jobs wait
    this.ready = this.open(title);
    this.ready.catch(() => {}); // reported through submit
  }

  private async open(title: string): Promise<void> {
    const events = `${PREFIX}:${this.queue}:events`;
    // listen from the stream's current end: nothing between here and the first add is missed
    const last = await this.ctx.client.xrevrange(events, '+', '-', 'COUNT', 1);
    this.events = new QueueEvents(this.queue, { connection: connectionOptions(this.ctx.target), prefix: PREFIX, lastEventId: last[0]?.[0] ?? '0-0' });
    this.events.on('error', () => {});
    this.events.on('completed', ({ jobId, returnvalue }) => this.settle(jobId, returnvalue as unknown as string));
    this.events.on('failed', ({ jobId, failedReason }) => this.fail(jobId, failedReason));
    this.events.on('active', () => (this.jobTaken = true));
    this.events.on('stalled', ({ jobId }) => {
      this.ctx.onStalled();
      const p = this.pending.get(jobId);
      this.ctx.notice(`label ${p?.index ?? jobId}: its worker stopped renewing the job's lock (killed, or its machine too busy); the queue gives it to another worker`);
    });
    await this.events.waitUntilReady();
    // failures left by an earlier coordinator of this run are retried, as a local --resume would
    for (const job of await this.q.getJobs(['failed'])) await job.remove().catch(() => {});
    this.meta = { queue: this.queue, runId: this.runId, title, codeVersion: this.ctx.codeVersion, spaceVersion: this.ctx.spaceVersion, coordinator: this.ctx.coordinator, startedAt: new Date().toISOString(), heartbeatMs: Date.now() };
    await announceRun(this.ctx.client, this.meta);
    this.timer = setInterval(() => void this.tick().catch(() => {}), TICK_MS);
  }

  /** Queue a job (once per index) and wait for its label. */
  async submit(job: SimulationJob): Promise<LabelRecord> {
    const id = jobIdFor(job.index);
    const known = this.pending.get(id);
    if (known) return known.promise;
    if (this.failure) throw this.failure;
    let resolve!: (l: LabelRecord) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<LabelRecord>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {}); // a caller that abandoned the job (close) never sees an unhandled rejection
    const pending: Pending = { index: job.index, job, added: false, promise, resolve, reject };
    this.pending.set(id, pending);
    this.waitingSince ??= Date.now();
    try {
      await this.ready;
      await this.enqueue(id, job);
      pending.added = true;
    } catch (e) {
      this.pending.delete(id);
      throw e;
    }
    return promise;
  }

  /** Add the job (a no-op when the id is already in the queue, in any state). */
  private async enqueue(id: string, job: SimulationJob): Promise<void> {
    const data: QueueJobData = { index: job.index, settings: await this.settingsId(job.settings), design: job.design === undefined ? undefined : packText(job.design) };
    await this.q.add('label', data, { jobId: id, attempts: 1 });
  }

  /**
   * Jobs still awaited whose record is gone from Redis (a Redis restarted without
   * persistence, or its data flushed) are added again, settings included: the run goes on
   * instead of waiting for results that can no longer come.
   */
  private async requeueLost(): Promise<void> {
    const waiting = [...this.pending.entries()].filter(([, p]) => p.added);
    if (!waiting.length) return;
    const pipe = this.ctx.client.pipeline();
    for (const [id] of waiting) pipe.exists(`${PREFIX}:${this.queue}:${id}`);
    const found = (await pipe.exec()) ?? [];
    const lost = waiting.filter((_, i) => found[i]?.[1] === 0);
    if (!lost.length) return;
    this.ctx.notice(`${lost.length} job${lost.length === 1 ? '' : 's'} missing from ${this.ctx.target.display} (Redis restarted without its data?): queued again`);
    this.settingsIds = new WeakMap();
    if (this.meta) await announceRun(this.ctx.client, { ...this.meta, heartbeatMs: Date.now() });
    for (const [id, p] of lost) if (this.pending.has(id)) await this.enqueue(id, p.job);
  }

  /** The settings' content hash, storing them in Redis the first time. */
  private settingsId(settings: LabelSettings): Promise<string> {
    let id = this.settingsIds.get(settings);
    if (!id) {
      const text = packText(settings);
      const hash = contentHash(text);
      id = this.ctx.client.hset(settingsKey(this.queue), hash, text).then(() => hash);
      this.settingsIds.set(settings, id);
    }
    return id;
  }

  private settle(jobId: string, returnvalue: string): void {
    const p = this.pending.get(jobId);
    if (!p) return; // settled already (the sweep or an earlier event): a duplicate, dropped
    this.pending.delete(jobId);
    let label: LabelRecord;
    try {
      label = unpackText<LabelRecord>(returnvalue);
    } catch (e) {
      return p.reject(new Error(`label ${p.index}: unreadable result in the queue (${(e as Error).message})`));
    }
    this.ctx.onLabel(label);
    p.resolve(label);
    const removal = this.q.remove(jobId).catch(() => {});
    this.removals.add(removal);
    void removal.finally(() => this.removals.delete(removal));
  }

  private fail(jobId: string, reason: string): void {
    const p = this.pending.get(jobId);
    if (!p) return;
    const why = /stalled more than allowable limit/.test(reason) ? `${reason} (each worker that took it was killed or lost its lock; if the simulation kills its worker, e.g. out of memory, run that label locally to see why)` : reason;
    this.failure = new Error(`label ${p.index} failed in the queue at ${this.ctx.target.display}: ${why}; the labels so far are kept, and --resume retries it`);
    // the run stops: nothing else is waited for
    for (const other of this.pending.values()) other.reject(this.failure);
    this.pending.clear();
  }

  /** Every second: heartbeat, refusals to report, completed jobs whose event was missed. */
  private async tick(): Promise<void> {
    if (this.closed || !this.meta || this.ticking) return;
    this.ticking = true;
    try {
      await this.tickOnce(this.meta);
    } finally {
      this.ticking = false;
    }
  }

  private async tickOnce(meta: RunMeta): Promise<void> {
    if (++this.ticks % LOST_CHECK_TICKS === 0) await this.requeueLost();
    await announceRun(this.ctx.client, { ...meta, heartbeatMs: Date.now() });
    const refusals = await this.ctx.client.lrange(refusalsKey(this.queue), this.refusalsSeen, -1);
    this.refusalsSeen += refusals.length;
    for (const r of refusals) this.ctx.notice(r);
    if (this.pending.size === 0) return;
    for (const job of await this.q.getJobs(['completed', 'failed'], 0, 999)) {
      if (!job?.id) continue;
      if (job.finishedOn && job.failedReason && !job.returnvalue) this.fail(job.id, job.failedReason);
      else if (typeof job.returnvalue === 'string') this.settle(job.id, job.returnvalue);
    }
    if (!this.jobTaken && !this.warnedNoWorker && this.waitingSince !== undefined && Date.now() - this.waitingSince > NO_WORKER_NOTICE_MS) {
      this.warnedNoWorker = true;
      this.ctx.notice(`no worker has taken a job from ${this.ctx.target.display} in ${NO_WORKER_NOTICE_MS / 1000} s: start \`tessera worker --queue ${this.ctx.target.display}\` on each machine (README "Past one machine")`);
    }
  }

  /**
   * Stop listening. A run that finished (nothing waiting, nothing failed) removes its keys;
   * an interrupted one leaves its jobs for `--resume` (workers finish those queued, for
   * STALE_MS after the last heartbeat, and their results wait in Redis).
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.ready.catch(() => {});
    const finished = this.pending.size === 0 && this.failure === undefined;
    for (const p of this.pending.values()) p.reject(new Error('the coordinator closed the queue'));
    this.pending.clear();
    await this.events?.close();
    await Promise.all(this.removals);
    if (finished) {
      await this.q.obliterate({ force: true });
      await this.ctx.client.del(settingsKey(this.queue), refusalsKey(this.queue));
      await withdrawRun(this.ctx.client, this.queue);
    }
    await this.q.close();
  }
}
