import { Piscina } from 'piscina';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../sim/validate/inputError.js';
import type { LabelRecord, SimulationJob } from './job.js';
import type { SimulationJobRunner } from './runner.js';

/**
 * The local runner: a Piscina pool of worker threads, each running `runLabelJob`. The
 * worker file is found beside this module: worker.js when running from dist/, worker.ts
 * (loaded through tsx's `--import tsx`) when running from the TypeScript sources.
 *
 * A worker thread that cannot load its file (a stale or partial dist/, a missing
 * dependency) is a setup problem, not a simulation failure: the pool's `error` event and
 * the failed job both become one `InputError` naming the cause and a fix, so the CLI
 * prints one line and exits 2 instead of a stack trace from an unhandled event.
 */
export class PiscinaRunner implements SimulationJobRunner {
  private readonly pool: Piscina;
  readonly concurrency: number;
  readonly description: string;
  /** The first load failure the pool reported (its own `error` event). */
  private loadError?: InputError;
  /** Rejects with `loadError`: a job still queued when the pool fails is never run, so it waits on this too. */
  private readonly failed: Promise<never>;

  constructor(
    readonly workers: number,
    /** The worker module (tests point it elsewhere); by default worker.js/.ts beside this file. */
    readonly filename: string = defaultWorkerFile(),
  ) {
    const fromSource = filename.endsWith('.ts');
    this.pool = new Piscina({
      filename,
      minThreads: workers,
      maxThreads: workers,
      // idle threads stay up for the whole run
      idleTimeout: 60_000,
      // tsx resolved from this file, not from the working directory (run from elsewhere)
      execArgv: fromSource ? ['--import', import.meta.resolve('tsx')] : [],
    });
    let fail: (e: InputError) => void = () => {};
    this.failed = new Promise<never>((_, reject) => (fail = reject));
    this.failed.catch(() => {}); // observed through submit; no unhandled rejection when idle
    this.pool.on('error', (e: unknown) => fail((this.loadError ??= workerLoadError(filename, e))));
    // two jobs per thread keep every thread busy while results travel back
    this.concurrency = workers * 2;
    this.description = `${workers} worker thread${workers === 1 ? '' : 's'}`;
  }

  /** `signal` aborts the job (its thread is replaced): a queue worker returning jobs on shutdown. */
  async submit(job: SimulationJob, options: { signal?: AbortSignal } = {}): Promise<LabelRecord> {
    if (this.loadError) throw this.loadError;
    try {
      return await Promise.race([this.pool.run(job, { signal: options.signal }) as Promise<LabelRecord>, this.failed]);
    } catch (e) {
      // simulator errors never reach here (runLabelJob records them as failed labels): an
      // abort is the caller's, anything else means the worker could not run the job
      if ((e as Error)?.name === 'AbortError') throw e;
      throw (this.loadError ??= workerLoadError(this.filename, e));
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

function defaultWorkerFile(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url));
}

/** One line: which worker file, the cause (first line of the error, with its code) and a fix. */
export function workerLoadError(filename: string, e: unknown): InputError {
  const err = e as NodeJS.ErrnoException | undefined;
  const first = String(err?.message ?? e).split('\n')[0];
  const cause = err?.code ? `${err.code}: ${first}` : first;
  return new InputError(filename, 'worker pool', '(failed to load)', `a label worker thread failed to load or run its module (${cause})`, 'reinstall and rebuild with `npm ci` (or `npm run build` after editing the sources) and run the command again');
}

/** A runner that simulates in the calling thread (tests, `--workers` of one thread without a pool). */
export class InlineRunner implements SimulationJobRunner {
  readonly concurrency = 1;
  readonly description = 'the main thread';
  constructor(private readonly run: (job: SimulationJob) => LabelRecord) {}
  async submit(job: SimulationJob): Promise<LabelRecord> {
    return this.run(job);
  }
  async close(): Promise<void> {}
}
