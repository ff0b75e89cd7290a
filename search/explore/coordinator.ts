import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { Packr } from 'msgpackr';
import type { Design } from '../../sim/design/design.js';
import type { LabelRecord, LabelSettings, SimulationJob } from '../label/job.js';
import type { SimulationJobRunner } from '../label/runner.js';
import { LabelWriter, readLabelFile } from '../label/file.js';
import { checkResumable, headerFor } from '../label/run.js';
import { designIndex } from './simulated.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { runSearch, type RunHost, type RunProgress, type RunResult, type RunSpec } from './run.js';

/**
 * Runs explore runs (algorithm x seed) side by side and serves their simulations
 * (docs/explore.md "Parallelism"). Simulations go to one `SimulationJobRunner` (the
 * Piscina pool, or issue 15's queue): each design's job has the label index
 * `designIndex(design)`, so a design asked for by two runs, or again after `--resume`, is
 * simulated once; every label is appended to the run folder's label file as it completes.
 * The runs themselves execute in a Piscina pool of worker threads (`workers` > 1) or in
 * this thread; either way each run is a pure function of its spec and the simulations, so
 * the results are identical for any number of workers.
 */

export interface CoordinatorOptions {
  readonly out: string;
  readonly specs: readonly RunSpec[];
  readonly labelSettings: LabelSettings;
  readonly runner: SimulationJobRunner;
  /** Threads for the runs themselves (1: run them in this thread). */
  readonly workers: number;
  readonly resume: boolean;
  readonly onProgress?: (p: RunProgress) => void;
  readonly onSimulated?: (count: number) => void;
  /** A run's own wall time, from its start in a thread to its end (this invocation only). */
  readonly onRunWall?: (runId: string, seconds: number) => void;
}

const packr = new Packr({ useRecords: false, moreTypes: true });

/** Hash of a run's settings: what must match for its checkpoint to be resumed. */
export function settingsHash(spec: RunSpec): string {
  const { surrogate, baseLabels, card, tech, ...rest } = spec;
  const h = createHash('sha256');
  h.update(JSON.stringify(rest));
  h.update(packr.pack(surrogate));
  h.update(JSON.stringify(card));
  h.update(JSON.stringify(tech));
  h.update(String(baseLabels.length));
  return h.digest('hex').slice(0, 16);
}

export const checkpointFile = (out: string, runId: string) => path.join(out, 'checkpoints', `${runId}.msgpack`);

/** The simulation service: one label per design, cached, appended to the run's label file. */
export class SimulationService {
  private readonly cache = new Map<number, Promise<LabelRecord>>();
  private readonly writer: LabelWriter;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  simulatedNow = 0;

  constructor(
    readonly file: string,
    private readonly settings: LabelSettings,
    private readonly runner: SimulationJobRunner,
    resume: boolean,
    private readonly onSimulated?: (count: number) => void,
  ) {
    const header = headerFor(settings, 0, new Date());
    if (resume && fs.existsSync(file) && fs.statSync(file).size > 0) {
      const read = readLabelFile(file);
      checkResumable(file, read.header, header);
      for (const l of read.labels) this.cache.set(l.index, Promise.resolve(l));
      this.writer = LabelWriter.resume(file, read.goodBytes);
    } else this.writer = LabelWriter.create(file, header);
  }

  simulate(designs: readonly Design[]): Promise<LabelRecord[]> {
    return Promise.all(designs.map((d) => this.one(d)));
  }

  private one(design: Design): Promise<LabelRecord> {
    const index = designIndex(design);
    let p = this.cache.get(index);
    if (!p) {
      p = this.submit({ runId: 'explore', index, settings: this.settings, design });
      this.cache.set(index, p);
    }
    return p;
  }

