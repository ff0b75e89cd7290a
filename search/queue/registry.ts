import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * What coordinators and workers share in Redis besides BullMQ's own queue keys
 * (docs/search.md "Queue"). Every key starts with PREFIX:
 *
 *   tessera:runs                 hash: queue name -> RunMeta (JSON), the runs being labelled
 *   tessera:<queue>:x-settings   hash: content hash -> packed LabelSettings (model card,
 *                                tech table...), stored once instead of in every job
 *   tessera:<queue>:x-refusals   list: one line per worker that refused the run
 *   tessera:<queue>:*            BullMQ's keys for the run's own queue
 *
 * One BullMQ queue per run keeps runs apart on one Redis; the queue's name is a hash of
 * the run id and the coordinator's code version, so a restarted coordinator (`--resume`)
 * finds its run again and a coordinator with other code never collects its results.
 */

export const PREFIX = 'tessera';
export const RUNS_KEY = `${PREFIX}:runs`;
/** A run whose coordinator has not beaten for this long gets no new jobs taken from it. */
export const STALE_MS = 120_000;

export interface RunMeta {
  readonly queue: string;
  readonly runId: string;
  /** What the run labels, for workers' logs: "tiny, seed 5, nodes 7,28, fast". */
  readonly title: string;
  readonly codeVersion: string;
  readonly spaceVersion: string;
  /** host:pid of the coordinator. */
  readonly coordinator: string;
  readonly startedAt: string;
  readonly heartbeatMs: number;
}

export const settingsKey = (queue: string) => `${PREFIX}:${queue}:x-settings`;
export const refusalsKey = (queue: string) => `${PREFIX}:${queue}:x-refusals`;

/** BullMQ queue name for a run (no ':' allowed in it). */
export function queueNameFor(runId: string, codeVersion: string): string {
  return `run-${createHash('sha256').update(`${runId}\0${codeVersion}`).digest('hex').slice(0, 16)}`;
}

export async function announceRun(client: Redis, meta: RunMeta): Promise<void> {
  await client.hset(RUNS_KEY, meta.queue, JSON.stringify(meta));
}

export async function withdrawRun(client: Redis, queue: string): Promise<void> {
  await client.hdel(RUNS_KEY, queue);
}

/** The runs announced on this Redis (unparsable entries skipped). */
export async function listRuns(client: Redis): Promise<RunMeta[]> {
  const all = await client.hgetall(RUNS_KEY);
  const out: RunMeta[] = [];
  for (const text of Object.values(all)) {
    try {
      out.push(JSON.parse(text) as RunMeta);
    } catch {
      // a foreign or damaged entry: not a run this worker can serve
    }
  }
  return out;
}

/**
 * Why this worker must not run the run's jobs, or undefined when it may: labels are only
 * comparable when coordinator and worker share the design space and the code (sim/,
 * search/ and the lock file), so a stale machine cannot poison a dataset.
 */
export function refusalReason(meta: RunMeta, mine: { readonly codeVersion: string; readonly spaceVersion: string }): string | undefined {
  const fix = "fix: give this machine the coordinator's sources (the same commit, then npm ci) and restart the worker";
  if (meta.spaceVersion !== mine.spaceVersion) return `its space version ${meta.spaceVersion} differs from this worker's ${mine.spaceVersion}; ${fix}`;
  if (meta.codeVersion !== mine.codeVersion) return `its code version ${meta.codeVersion} differs from this worker's ${mine.codeVersion} (sim/, search/ or package-lock.json differ); ${fix}`;
  return undefined;
}
