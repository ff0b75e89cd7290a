import * as os from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Design } from '../../sim/design/design.js';
import type { LabelRecord, LabelSettings } from '../label/job.js';
import { PiscinaRunner } from '../label/pool.js';
import { SPACE_VERSION } from '../space.js';
import { codeVersion } from '../version.js';
import type { QueueJobData } from './channel.js';
import { packText, unpackText } from './codec.js';
import { openClient, probeServer } from './connect.js';
import { listRuns, PREFIX, refusalReason, refusalsKey, RUNS_KEY, settingsKey, STALE_MS, type RunMeta } from './registry.js';
import { connectionOptions, type QueueTarget } from './url.js';

/**
 * `tessera worker`: runs simulation jobs from the queue on this machine. It watches the
 * runs announced on the Redis server (search/queue/registry.ts), serves each one whose
 * code and space versions equal its own with a BullMQ worker, and refuses the others (it
 * prints why, and the coordinator reports it). Simulations run in a Piscina pool of worker
 * threads, so the event loop stays free to renew BullMQ's job locks however long a
 * simulation takes; a worker killed mid-job stops renewing, BullMQ finds the job stalled
 * and gives it to another worker.
 */

export interface QueueWorkerOptions {
  readonly target: QueueTarget;
  /** Simulations at once (worker threads). */
  readonly concurrency: number;
  /** BullMQ's job lock; a job whose lock is not renewed for this long is run elsewhere. */
  readonly lockDurationMs: number;
  /** What the worker runs (stdout). */
  readonly log: (line: string) => void;
  /** Refusals and trouble (stderr). */
  readonly warn: (line: string) => void;
  /** How often the announced runs are read (ms). */
  readonly pollMs?: number;
}

/** A job that BullMQ found stalled this many times fails instead of running again. */
const MAX_STALLED = 3;

interface Served {
  readonly meta: RunMeta;
  readonly worker: Worker<QueueJobData, string>;
  readonly settings: Map<string, Promise<LabelSettings>>;
}

export class QueueWorker {
  readonly name = `${os.hostname()}:${process.pid}`;
  readonly codeVersion = codeVersion();
  private readonly pool: PiscinaRunner;
  private readonly client: Redis;
  private readonly served = new Map<string, Served>();
  private readonly refused = new Set<string>();
  private readonly active = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private stopping?: Promise<void>;
  private markStopped!: () => void;
  /** Resolves once `stop` has finished (jobs finished or returned, connections closed). */
  readonly stopped = new Promise<void>((resolve) => (this.markStopped = resolve));
  private polling = false;
  private lastTrouble = 0;

  /** Check the server (one-line InputError naming the URL if unusable), then start serving. */
  static async start(options: QueueWorkerOptions): Promise<QueueWorker> {
    await probeServer(options.target);
    const w = new QueueWorker(options);
    await w.poll();
    return w;
  }

  private constructor(private readonly o: QueueWorkerOptions) {
    this.pool = new PiscinaRunner(o.concurrency);
    this.client = openClient(o.target, `tessera-worker-${this.name}`);
    this.o.log(`tessera worker ${this.name}: ${o.concurrency} thread${o.concurrency === 1 ? '' : 's'}, queue ${o.target.display}, ${this.codeVersion}, ${SPACE_VERSION}; waiting for runs (Ctrl-C stops after the jobs in flight)`);
    this.timer = setInterval(() => void this.poll(), o.pollMs ?? 1_000);
  }

  /** Jobs being simulated now. */
  get inFlight(): number {
    return this.active.size;
  }

  /** Serve the announced, live, compatible runs; stop serving the others. */
  private async poll(): Promise<void> {
    if (this.polling || this.stopping) return;
    this.polling = true;
    try {
      const runs = await listRuns(this.client);
      if (this.stopping) return;
      const live = new Map(runs.filter((r) => Date.now() - r.heartbeatMs < STALE_MS).map((r) => [r.queue, r]));
      for (const [queue, s] of this.served) {
        if (!live.has(queue)) {
          this.served.delete(queue);
          await s.worker.close();
          // a stalled-job check that ran after the coordinator removed the finished run
          // re-creates the queue's meta hash; remove it unless the run is back
          if (!(await this.client.hexists(RUNS_KEY, queue))) await this.client.del(`${PREFIX}:${queue}:meta`);
          this.o.log(`run ${queue} ended (${s.meta.title})`);
        }
      }
      for (const name of this.refused) if (!live.has(name)) this.refused.delete(name);
      for (const meta of live.values()) {
        if (this.served.has(meta.queue) || this.refused.has(meta.queue)) continue;
        const reason = refusalReason(meta, { codeVersion: this.codeVersion, spaceVersion: SPACE_VERSION });
        if (reason) await this.refuse(meta, reason);
        else this.serve(meta);
      }
    } catch (e) {
      this.trouble(e as Error);
    } finally {
      this.polling = false;
    }
  }

