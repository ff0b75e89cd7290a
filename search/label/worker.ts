import { runLabelJob, type LabelRecord, type SimulationJob } from './job.js';

/** Piscina worker: one simulation job per call (search/label/pool.ts). */
export default function labelWorker(job: SimulationJob): LabelRecord {
  return runLabelJob(job);
}
