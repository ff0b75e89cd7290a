import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../sim/validate/inputError.js';
import type { LabelRecord, LabelSettings } from '../label/job.js';
import type { SimulationJobRunner } from '../label/runner.js';
import { runLabels, type LabelCounts } from '../label/run.js';
import { readLabelFile } from '../label/file.js';
import { modelHash } from '../label/run.js';
import { readLabelSets } from '../surrogate/data.js';
import { LABEL_WORKLOADS } from '../workload.js';
import { loadSurrogate, saveSurrogate, trainSurrogate, type Family, type SurrogateBundle } from '../surrogate/model.js';
import { simulatorVersion } from '../version.js';

/**
 * The surrogate an explore run starts from (docs/explore.md "Surrogate"), the same for
 * every algorithm and seed of the run: a model file (`--surrogate`, its training labels
 * from `--labels` for fine-tuning), or one trained on `--labels`, or, with neither, one
 * trained on `--initial-labels` designs per node that the run labels first (into
 * `labels-initial.msgpack` in the run folder, resumable like `tessera label`). The default
 * family is `mlp-ensemble`: its members' spread varies from design to design, which the
 * spot checks' "most uncertain" picks need (a single network's or the trees' interval has
 * one width for every design).
 */

export interface SurrogatePlan {
  readonly labels?: readonly string[];
  readonly surrogate?: string;
  readonly initialLabelsPerNode: number;
  readonly family: Family;
  /** Training steps per ensemble member (default: the family's). */
  readonly steps?: number;
  readonly seed: number;
}

export interface PreparedSurrogate {
  readonly bundle: SurrogateBundle;
  readonly baseLabels: LabelRecord[];
  readonly source: {
    readonly kind: 'model' | 'labels' | 'labelled';
    readonly files: readonly string[];
    readonly labels: number;
    /** Simulation wall time of the labels the run made itself (s, summed over labels). */
    readonly labelSeconds?: number;
    readonly trainSeconds: number;
  };
}

export interface PrepareOptions {
  readonly out: string;
  readonly resume: boolean;
  readonly settings: LabelSettings;
  readonly plan: SurrogatePlan;
  readonly runner: SimulationJobRunner;
  readonly onLabel?: (counts: LabelCounts, total: number) => void;
  readonly onNotice?: (text: string) => void;
}

export async function prepareSurrogate(o: PrepareOptions): Promise<PreparedSurrogate> {
  const s = o.settings;
  const fctx = { card: s.card, tech: s.tech, workload: LABEL_WORKLOADS[s.workload] };
  const here = simulatorVersion(s.tech);
  const readLabels = (files: readonly string[]) => {
    const set = readLabelSets(files, { card: s.card });
    if (set.header.workload.name !== s.workload) throw new InputError(files[0], 'workload', set.header.workload.name, `labels of another workload than the run's ${s.workload}`, 'label with this Tessera (tessera label)');
    if (set.header.simulatorVersion !== here) o.onNotice?.(`note: the labels come from simulator ${set.header.simulatorVersion}, this Tessera is ${here}: the surrogate learns the older simulator, while spot checks and results come from this one`);
    return set;
  };
  if (o.plan.surrogate) {
    const bundle = loadSurrogate(o.plan.surrogate);
    if (bundle.model.name !== s.card.name || bundle.model.hash !== modelHash(s.card)) throw new InputError(o.plan.surrogate, 'model', bundle.model.name, `a surrogate of another model than ${s.card.name}`, `train one on ${s.card.name} labels (tessera surrogate train)`);
    if (bundle.workload !== s.workload) throw new InputError(o.plan.surrogate, 'workload', bundle.workload, `a surrogate of another workload than the run's ${s.workload}`, 'train one on labels of this workload');
    const files = o.plan.labels ?? bundle.trainedOn.files.filter((f) => fs.existsSync(f));
    const baseLabels = files.length ? readLabels(files).labels : [];
    return { bundle, baseLabels, source: { kind: 'model', files: [o.plan.surrogate, ...files], labels: bundle.trainedOn.labels, trainSeconds: bundle.trainedOn.seconds } };
  }
  let files: string[];
  let labelSeconds: number | undefined;
  if (o.plan.labels?.length) files = [...o.plan.labels];
  else {
    const file = path.join(o.out, 'labels-initial.msgpack');
    const count = o.plan.initialLabelsPerNode * s.nodes.length;
    await runLabels({ out: file, settings: { ...s, seed: o.plan.seed }, count, resume: o.resume, runner: o.runner, onNotice: o.onNotice, onLabel: (_l, c) => o.onLabel?.(c, count) });
    files = [file];
    labelSeconds = readLabelFile(file).labels.reduce((t, l) => t + l.wallSeconds, 0);
  }
  const set = readLabels(files);
  const saved = path.join(o.out, 'surrogate-initial.msgpack');
  let bundle: SurrogateBundle;
  if (o.resume && fs.existsSync(saved)) bundle = loadSurrogate(saved);
  else {
    bundle = trainSurrogate(set.labels, fctx, { simulatorVersion: set.header.simulatorVersion, model: set.header.model, workload: set.header.workload.name, files }, { family: o.plan.family, seed: o.plan.seed, ensemble: o.plan.steps ? { steps: o.plan.steps } : undefined });
    saveSurrogate(saved, bundle);
  }
  return { bundle, baseLabels: set.labels, source: { kind: o.plan.labels?.length ? 'labels' : 'labelled', files, labels: bundle.trainedOn.labels, labelSeconds, trainSeconds: bundle.trainedOn.seconds } };
}
