import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { builtinModel } from '../sim/model/catalog.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import type { LabelSettings, SimulationJob } from '../search/label/job.js';
import type { SimulationJobRunner } from '../search/label/runner.js';
import { runLabels } from '../search/label/run.js';
import { PiscinaRunner } from '../search/label/pool.js';
import { QueueRunner } from '../search/queue/runner.js';
import { Redis } from 'ioredis';
import { connectionOptions, parseQueueUrl } from '../search/queue/url.js';
import { LLM_DECODE_V2 } from '../search/workload.js';
import { Proc, startTestRedis, type TestRedis } from '../test/queue-helpers.js';
import { kernelSuite } from './kernel.bench.js';
import type { BenchSuite, Measured } from './harness.js';

/**
 * Job-queue benchmark (issue 15), on a redis-server started on loopback for the run:
 *
 * 1. labels per minute, Llama 3.1 8B sampled designs, with the local Piscina pool (1 and 2
 *    threads) against 1 and 2 `tessera worker` processes of one thread each, same designs;
 * 2. the queue's overhead per label: jobs one at a time (nothing waits in a queue), the
 *    coordinator's submit-to-result time minus the simulation's own wall time, for the
 *    queue and for the local pool (whose thread hand-off is the baseline). Target: the
 *    queue adds at most 20 ms per label.
 *
 * The kernel benchmark runs first as the same-run reference. TESSERA_BENCH_QUEUE_LABELS
 * sets the labels per setting (default 8), TESSERA_BENCH_QUEUE_TRIPS the one-at-a-time
 * jobs (default 20).
 */

const settings = (seed: number): LabelSettings => ({ modelName: 'llama-3.1-8b', card: builtinModel('llama-3.1-8b')!, nodes: [28, 14, 7], seed, fidelity: 'fast', workload: LLM_DECODE_V2.name, eventLimit: 50_000_000, tech: DEFAULT_TECH });

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** Submit-to-result time minus simulation time, jobs one at a time (ms each). */
async function overheads(runner: SimulationJobRunner, runId: string, n: number): Promise<number[]> {
  const s = settings(11);
  const out: number[] = [];
  // tiny designs keep the simulations short; the first job warms the thread up
  for (let i = 0; i <= n; i++) {
    const job: SimulationJob = { runId, index: i, settings: { ...s, modelName: 'tiny', card: builtinModel('tiny')!, nodes: [28] } };
    const t0 = performance.now();
    const label = await runner.submit(job);
    if (i > 0) out.push(performance.now() - t0 - label.wallSeconds * 1000);
  }
  return out;
}

/** Round trips of PING to the bench's Redis, one at a time (ms each). */
async function pingTimes(redis: TestRedis, env: NodeJS.ProcessEnv, n: number): Promise<number[]> {
  const client = new Redis(connectionOptions(parseQueueUrl(redis.url(0), env)));
  try {
    await client.ping();
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await client.ping();
      out.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20)); // spaced like the jobs: each a fresh wake-up
    }
    return out;
  } finally {
    client.disconnect();
  }
}

export const queueSuite: BenchSuite = {
  name: 'queue',
  async run(print) {
    const out: Measured[] = [];
    print('Reference (same run): the event-kernel benchmark');
    await kernelSuite.run((l) => print(l));
    const redis = await startTestRedis();
    const env = { ...process.env, TESSERA_REDIS_PASSWORD: redis.password };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-queue-'));
    const workers: Proc[] = [];
    const startWorkers = async (n: number, db: number) => {
      const ws = Array.from({ length: n }, () => new Proc(['worker', '--queue', redis.url(db), '--concurrency', '1'], env));
      workers.push(...ws);
      await Promise.all(ws.map((w) => w.waitFor(/waiting for runs/)));
      return ws;
    };
    try {
      const per = Number(process.env.TESSERA_BENCH_QUEUE_LABELS ?? 8);
      print(`\nLabels per minute, Llama 3.1 8B sampled designs (nodes 28/14/7, ${per} labels per setting, the same designs for each; load average ${os.loadavg()[0].toFixed(1)})`);
      const rate = async (name: string, runner: SimulationJobRunner) => {
        const t0 = performance.now();
        await runLabels({ out: path.join(dir, `${name.replace(/\W+/g, '-')}.msgpack`), settings: settings(7), count: per, resume: false, runner });
        const seconds = (performance.now() - t0) / 1000;
        await runner.close();
        print(`  ${name.padEnd(34)} ${((60 * per) / seconds).toFixed(1).padStart(6)} labels/min (${seconds.toFixed(1)} s)`);
        out.push({ name: `labels/min, ${name}`, perSecond: per / seconds, rmePercent: 0, samples: 1 });
        return per / seconds;
      };
      const local1 = await rate('local pool, 1 thread', new PiscinaRunner(1));
      const local2 = await rate('local pool, 2 threads', new PiscinaRunner(2));
      let ws = await startWorkers(1, 1);
      const queue1 = await rate('queue, 1 worker x 1 thread', await QueueRunner.open(parseQueueUrl(redis.url(1), env)));
      for (const w of ws) await w.stop();
      ws = await startWorkers(2, 2);
      const queue2 = await rate('queue, 2 workers x 1 thread', await QueueRunner.open(parseQueueUrl(redis.url(2), env)));
      for (const w of ws) await w.stop();
      print(`  queue vs local: ${(queue1 / local1).toFixed(2)}x with one thread, ${(queue2 / local2).toFixed(2)}x with two; 2 workers vs 1: ${(queue2 / queue1).toFixed(2)}x`);

      const n = Number(process.env.TESSERA_BENCH_QUEUE_TRIPS ?? 20);
      print(`\nOverhead per label, ${n} tiny-model jobs one at a time (submit-to-result minus simulation wall time)`);
      const pool = new PiscinaRunner(1);
      const local = await overheads(pool, 'overhead-local', n);
      await pool.close();
      ws = await startWorkers(1, 3);
      const runner = await QueueRunner.open(parseQueueUrl(redis.url(3), env), { window: 1 });
      const queued = await overheads(runner, 'overhead-queue', n);
      await runner.close();
      for (const w of ws) await w.stop();
      const added = quantile(queued, 0.5) - quantile(local, 0.5);
      const rtt = await pingTimes(redis, env, n);
      print(`  local pool: median ${quantile(local, 0.5).toFixed(1)} ms, p90 ${quantile(local, 0.9).toFixed(1)} ms, min ${Math.min(...local).toFixed(1)} ms`);
      print(`  queue:      median ${quantile(queued, 0.5).toFixed(1)} ms, p90 ${quantile(queued, 0.9).toFixed(1)} ms, min ${Math.min(...queued).toFixed(1)} ms`);
      // the queue's hops are Redis round trips and process wake-ups: on a loaded machine each
      // waits for a time slice, so the PING round trip is this run's reference for them
      print(`  reference: Redis PING round trip median ${quantile(rtt, 0.5).toFixed(2)} ms, p90 ${quantile(rtt, 0.9).toFixed(2)} ms (load average ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores)`);
      print(`  the queue adds ${added.toFixed(1)} ms per label (median; target <= 20 ms: ${added <= 20 ? 'met' : 'MISSED'}); at the minimum ${(Math.min(...queued) - Math.min(...local)).toFixed(1)} ms`);
      out.push({ name: 'queue overhead per label (ms)', perSecond: added, rmePercent: 0, samples: n });
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await redis.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    return out;
  },
};