  private async submit(job: SimulationJob): Promise<LabelRecord> {
    while (this.inFlight >= Math.max(1, this.runner.concurrency)) await new Promise<void>((r) => this.waiting.push(r));
    this.inFlight++;
    try {
      const label = await this.runner.submit(job);
      this.writer.append(label);
      this.simulatedNow++;
      this.onSimulated?.(this.simulatedNow);
      return label;
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  close(): void {
    this.writer.close();
  }
}

/** A run's host in this thread. */
function localHost(o: CoordinatorOptions, spec: RunSpec, sims: SimulationService): RunHost {
  const file = checkpointFile(o.out, spec.runId);
  const expect = { runId: spec.runId, settingsHash: settingsHash(spec) };
  return {
    simulate: (designs) => sims.simulate(designs),
    loadCheckpoint: () => (o.resume ? loadCheckpoint(file, expect) : undefined),
    saveCheckpoint: (c) => saveCheckpoint(file, { kind: 'tessera-explore-checkpoint', formatVersion: 1, ...expect }, c),
    progress: (p) => o.onProgress?.(p),
  };
}

/** Messages between a run in a worker thread and this coordinator. */
export type WorkerMessage = { type: 'started' } | { type: 'simulate'; id: number; designs: Design[] } | { type: 'progress'; progress: RunProgress };
export type CoordinatorMessage = { type: 'simulated'; id: number; labels?: LabelRecord[]; error?: string };

export interface WorkerTask {
  readonly spec: RunSpec;
  readonly port: MessagePort;
  readonly checkpoint: { readonly file: string; readonly runId: string; readonly settingsHash: string; readonly resume: boolean };
}

export async function runAll(o: CoordinatorOptions): Promise<RunResult[]> {
  fs.mkdirSync(path.join(o.out, 'checkpoints'), { recursive: true });
  // a corrupt or foreign checkpoint is an input error here, before any run starts
  if (o.resume) for (const spec of o.specs) loadCheckpoint(checkpointFile(o.out, spec.runId), { runId: spec.runId, settingsHash: settingsHash(spec) });
  const sims = new SimulationService(path.join(o.out, 'labels.msgpack'), o.labelSettings, o.runner, o.resume, o.onSimulated);
  try {
    const timed = (runId: string, start: number) => () => o.onRunWall?.(runId, (performance.now() - start) / 1000);
    if (o.workers <= 1 || o.specs.length === 1) return await Promise.all(o.specs.map((spec) => runSearch(spec, localHost(o, spec, sims)).finally(timed(spec.runId, performance.now()))));
    const fromSource = import.meta.url.endsWith('.ts');
    const pool = new Piscina({
      filename: fileURLToPath(new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url)),
      minThreads: 1,
      maxThreads: Math.min(o.workers, o.specs.length),
      idleTimeout: 60_000,
      // tsx resolved from this file, not from the working directory (which may be anywhere)
      execArgv: fromSource ? ['--import', import.meta.resolve('tsx')] : [],
    });
    try {
      return await Promise.all(
        o.specs.map((spec) => {
          const { port1, port2 } = new MessageChannel();
          let start = performance.now(); // reset when a thread picks the run up
          port1.on('message', (m: WorkerMessage) => {
            if (m.type === 'started') start = performance.now();
            else if (m.type === 'progress') o.onProgress?.(m.progress);
            else
              sims.simulate(m.designs).then(
                (labels) => port1.postMessage({ type: 'simulated', id: m.id, labels } satisfies CoordinatorMessage),
                (e) => port1.postMessage({ type: 'simulated', id: m.id, error: String((e as Error)?.message ?? e) } satisfies CoordinatorMessage),
              );
          });
          const task: WorkerTask = { spec, port: port2, checkpoint: { file: checkpointFile(o.out, spec.runId), runId: spec.runId, settingsHash: settingsHash(spec), resume: o.resume } };
          return (pool.run(task, { transferList: [port2] }) as Promise<RunResult>).finally(() => {
            timed(spec.runId, start)();
            port1.close();
          });
        }),
      );
    } finally {
      await pool.destroy();
    }
  } finally {
    sims.close();
  }
}
