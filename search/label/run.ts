import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { InputError } from '../../sim/validate/inputError.js';
import { SPACE_VERSION } from '../space.js';
import { simulatorVersion, techHash } from '../version.js';
import { LABEL_WORKLOADS } from '../workload.js';
import { LABEL_FORMAT_VERSION, LabelWriter, readLabelFile, type LabelHeader } from './file.js';
import type { LabelRecord, LabelSettings, SimulationJob } from './job.js';
import type { SimulationJobRunner } from './runner.js';

/**
 * The labelling coordinator (`tessera label`): hands the missing label indices to a
 * runner, appends each label to the file as it completes, and on `--resume` continues a
 * file without duplicates (the header must match the run's settings and versions).
 */

export interface LabelRunOptions {
  readonly out: string;
  readonly settings: LabelSettings;
  readonly count: number;
  readonly resume: boolean;
  readonly runner: SimulationJobRunner;
  /** A label arrived (after it was written). */
  readonly onLabel?: (label: LabelRecord, counts: LabelCounts) => void;
  /** A one-line notice for the user (a dropped truncated tail). */
  readonly onNotice?: (text: string) => void;
  readonly now?: () => Date;
}

export interface LabelCounts {
  /** Labels in the file (earlier runs included). */
  done: number;
  ok: number;
  infeasible: number;
  failed: number;
  /** Labels this run added. */
  added: number;
}

export function modelHash(card: unknown): string {
  return createHash('sha256').update(JSON.stringify(card)).digest('hex').slice(0, 12);
}

export function headerFor(settings: LabelSettings, count: number, now: Date): LabelHeader {
  const w = LABEL_WORKLOADS[settings.workload];
  return {
    kind: 'tessera-labels',
    formatVersion: LABEL_FORMAT_VERSION,
    spaceVersion: SPACE_VERSION,
    simulatorVersion: simulatorVersion(settings.tech),
    model: { name: settings.card.name, hash: modelHash(settings.card) },
    nodes: [...settings.nodes],
    count,
    seed: settings.seed,
    fidelity: settings.fidelity,
    workload: { name: w.name, description: w.description },
    eventLimit: settings.eventLimit,
    tech: techHash(settings.tech),
    createdAt: now.toISOString(),
  };
}

/** Why a file's header cannot be continued by this run, as an InputError (or nothing). */
export function checkResumable(file: string, have: LabelHeader, want: LabelHeader): void {
  const checks: [string, unknown, unknown, string][] = [
    ['spaceVersion', have.spaceVersion, want.spaceVersion, 'the design space changed since the file was started; start a new --out file'],
    ['simulatorVersion', have.simulatorVersion, want.simulatorVersion, 'the simulator (sim/ sources or tech table) changed; labels of two simulator versions are never mixed: start a new --out file'],
    ['model', `${have.model.name} (${have.model.hash})`, `${want.model.name} (${want.model.hash})`, `pass --model ${have.model.name} (the file's model) or start a new --out file`],
    ['--nodes', have.nodes.join(','), want.nodes.join(','), `pass --nodes ${have.nodes.join(',')} or leave it out`],
    ['--seed', have.seed, want.seed, `pass --seed ${have.seed} or leave it out`],
    ['--fidelity', have.fidelity, want.fidelity, `pass --fidelity ${have.fidelity} or leave it out`],
    ['workload', have.workload.name, want.workload.name, 'start a new --out file for another workload'],
    ['--event-limit', have.eventLimit, want.eventLimit, `pass --event-limit ${have.eventLimit} or leave it out`],
  ];
  for (const [field, a, b, fix] of checks) {
    if (a !== b) throw new InputError(file, field, b, `this run differs from the file, which has ${String(a)}`, fix);
  }
}

/** Label indices 0..count-1 not yet in the file, and the writer to append to. */
function open(o: LabelRunOptions, header: LabelHeader): { writer: LabelWriter; have: LabelRecord[]; header: LabelHeader } {
  const exists = fs.existsSync(o.out) && fs.statSync(o.out).size > 0;
  if (!o.resume || !exists) {
    if (exists) throw new InputError(o.out, '--out', o.out, 'the label file already exists (it is never overwritten)', 'continue it with --resume, or choose another --out');
    if (fs.existsSync(o.out)) fs.unlinkSync(o.out); // an empty file left by a run killed before its header
    return { writer: LabelWriter.create(o.out, header), have: [], header };
  }
  const read = readLabelFile(o.out);
  checkResumable(o.out, read.header, header);
  if (read.truncatedAt !== undefined) {
    o.onNotice?.(`${o.out}: dropped a truncated last frame at offset ${read.truncatedAt} (${fs.statSync(o.out).size - read.truncatedAt} bytes, a label in flight when the run stopped)`);
  }
  return { writer: LabelWriter.resume(o.out, read.goodBytes), have: read.labels, header: read.header };
}

/**
 * A label file's run id: its model, seed and a hash of its header as written (settings,
 * versions and creation time), so a resumed run keeps the id of the run that started the
 * file (a queue finds its jobs again) and two files never share one.
 */
export function labelRunId(fileHeader: LabelHeader): string {
  return `${fileHeader.model.name}:${fileHeader.seed}:${createHash('sha256').update(JSON.stringify(fileHeader)).digest('hex').slice(0, 16)}`;
}

/** Run (or resume) a labelling run to `count` labels; returns the final counts. */
export async function runLabels(o: LabelRunOptions): Promise<LabelCounts> {
  const header = headerFor(o.settings, o.count, o.now?.() ?? new Date());
  const { writer, have, header: fileHeader } = open(o, header);
  const counts: LabelCounts = { done: 0, ok: 0, infeasible: 0, failed: 0, added: 0 };
  const seen = new Set<number>();
  const tally = (l: LabelRecord) => {
    counts.done++;
    counts[l.status]++;
  };
  for (const l of have) {
    seen.add(l.index);
    tally(l);
  }
  const todo: number[] = [];
  for (let i = 0; i < o.count; i++) if (!seen.has(i)) todo.push(i);
  const runId = labelRunId(fileHeader);
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < todo.length && failure === undefined) {
      const index = todo[next++];
      const job: SimulationJob = { runId, index, settings: o.settings };
      let label: LabelRecord;
      try {
        label = await o.runner.submit(job);
      } catch (e) {
        failure ??= e;
        return;
      }
      if (seen.has(label.index)) continue; // a duplicate delivery: the first result stands
      seen.add(label.index);
      writer.append(label);
      tally(label);
      counts.added++;
      o.onLabel?.(label, counts);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, o.runner.concurrency) }, worker));
  } finally {
    writer.close();
  }
  if (failure !== undefined) throw failure;
  return counts;
}
