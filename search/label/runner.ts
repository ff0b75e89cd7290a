import type { LabelRecord, SimulationJob } from './job.js';

/**
 * The simulation-job runner interface (docs/search.md "Runners"): how a coordinator gets
 * labels simulated. `PiscinaRunner` (search/label/pool.ts) runs them in worker threads on
 * this machine; a queue-backed runner (issue 15: BullMQ on Redis) implements the same
 * interface. Contract:
 *
 * - a job is identified by (runId, index) (`jobId` in job.ts); its result is a pure
 *   function of the job, so a runner may run a job more than once (at-least-once
 *   delivery) and the coordinator keeps the first result for an index;
 * - `submit` resolves with the label, or rejects only when the runner itself failed (a
 *   simulator error is a label with status 'failed', not a rejection);
 * - the coordinator keeps at most `concurrency` jobs submitted and unresolved.
 */
export interface SimulationJobRunner {
  /** For messages: "2 worker threads", "queue redis://...". */
  readonly description: string;
  /** Jobs the coordinator keeps in flight. */
  readonly concurrency: number;
  submit(job: SimulationJob): Promise<LabelRecord>;
  /** Release threads or connections; jobs in flight are abandoned. */
  close(): Promise<void>;
}
