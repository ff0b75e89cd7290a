import { Piscina } from 'piscina';
import { fileURLToPath } from 'node:url';
import type { LabelRecord, SimulationJob } from './job.js';
import type { SimulationJobRunner } from './runner.js';

/**
 * The local runner: a Piscina pool of worker threads, each running `runLabelJob`. The
 * worker file is found beside this module: worker.js when running from dist/, worker.ts
 * (loaded through tsx's `--import tsx`) when running from the TypeScript sources.
 */
export class PiscinaRunner implements SimulationJobRunner {
  private readonly pool: Piscina;
  readonly concurrency: number;
  readonly description: string;

  constructor(readonly workers: number) {
    const fromSource = import.meta.url.endsWith('.ts');
    const filename = fileURLToPath(new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url));
    this.pool = new Piscina({
      filename,
      minThreads: workers,
      maxThreads: workers,
      // idle threads stay up for the whole run
      idleTimeout: 60_000,
      // tsx resolved from this file, not from the working directory (run from elsewhere)
      execArgv: fromSource ? ['--import', import.meta.resolve('tsx')] : [],
    });
    // two jobs per thread keep every thread busy while results travel back
    this.concurrency = workers * 2;
    this.description = `${workers} worker thread${workers === 1 ? '' : 's'}`;
  }

  /** `signal` aborts the job (its thread is replaced): a queue worker returning jobs on shutdown. */
  submit(job: SimulationJob, options: { signal?: AbortSignal } = {}): Promise<LabelRecord> {
    return this.pool.run(job, { signal: options.signal });
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
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
