import * as os from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { InputError } from '../../sim/validate/inputError.js';

/**
 * `tessera worker --queue URL [--concurrency N]`: run simulation jobs from the queue on
 * this machine until stopped (README "Past one machine"). SIGINT or SIGTERM: take no new
 * jobs, finish those in flight, exit 0; a second signal returns the jobs still running to
 * the queue and exits.
 */

interface WorkerArgs {
  queue?: string;
  concurrency?: number;
  'lock-duration': number;
}

/** BullMQ's default job lock (ms). */
const DEFAULT_LOCK_MS = 30_000;

export function workerCommand(io: Io): CommandModule<object, WorkerArgs> {
  return {
    command: 'worker',
    describe: 'Run simulation jobs from a job queue (BullMQ on Redis) for `tessera label --queue` on other machines',
    builder: (y: Argv) =>
      y
        .option('queue', { type: 'string', describe: 'the queue: redis://HOST:PORT[/DB] or rediss:// (TLS); password in the URL or TESSERA_REDIS_PASSWORD' })
        .option('concurrency', { type: 'number', describe: 'simulations at once, each in its own thread (default: the number of cores)' })
        .option('lock-duration', { type: 'number', default: DEFAULT_LOCK_MS, describe: 'job lock in ms, renewed every half of it while a job runs; a worker silent for this long (killed, disconnected) has its jobs run elsewhere' }) as unknown as Argv<WorkerArgs>,
    handler: async (a) => {
      if (a.queue === undefined) throw new InputError('--queue', 'queue', undefined, 'the job queue to serve', 'e.g. --queue redis://10.0.0.5:6379 (the URL given to `tessera label --queue`)');
      const concurrency = a.concurrency ?? os.availableParallelism();
      if (!(Number.isSafeInteger(concurrency) && concurrency >= 1)) throw new InputError('--concurrency', 'concurrency', a.concurrency, 'a whole number >= 1', `e.g. --concurrency ${os.availableParallelism()}`);
      const lock = a['lock-duration'];
      if (!(Number.isSafeInteger(lock) && lock >= 500)) throw new InputError('--lock-duration', 'lock-duration', lock, 'a whole number of milliseconds >= 500', `leave it out (${DEFAULT_LOCK_MS})`);
      const { parseQueueUrl } = await import('../../search/queue/url.js');
      const { QueueWorker } = await import('../../search/queue/worker.js');
      const worker = await QueueWorker.start({
        target: parseQueueUrl(a.queue),
        concurrency,
        lockDurationMs: lock,
        log: (line) => io.stdout(`${line}\n`),
        warn: (line) => io.stderr(`${line}\n`),
      });
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        const n = worker.inFlight;
        const jobs = `${n} job${n === 1 ? '' : 's'}`;
        if (++signals === 1) io.stdout(`tessera worker: ${signal}: ${n ? `finishing ${jobs} in flight (signal again to return ${n === 1 ? 'it' : 'them'} to the queue)` : 'stopping'}\n`);
        else io.stdout(`tessera worker: ${signal} again: returning ${jobs} to the queue\n`);
        void worker.stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        await worker.stopped;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      io.stdout('tessera worker: stopped\n');
    },
  };
}
