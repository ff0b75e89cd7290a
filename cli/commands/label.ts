import * as fs from 'node:fs';
import * as os from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { loadModel } from '../load.js';
import { loadTech, withTechOption } from '../techOption.js';
import { createProgress } from '../progress.js';
import { InputError } from '../../sim/validate/inputError.js';
import { PROCESS_NODES_NM, type ProcessNodeNm } from '../../sim/tech/nodes.js';
import type { ChipFidelity } from '../../sim/chip/run.js';
import { LABEL_WORKLOADS, labelWorkloadFor } from '../../search/workload.js';
import { readLabelFile } from '../../search/label/file.js';
import { runLabels } from '../../search/label/run.js';
import { checkWorkersWithQueue, createRunner, withQueueOption } from '../runnerOption.js';
import { labelInfo, labelsCsv, renderLabelInfo } from '../../search/label/info.js';

/**
 * `tessera label`: simulate sampled designs in a worker pool into a label file;
 * `tessera label info FILE [--csv OUT]`: what a label file holds (docs/search.md).
 */

interface LabelArgs {
  model?: string;
  nodes?: string;
  count?: number;
  workers?: number;
  seed?: number;
  fidelity?: ChipFidelity;
  out: string;
  resume: boolean;
  'event-limit'?: number;
  tech?: string;
  queue?: string;
  quiet: boolean;
}

/** Default chip events per simulation: ~20x what the label workload takes on a 41x42 Llama design. */
export const DEFAULT_EVENT_LIMIT = 50_000_000;

export function parseNodes(text: string): ProcessNodeNm[] {
  const parts = String(text).split(',').map((s) => s.trim()).filter(Boolean);
  const nodes = parts.map((p) => Number(p.replace(/nm$/, '')));
  const bad = parts.find((p, i) => !(PROCESS_NODES_NM as readonly number[]).includes(nodes[i]));
  if (bad !== undefined || parts.length === 0) {
    throw new InputError('--nodes', 'nodes', bad ?? text, `process nodes among ${PROCESS_NODES_NM.join(', ')} (nm), comma-separated`, 'e.g. --nodes 3,7,28');
  }
  return [...new Set(nodes)] as ProcessNodeNm[];
}

function positiveInt(flag: string, v: number | undefined, fix: string): void {
  if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1)) throw new InputError(flag, flag.replace(/^--/, ''), v, 'a whole number >= 1', fix);
}

function infoCommand(io: Io): CommandModule<object, { file: string; csv?: string; json: boolean }> {
  return {
    command: 'info <file>',
    describe: 'Summarise a label file: counts per node, feasible share, metric ranges, failures; --csv exports it',
    builder: (y: Argv) =>
      y
        .positional('file', { type: 'string', demandOption: true, describe: 'label file written by tessera label --out' })
        .option('csv', { type: 'string', describe: "write every label as a CSV row to this file ('-' for stdout)" })
        .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' }) as unknown as Argv<{ file: string; csv?: string; json: boolean }>,
    handler: (a) => {
      const read = readLabelFile(a.file);
      if (read.truncatedAt !== undefined) io.stderr(`tessera: ${a.file}: ignoring a truncated last frame at offset ${read.truncatedAt} (a label in flight when the run stopped; --resume drops it)\n`);
      if (a.csv !== undefined) {
        const csv = labelsCsv(read);
        if (a.csv === '-') io.stdout(csv);
        else {
          io.writeFile(a.csv, csv);
          io.stderr(`${read.labels.length} labels written to ${a.csv}\n`);
        }
        if (a.csv === '-') return;
      }
      const info = labelInfo(read);
      io.stdout(a.json ? `${JSON.stringify(info, null, 2)}\n` : renderLabelInfo(info, a.file));
    },
  };
}

