import * as os from 'node:os';
import type { Redis } from 'ioredis';
import type { LabelRecord, LabelSettings, SimulationJob } from '../label/job.js';
import type { SimulationJobRunner } from '../label/runner.js';
import { SPACE_VERSION } from '../space.js';
import { codeVersion } from '../version.js';
import { RunChannel } from './channel.js';
import { openClient, probeServer } from './connect.js';
import type { QueueTarget } from './url.js';

/**
 * The queue runner (issue 15): the same `SimulationJobRunner` as the local Piscina pool,
 * but jobs go to a BullMQ queue on Redis and `tessera worker` processes on any number of
 * machines run them. Each run id gets its own queue (search/queue/channel.ts).
 */

export interface QueueRunnerOptions {
  /** Jobs kept in the queue at once (default 1024: more than the threads of a rack). */
  readonly window?: number;
  /** One-line notices for the user: refusals, stalled jobs, no worker yet. */
  readonly onNotice?: (text: string) => void;
}

export class QueueRunner implements SimulationJobRunner {
  readonly concurrency: number;
  /** Jobs BullMQ found stalled (a worker killed or too busy to renew its lock) and ran again. */
  stalled = 0;
  /** Workers (host:pid) that returned labels. */
  readonly workers = new Set<string>();
  private readonly client: Redis;
  private readonly channels = new Map<string, RunChannel>();
  private readonly name = `${os.hostname()}:${process.pid}`;

  /** Check the server (one-line InputError naming the URL if it is unusable), then connect. */
  static async open(target: QueueTarget, options: QueueRunnerOptions = {}): Promise<QueueRunner> {
    await probeServer(target);
    return new QueueRunner(target, options);
  }

  private constructor(
    readonly target: QueueTarget,
    private readonly options: QueueRunnerOptions,
  ) {
    this.concurrency = options.window ?? 1024;
    this.client = openClient(target, `tessera-coordinator-${this.name}`);
  }

  get description(): string {
    const w = [...this.workers].sort();
    return `the queue at ${this.target.display}${w.length ? ` (${w.length} worker${w.length === 1 ? '' : 's'}: ${w.join(', ')})` : ''}`;
  }

  submit(job: SimulationJob): Promise<LabelRecord> {
    let channel = this.channels.get(job.runId);
    if (!channel) {
      channel = new RunChannel(
        {
          target: this.target,
          client: this.client,
          codeVersion: codeVersion(),
          spaceVersion: SPACE_VERSION,
          coordinator: this.name,
          notice: (t) => this.options.onNotice?.(t),
          onLabel: (l) => l.worker !== undefined && this.workers.add(l.worker),
          onStalled: () => this.stalled++,
        },
        job.runId,
        titleOf(job.settings),
      );
      this.channels.set(job.runId, channel);
    }
    return channel.submit(job);
  }

  async close(): Promise<void> {
    for (const c of this.channels.values()) await c.close();
    this.channels.clear();
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

function titleOf(s: LabelSettings): string {
  return `${s.modelName}, seed ${s.seed}, nodes ${s.nodes.join(',')}, ${s.fidelity} fidelity`;
}