  private async refuse(meta: RunMeta, reason: string): Promise<void> {
    this.refused.add(meta.queue);
    this.o.warn(`tessera worker: refusing run ${meta.queue} (${meta.title}; coordinator ${meta.coordinator}): ${reason}`);
    await this.client.rpush(refusalsKey(meta.queue), `worker ${this.name} refused this run: ${reason}`);
  }

  private serve(meta: RunMeta): void {
    const worker = new Worker<QueueJobData, string>(meta.queue, (job, token, signal) => this.process(meta, job, token, signal), {
      connection: connectionOptions(this.o.target),
      prefix: PREFIX,
      name: this.name,
      concurrency: this.o.concurrency,
      lockDuration: this.o.lockDurationMs,
      stalledInterval: this.o.lockDurationMs,
      maxStalledCount: MAX_STALLED,
      drainDelay: 2,
    });
    worker.on('error', (e) => this.trouble(e));
    worker.on('failed', (job, e) => job && this.o.warn(`tessera worker: ${meta.queue} label ${job.data.index} failed: ${e.message}`));
    this.served.set(meta.queue, { meta, worker, settings: new Map() });
    this.o.log(`serving run ${meta.queue} (${meta.title}; coordinator ${meta.coordinator})`);
  }

  private async process(meta: RunMeta, job: Job<QueueJobData, string>, token?: string, signal?: AbortSignal): Promise<string> {
    const { index } = job.data;
    const tag = `${meta.queue} label ${index}`;
    const key = `${meta.queue}/${index}`;
    this.active.add(key);
    try {
      const settings = await this.settingsOf(meta, job.data.settings);
      const design = job.data.design === undefined ? undefined : unpackText<Design>(job.data.design);
      this.o.log(`${tag}: started${job.attemptsStarted > 1 ? ` (attempt ${job.attemptsStarted}: an earlier worker stopped)` : ''}`);
      let label: LabelRecord;
      try {
        label = await this.pool.submit({ runId: meta.runId, index, settings, design }, { signal });
      } catch (e) {
        if (signal?.aborted) {
          await job.moveToWait(token);
          this.o.log(`${tag}: returned to the queue`);
          throw new WaitingError();
        }
        // the thread itself failed (a simulator error is a failed label, not an exception)
        throw new UnrecoverableError(`worker ${this.name}: ${(e as Error)?.message ?? String(e)}`);
      }
      const d = label.design;
      this.o.log(`${tag}: ${label.status} (${d.processNodeNm} nm, ${d.mesh.rows}x${d.mesh.cols} mesh, ${label.events} events) in ${label.wallSeconds.toFixed(2)} s`);
      return packText({ ...label, worker: this.name });
    } finally {
      this.active.delete(key);
    }
  }

  private settingsOf(meta: RunMeta, id: string): Promise<LabelSettings> {
    const served = this.served.get(meta.queue);
    let s = served?.settings.get(id);
    if (!s) {
      s = this.client.hget(settingsKey(meta.queue), id).then((text) => {
        if (text === null) throw new UnrecoverableError(`run ${meta.queue} has no settings ${id} (its coordinator removed the run)`);
        return unpackText<LabelSettings>(text);
      });
      served?.settings.set(id, s);
    }
    return s;
  }

  private trouble(e: Error): void {
    if (Date.now() - this.lastTrouble < 30_000) return;
    this.lastTrouble = Date.now();
    this.o.warn(`tessera worker: trouble with ${this.o.target.display}: ${e.message}; retrying`);
  }

  /**
   * Stop: take no new jobs, finish those in flight, disconnect. Called again while jobs
   * are still running, it returns them to the queue instead (their threads are stopped).
   */
  stop(): Promise<void> {
    if (this.stopping) {
      for (const s of this.served.values()) s.worker.cancelAllJobs('the worker is stopping');
      return this.stopping;
    }
    clearInterval(this.timer);
    this.stopping = (async () => {
      await Promise.all([...this.served.values()].map((s) => s.worker.close()));
      this.served.clear();
      await this.pool.close();
      await this.client.quit().catch(() => this.client.disconnect());
      this.markStopped();
    })();
    return this.stopping;
  }
}