export function labelCommand(io: Io): CommandModule<object, LabelArgs> {
  return {
    command: 'label',
    describe: 'Simulate sampled designs in parallel into a label file (msgpack, checksummed, resumable); `label info FILE` summarises one',
    builder: (y: Argv) =>
      withQueueOption(withTechOption(
        y
          .command(infoCommand(io) as any)
          .option('model', { type: 'string', describe: 'model card or built-in model (taken from the file on --resume)' })
          .option('nodes', { type: 'string', describe: 'process nodes, comma-separated (default: all seven)' })
          .option('count', { type: 'number', describe: 'labels in the file when done (default 100)' })
          .option('workers', { type: 'number', describe: 'worker threads (default: the number of cores)' })
          .option('seed', { type: 'number', describe: 'label i is a pure function of (seed, i) (default 1)' })
          .option('fidelity', { choices: ['fast', 'flit', 'detailed'] as const, describe: 'simulator fidelity (default fast)' })
          .option('out', { type: 'string', describe: 'label file to write (never overwritten)' })
          .option('resume', { type: 'boolean', default: false, describe: 'continue --out: settings from its header, missing labels only' })
          .option('event-limit', { type: 'number', describe: `chip events per simulation at most; a label that needs more is recorded as failed (default ${DEFAULT_EVENT_LIMIT})` })
          .option('quiet', { type: 'boolean', default: false, describe: 'no progress on stderr' }),
      )) as unknown as Argv<LabelArgs>,
    handler: async (a) => {
      if (a.out === undefined) throw new InputError('--out', 'out', undefined, 'a label file to write', 'add --out labels.msgpack');
      positiveInt('--count', a.count, 'e.g. --count 1000');
      positiveInt('--workers', a.workers, `e.g. --workers ${os.availableParallelism()}`);
      checkWorkersWithQueue(a);
      positiveInt('--event-limit', a['event-limit'], `e.g. --event-limit ${DEFAULT_EVENT_LIMIT}`);
      if (a.seed !== undefined && !Number.isSafeInteger(a.seed)) throw new InputError('--seed', 'seed', a.seed, 'an integer', 'e.g. --seed 1');
      // on --resume the file's header supplies what the command line leaves out
      const prior = a.resume && fs.existsSync(a.out) && fs.statSync(a.out).size > 0 ? readLabelFile(a.out).header : undefined;
      const modelSpec = a.model ?? prior?.model.name;
      if (modelSpec === undefined) throw new InputError('--model', 'model', undefined, 'a model card or built-in model', 'e.g. --model llama-3.1-8b');
      const card = loadModel(io, modelSpec);
      const nodes = a.nodes !== undefined ? parseNodes(a.nodes) : ((prior?.nodes as ProcessNodeNm[] | undefined) ?? [...PROCESS_NODES_NM]);
      const count = a.count ?? prior?.count ?? 100;
      const tech = loadTech(io, a.tech);
      const settings = {
        modelName: modelSpec,
        card,
        nodes,
        seed: a.seed ?? prior?.seed ?? 1,
        fidelity: a.fidelity ?? (prior?.fidelity as ChipFidelity | undefined) ?? 'fast',
        // a resumed file keeps its workload (older workloads stay runnable)
        workload: prior && Object.hasOwn(LABEL_WORKLOADS, prior.workload.name) ? prior.workload.name : labelWorkloadFor(card).name,
        eventLimit: a['event-limit'] ?? prior?.eventLimit ?? DEFAULT_EVENT_LIMIT,
        tech,
      };
      const runner = await createRunner(io, { queue: a.queue, workers: a.workers });
      const progress = createProgress(io, { label: `labelling ${card.name}`, total: count, unit: 'labels', quiet: a.quiet });
      try {
        const counts = await runLabels({
          out: a.out,
          settings,
          count,
          resume: a.resume,
          runner,
          onNotice: (t) => io.stderr(`tessera: ${t}\n`),
          onLabel: (_l, c) => progress.update(c.done, `feasible ${c.ok}, infeasible ${c.infeasible}, failed ${c.failed}`),
        });
        progress.finish(`${counts.added} new, feasible ${counts.ok}, infeasible ${counts.infeasible}, failed ${counts.failed}`);
        io.stdout(`${a.out}: ${counts.done} labels (${counts.added} added by this run; ${counts.ok} feasible, ${counts.infeasible} infeasible, ${counts.failed} failed) with ${runner.description}\n`);
      } finally {
        await runner.close();
      }
    },
  };
}
