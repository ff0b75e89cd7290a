import * as os from 'node:os';
import type { Argv } from 'yargs';
import type { Io } from './io.js';
import { InputError } from '../sim/validate/inputError.js';
import type { SimulationJobRunner } from '../search/label/runner.js';

/**
 * Where simulations run, for every command that runs many (`tessera label`, `tessera
 * explore`): `--workers N` threads on this machine (Piscina, the default) or `--queue URL`,
 * a BullMQ queue on Redis served by `tessera worker` processes on any number of machines
 * (README "Past one machine"). `withQueueOption(yargs)` in a builder, `createRunner(io,
 * args)` in the handler; the queue's modules load only when `--queue` is given.
 */
export function withQueueOption<T>(y: Argv<T>): Argv<T & { queue?: string }> {
  return y.option('queue', {
    type: 'string',
    describe: 'run the simulations on a job queue: redis://HOST:PORT[/DB] or rediss:// (TLS), password in the URL or TESSERA_REDIS_PASSWORD; start `tessera worker --queue URL` on each machine',
  }) as Argv<T & { queue?: string }>;
}

export interface RunnerArgs {
  readonly queue?: string;
  /** Worker threads on this machine (without --queue; ignored with it); default: the number of cores. */
  readonly workers?: number;
}

/** For commands whose --workers means only threads: refuse it beside --queue. */
export function checkWorkersWithQueue(a: RunnerArgs): void {
  if (a.queue !== undefined && a.workers !== undefined) {
    throw new InputError('--workers', 'workers', a.workers, 'sets threads on this machine and has no effect with --queue', 'leave out --workers; give each `tessera worker` its own --concurrency N');
  }
}

/** The runner the options ask for; with --queue, the server is checked first (one-line errors). */
export async function createRunner(io: Io, a: RunnerArgs): Promise<SimulationJobRunner> {
  if (a.queue === undefined) {
    const { PiscinaRunner } = await import('../search/label/pool.js');
    return new PiscinaRunner(a.workers ?? os.availableParallelism());
  }
  const { parseQueueUrl } = await import('../search/queue/url.js');
  const { QueueRunner } = await import('../search/queue/runner.js');
  return QueueRunner.open(parseQueueUrl(a.queue), { onNotice: (t) => io.stderr(`tessera: ${t}\n`) });
}
