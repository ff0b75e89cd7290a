import type { Design } from '../../sim/design/design.js';
import type { LabelRecord } from '../label/job.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { CoordinatorMessage, WorkerMessage, WorkerTask } from './coordinator.js';
import { runSearch, type RunResult } from './run.js';

/**
 * Piscina worker: one whole explore run (search/explore/coordinator.ts). Simulations are
 * asked of the coordinator over the task's message port (its runner may be a thread pool
 * or a queue); checkpoints are written here, beside the run.
 */
export default async function exploreWorker(task: WorkerTask): Promise<RunResult> {
  const { spec, port, checkpoint } = task;
  const pending = new Map<number, { resolve: (l: LabelRecord[]) => void; reject: (e: Error) => void }>();
  let next = 0;
  port.on('message', (m: CoordinatorMessage) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.labels) p?.resolve(m.labels);
    else p?.reject(new Error(m.error ?? 'simulation failed'));
  });
  const post = (m: WorkerMessage) => port.postMessage(m);
  const expect = { runId: checkpoint.runId, settingsHash: checkpoint.settingsHash };
  post({ type: 'started' });
  try {
    return await runSearch(spec, {
      simulate: (designs: readonly Design[]) =>
        new Promise((resolve, reject) => {
          const id = next++;
          pending.set(id, { resolve, reject });
          post({ type: 'simulate', id, designs: [...designs] });
        }),
      loadCheckpoint: () => (checkpoint.resume ? loadCheckpoint(checkpoint.file, expect) : undefined),
      saveCheckpoint: (c) => saveCheckpoint(checkpoint.file, { kind: 'tessera-explore-checkpoint', formatVersion: 1, ...expect }, c),
      progress: (progress) => post({ type: 'progress', progress }),
    });
  } finally {
    port.close();
  }
}
