import * as os from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { loadDesign, loadModel } from '../load.js';
import { loadTech, withTechOption } from '../techOption.js';
import { createProgress } from '../progress.js';
import { InputError } from '../../sim/validate/inputError.js';
import { DesignSchema, type Design } from '../../sim/design/design.js';
import { parseInput } from '../../sim/validate/zod.js';
import { MAX_CLOCK_MHZ, PROCESS_NODES_NM, type ProcessNodeNm } from '../../sim/tech/nodes.js';
import type { ModelCard } from '../../sim/model/card.js';
import { LABEL_WORKLOADS, labelWorkloadFor } from '../../search/workload.js';
import { simulatorVersion } from '../../search/version.js';
import { modelHash } from '../../search/label/run.js';
import { runLabelJob } from '../../search/label/job.js';
import { readLabelSets } from '../../search/surrogate/data.js';
import { FAMILIES, Surrogate, TARGETS, feasibilityProbability, loadSurrogate, saveSurrogate, type Family, type SurrogateBundle } from '../../search/surrogate/model.js';
import { DEFAULT_FAMILY, trainChosen } from '../../search/surrogate/train.js';
import { evalJson, evaluateSurrogate, renderEval } from '../../search/surrogate/evaluate.js';
import { renderParityHtml } from '../../search/surrogate/parity.js';
import { mappingFeasible } from '../../search/sampler.js';
import { sensitivityTable, renderSensitivity } from '../../search/surrogate/sensitivity.js';
import { DEFAULT_EVENT_LIMIT, parseNodes } from './label.js';
import { PiscinaRunner } from '../../search/label/pool.js';
import { accuracyFiles, labelAccuracySets, measureAccuracy, outOfSampleDesigns, type AccuracyPlan } from '../../search/accuracy.js';
import { compareMarkdown, compareOnHeldOut, outOfSample, outOfSampleMarkdown } from '../../search/surrogate/compare.js';

/** `tessera surrogate train|eval|predict|sensitivity` (docs/search.md "Surrogate"). */

const split = (s: string) => String(s).split(',').map((x) => x.trim()).filter(Boolean);

/** The model card of a surrogate or label set: a built-in name, or the card the user passes. */
function cardFor(io: Io, name: string, hash: string, spec: string | undefined, where: string): ModelCard {
  const card = loadModel(io, spec ?? name);
  if (card.name !== name || modelHash(card) !== hash) {
    throw new InputError(where, 'model', name, `made for model ${name} (card ${hash}), not ${card.name} (${modelHash(card)})`, spec ? `pass --model-card for ${name}` : `pass its card with --model-card FILE`);
  }
  return card;
}

function contextOf(io: Io, b: SurrogateBundle, file: string, cardSpec?: string, tech?: string) {
  const card = cardFor(io, b.model.name, b.model.hash, cardSpec, file);
  return { card, tech: loadTech(io, tech), workload: LABEL_WORKLOADS[b.workload] ?? labelWorkloadFor(card) };
}

/** A note when labels come from another simulator than this one: computed features (area, bounds) follow this one. */
function noteSimulator(io: Io, labelsVersion: string, tech: Parameters<typeof simulatorVersion>[0]): void {
  const here = simulatorVersion(tech);
  if (labelsVersion !== here) io.stderr(`tessera: note: the labels come from simulator ${labelsVersion}, this Tessera is ${here}; the computed parts (area, bounds, out-of-sample simulations) follow this one, so relabel for a clean measurement\n`);
}

function trainCommand(io: Io): CommandModule<object, any> {
  return {
    command: 'train',
    describe: 'Train a surrogate on label files',
    builder: (y: Argv) =>
      withTechOption(
        y
          .option('labels', { type: 'string', demandOption: true, describe: 'label files, comma-separated (one model, simulator version and workload)' })
          .option('out', { type: 'string', demandOption: true, describe: 'model file to write (msgpack)' })
          .option('family', { choices: [...FAMILIES, 'auto'] as const, default: DEFAULT_FAMILY, describe: 'model family; auto trains each on 80% of the labels, judges it on 20% and keeps the best' })
          .option('model-card', { type: 'string', describe: "the labels' model card when it is not built in" })
          .option('seed', { type: 'number', default: 1 })
          .option('quiet', { type: 'boolean', default: false }),
      ),
    handler: (a) => {
      const set = readLabelSets(split(a.labels));
      const card = cardFor(io, set.header.model.name, set.header.model.hash, a['model-card'], set.files[0]);
      const ctx = { card, tech: loadTech(io, a.tech), workload: LABEL_WORKLOADS[set.header.workload.name] };
      noteSimulator(io, set.header.simulatorVersion, ctx.tech);
      const progress = createProgress(io, { label: 'training', total: 0, quiet: a.quiet, intervalMs: 10_000 });
      const { bundle, trials } = trainChosen(set.labels, ctx, { simulatorVersion: set.header.simulatorVersion, model: set.header.model, workload: set.header.workload.name, files: set.files }, { family: a.family, seed: a.seed, onProgress: (t) => progress.update(0, t) });
      progress.finish(`${bundle.family}, ${bundle.trainedOn.seconds.toFixed(1)} s`);
      for (const t of trials) io.stdout(`  ${t.family.padEnd(13)} score ${t.score.toFixed(2)} (MAPE tokens/s ${t.report.overall.targets.tokensPerSecond.mape.toFixed(2)}%, power ${t.report.overall.targets.powerW.mape.toFixed(2)}%, PPA tau ${t.report.overall.targets.ppaScore.kendallTau.toFixed(3)}; trained in ${t.trainSeconds.toFixed(1)} s)\n`);
      saveSurrogate(a.out, bundle);
      io.stdout(`${a.out}: ${bundle.family} surrogate for ${bundle.model.name}, trained on ${bundle.trainedOn.labels} labels in ${bundle.trainedOn.seconds.toFixed(1)} s (space ${bundle.spaceVersion}, simulator ${bundle.simulatorVersion})\n`);
    },
  };
}

function evalCommand(io: Io): CommandModule<object, any> {
  return {
    command: 'eval',
    describe: 'Judge a surrogate on held-out labels: MAPE, R2, Kendall tau, top-10% recall, interval coverage, feasibility accuracy and AUC, overall and per node',
    builder: (y: Argv) =>
      withTechOption(
        y
          .option('model', { type: 'string', demandOption: true, describe: 'surrogate model file' })
          .option('labels', { type: 'string', demandOption: true, describe: 'held-out label files, comma-separated' })
          .option('model-card', { type: 'string', describe: "the model card when it is not built in" })
          .option('json', { type: 'boolean', default: false })
          .option('html', { type: 'string', describe: 'write parity plots (SVG) and the table as HTML' })
          .option('power-budget', { type: 'number', describe: 'power budget in W for feasibility (default: 60th percentile of the held-out power)' })
          .option('area-budget', { type: 'number', describe: 'area budget in mm2 (default: 80th percentile of the held-out area)' }),
      ),
    handler: (a) => {
      const b = loadSurrogate(a.model);
      const ctx = contextOf(io, b, a.model, a['model-card'], a.tech);
      const set = readLabelSets(split(a.labels), { card: ctx.card });
      const report = evaluateSurrogate(new Surrogate(b, ctx), set.labels, { powerW: a['power-budget'], areaMm2: a['area-budget'] });
      if (set.header.simulatorVersion !== b.simulatorVersion) io.stderr(`tessera: note: the labels come from simulator ${set.header.simulatorVersion}, the surrogate from ${b.simulatorVersion}\n`);
      if (a.html) io.writeFile(a.html, renderParityHtml(report, `Surrogate ${a.model} on ${set.files.join(', ')}`));
      io.stdout(a.json ? `${JSON.stringify(evalJson(report), null, 2)}\n` : renderEval(report));
    },
  };
}

/** The design retargeted to `node`: the node set and the clock capped at its maximum. */
function atNode(design: Design, node: ProcessNodeNm | undefined): Design {
  if (node === undefined || node === design.processNodeNm) return design;
  return parseInput(DesignSchema, { ...design, processNodeNm: node, clockMHz: Math.min(design.clockMHz, MAX_CLOCK_MHZ[node]) }, `${design.name} at ${node} nm`);
}

function predictCommand(io: Io): CommandModule<object, any> {
  return {
    command: 'predict',
    describe: 'Predict a design\'s metrics with 90% intervals; --check also simulates it and prints both',
    builder: (y: Argv) =>
      withTechOption(
        y
          .option('model', { type: 'string', demandOption: true, describe: 'surrogate model file' })
          .option('design', { type: 'string', demandOption: true, describe: 'design file or preset' })
          .option('model-card', { type: 'string', describe: "the workload's model card (default: the surrogate's model)" })
          .option('node', { type: 'string', describe: 'retarget the design to this node (clock capped at its maximum)' })
          .option('check', { type: 'boolean', default: false, describe: 'also simulate the design on the label workload and print both' })
          .option('power-budget', { type: 'number' })
          .option('area-budget', { type: 'number' })
          .option('json', { type: 'boolean', default: false }),
      ),
    handler: (a) => {
      const b = loadSurrogate(a.model);
      const ctx = contextOf(io, b, a.model, a['model-card'], a.tech);
      const node = a.node !== undefined ? parseNodes(a.node) : undefined;
      if (node && node.length !== 1) throw new InputError('--node', 'node', a.node, 'one process node', 'e.g. --node 7');
      const design = atNode(loadDesign(io, a.design), node?.[0]);
      const p = new Surrogate(b, ctx).predict([design])[0];
      const mapOk = mappingFeasible(ctx.card, design, ctx.workload);
      const budgets = { powerW: a['power-budget'], areaMm2: a['area-budget'] };
      const pFeasible = feasibilityProbability(p, mapOk, budgets);
      let sim: ReturnType<typeof runLabelJob> | undefined;
      if (a.check) {
        const tech = ctx.tech;
        sim = runLabelJob({ runId: 'check', index: 0, design, settings: { modelName: ctx.card.name, card: ctx.card, nodes: [design.processNodeNm as ProcessNodeNm], seed: 1, fidelity: 'fast', workload: ctx.workload.name, eventLimit: 0, tech } });
        if (simulatorVersion(tech) !== b.simulatorVersion) io.stderr(`tessera: note: the surrogate was trained on simulator ${b.simulatorVersion}; this one is ${simulatorVersion(tech)}\n`);
      }
      const simOf = (name: string): number | undefined => {
        if (!sim?.metrics || sim.status !== 'ok') return undefined;
        const t = TARGETS.find((x) => x.name === name);
        return name === 'ppaScore' ? sim.metrics.ppaScore : t?.get(sim.metrics);
      };
      if (a.json) {
        io.stdout(`${JSON.stringify({ design: design.name, node: design.processNodeNm, family: b.family, mappingFeasible: mapOk, pFeasible, prediction: { ...p.targets, ppaScore: p.ppaScore }, ...(sim ? { simulated: { status: sim.status, metrics: sim.metrics, reasons: sim.mapping.reasons, error: sim.error, wallSeconds: sim.wallSeconds } } : {}) }, null, 2)}\n`);
        return;
      }
      const g = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3 ? x.toExponential(3) : x.toPrecision(4));
      const lines = [`${design.name} at ${design.processNodeNm} nm, ${ctx.card.name}, workload ${ctx.workload.name}: ${b.family} surrogate (${a.model})`, `  mapping ${mapOk ? 'feasible' : 'INFEASIBLE'} (mapping pass); area ${p.areaExact ? 'from the area model' : 'learned (heterogeneous tiles)'}`];
      lines.push('', `  ${'metric'.padEnd(18)} ${'predicted'.padStart(11)} ${'90% interval'.padStart(25)}${sim ? `${'simulated'.padStart(12)} ${'error'.padStart(8)}` : ''}`);
      for (const [name, q] of [...Object.entries(p.targets), ['ppaScore', p.ppaScore] as const]) {
        const s = simOf(name);
        const err = s !== undefined ? `${(100 * (q.value - s) / Math.abs(s)).toFixed(1)}%` : '-';
        lines.push(`  ${name.padEnd(18)} ${g(q.value).padStart(11)} ${`[${g(q.lo)}, ${g(q.hi)}]`.padStart(25)}${sim ? `${g(s).padStart(12)} ${err.padStart(8)}` : ''}`);
      }
      if (budgets.powerW !== undefined || budgets.areaMm2 !== undefined) lines.push('', `  P(feasible under the budgets) = ${pFeasible.toFixed(3)}`);
      if (sim) lines.push('', `  simulated: ${sim.status}${sim.error ? ` (${sim.error})` : ''}${sim.mapping.reasons.length ? ` (${sim.mapping.reasons[0]})` : ''}, ${sim.wallSeconds.toFixed(2)} s`);
      io.stdout(`${lines.join('\n')}\n`);
    },
  };
}

function sensitivityCommand(io: Io): CommandModule<object, any> {
  return {
    command: 'sensitivity',
    describe: 'Per knob: how each prediction moves along each dimension around a design; --simulate adds the simulator\'s own sweep',
    builder: (y: Argv) =>
      withTechOption(
        y
          .option('model', { type: 'string', demandOption: true, describe: 'surrogate model file' })
          .option('design', { type: 'string', demandOption: true, describe: 'design file or preset at the centre of the sweep' })
          .option('model-card', { type: 'string' })
          .option('simulate', { type: 'boolean', default: false, describe: 'simulate every sweep point as well (slow: 2-3 simulations per dimension)' })
          .option('json', { type: 'boolean', default: false })
          .option('quiet', { type: 'boolean', default: false }),
      ),
    handler: (a) => {
      const b = loadSurrogate(a.model);
      const ctx = contextOf(io, b, a.model, a['model-card'], a.tech);
      const design = loadDesign(io, a.design);
      const progress = createProgress(io, { label: 'sensitivity', total: 0, unit: 'simulations', quiet: a.quiet || !a.simulate });
      const rows = sensitivityTable(new Surrogate(b, ctx), design, a.simulate, () => progress.tick());
      progress.finish();
      io.stdout(a.json ? `${JSON.stringify(rows, null, 2)}\n` : renderSensitivity(rows, design.name));
    },
  };
}

function compareCommand(io: Io): CommandModule<object, any> {
  return {
    command: 'compare',
    describe: 'Train every model family on the same labels and judge each on the same held-out labels (the accuracy table); --designs adds an out-of-sample table',
    builder: (y: Argv) =>
      withTechOption(
        y
          .option('labels', { type: 'string', demandOption: true, describe: 'training label files, comma-separated' })
          .option('held-out', { type: 'string', demandOption: true, describe: 'held-out label files (another seed), comma-separated' })
          .option('designs', { type: 'string', describe: 'out-of-sample designs (files or presets), comma-separated: each is simulated once' })
          .option('model-card', { type: 'string' })
          .option('json', { type: 'string', describe: 'also write every report as JSON to this file' })
          .option('quiet', { type: 'boolean', default: false }),
      ),
    handler: (a) => {
      const set = readLabelSets(split(a.labels));
      const card = cardFor(io, set.header.model.name, set.header.model.hash, a['model-card'], set.files[0]);
      const held = readLabelSets(split(a['held-out']), { card, simulatorVersion: set.header.simulatorVersion, flag: '--held-out' });
      const ctx = { card, tech: loadTech(io, a.tech), workload: LABEL_WORKLOADS[set.header.workload.name] };
      noteSimulator(io, set.header.simulatorVersion, ctx.tech);
      const progress = createProgress(io, { label: 'compare', total: 0, quiet: a.quiet });
      const results = compareOnHeldOut(set.labels, held.labels, ctx, { simulatorVersion: set.header.simulatorVersion, model: set.header.model, workload: set.header.workload.name, files: set.files }, FAMILIES, (f) => progress.update(0, `training ${f}`));
      let out = compareMarkdown(results, `${card.name}: trained on ${set.files.join(', ')} (${results[0].bundle.trainedOn.labels} labels), judged on ${held.files.join(', ')}`);
      let oos;
      if (a.designs) {
        const designs = split(a.designs).map((d) => loadDesign(io, d));
        oos = outOfSample(results, designs, ctx, () => progress.tick(1, 'simulating out-of-sample designs'));
        out += `\n### Out-of-sample designs\n\n${outOfSampleMarkdown(results, oos, ctx)}`;
      }
      progress.finish();
      if (a.json) io.writeFile(a.json, JSON.stringify({ results: results.map((r) => ({ family: r.family, trainSeconds: r.trainSeconds, report: evalJson(r.report) })), outOfSample: oos?.map((l) => ({ design: l.design.name, status: l.status, metrics: l.metrics })) }, null, 2));
      io.stdout(out);
    },
  };
}

function wholeAtLeast(flag: string, v: number, min: number, fix: string): void {
  if (!(Number.isSafeInteger(v) && v >= min)) throw new InputError(flag, flag.replace(/^--/, ''), v, `a whole number >= ${min}`, fix);
}

function accuracyCommand(io: Io): CommandModule<object, any> {
  return {
    command: 'accuracy',
    describe: 'The accuracy measurement in one resumable run: label a training and a held-out set into --dir, train every family, judge each (overall, per node, out-of-sample)',
    builder: (y: Argv) =>
      withTechOption(
        y
          .option('model', { type: 'string', demandOption: true, describe: 'model card or built-in model' })
          .option('nodes', { type: 'string', describe: 'process nodes, comma-separated (default: all seven)' })
          .option('dir', { type: 'string', demandOption: true, describe: 'folder for the label files, models and tables (continued when it exists)' })
          .option('train-per-node', { type: 'number', default: 3000, describe: 'training labels per node (seed --train-seed)' })
          .option('held-out-per-node', { type: 'number', default: 350, describe: 'held-out labels per node (seed --held-out-seed; about 5-15% do not map)' })
          .option('train-seed', { type: 'number', default: 1 })
          .option('held-out-seed', { type: 'number', default: 2 })
          .option('workers', { type: 'number', describe: 'worker threads (default: the number of cores)' })
          .option('families', { type: 'string', describe: `families to compare, comma-separated (default: ${FAMILIES.join(',')})` })
          .option('designs', { type: 'string', describe: 'out-of-sample designs (files or presets), comma-separated (default: the presets that map the model and designs pushed outside the sampler box)' })
          .option('label-only', { type: 'boolean', default: false, describe: 'label both sets, do not train or judge' })
          .option('measure-only', { type: 'boolean', default: false, describe: 'train and judge on the labels the folder holds now (a run in progress may keep labelling)' })
          .option('event-limit', { type: 'number', default: DEFAULT_EVENT_LIMIT })
          .option('quiet', { type: 'boolean', default: false }),
      ),
    handler: async (a) => {
      const nodes = (a.nodes !== undefined ? parseNodes(a.nodes) : [...PROCESS_NODES_NM]) as ProcessNodeNm[];
      wholeAtLeast('--train-per-node', a['train-per-node'], 20, 'e.g. --train-per-node 3000');
      wholeAtLeast('--held-out-per-node', a['held-out-per-node'], 1, 'e.g. --held-out-per-node 350');
      if (a.workers !== undefined) wholeAtLeast('--workers', a.workers, 1, `e.g. --workers ${os.availableParallelism()}`);
      if (a['train-seed'] === a['held-out-seed']) throw new InputError('--held-out-seed', 'held-out-seed', a['held-out-seed'], 'a seed other than the training seed (held-out designs must be new)', `e.g. --held-out-seed ${a['train-seed'] + 1}`);
      const families = a.families ? (split(a.families) as Family[]) : [...FAMILIES];
      const badFamily = families.find((f) => !FAMILIES.includes(f));
      if (badFamily) throw new InputError('--families', 'families', badFamily, `families among ${FAMILIES.join(', ')}`, `e.g. --families ${FAMILIES.join(',')}`);
      const card = loadModel(io, a.model);
      const tech = loadTech(io, a.tech);
      const plan: AccuracyPlan = { dir: a.dir, nodes, trainPerNode: a['train-per-node'], heldOutPerNode: a['held-out-per-node'], trainSeed: a['train-seed'], heldOutSeed: a['held-out-seed'] };
      const base = { modelName: a.model, card, fidelity: 'fast' as const, workload: labelWorkloadFor(card).name, eventLimit: a['event-limit'], tech };
      if (!a['measure-only']) {
        const runner = new PiscinaRunner(a.workers ?? os.availableParallelism());
        let progress: ReturnType<typeof createProgress> | undefined;
        try {
          await labelAccuracySets(plan, base, runner, {
            stage: (name, total, have) => {
              progress?.finish();
              progress = createProgress(io, { label: `labelling ${card.name} (${name})`, total, unit: 'labels', quiet: a.quiet });
              progress.update(have);
            },
            label: (c) => progress?.update(c.done, `feasible ${c.ok}, infeasible ${c.infeasible}, failed ${c.failed}`),
            notice: (t) => io.stderr(`tessera: ${t}\n`),
          });
          progress?.finish();
        } finally {
          await runner.close();
        }
        if (a['label-only']) {
          io.stdout(`${a.dir}: labels done; measure with the same command without --label-only\n`);
          return;
        }
      }
      const files = accuracyFiles(a.dir);
      const note = (file: string, offset: number) => io.stderr(`tessera: ${file}: reading up to offset ${offset} (a label is being written or was in flight when a run stopped)\n`);
      const train = readLabelSets([files.train], { card, onTruncatedTail: note });
      const held = readLabelSets([files.heldOut], { card, simulatorVersion: train.header.simulatorVersion, flag: '--dir', onTruncatedTail: note });
      const ctx = { card, tech, workload: LABEL_WORKLOADS[train.header.workload.name] };
      noteSimulator(io, train.header.simulatorVersion, tech);
      const designs = a.designs ? split(a.designs).map((d) => loadDesign(io, d)) : outOfSampleDesigns(base, nodes, a['held-out-seed'] + 1000);
      const progress = createProgress(io, { label: 'accuracy', total: 0, quiet: a.quiet });
      const command = `tessera surrogate accuracy --model ${a.model} --nodes ${nodes.join(',')} --train-per-node ${plan.trainPerNode} --held-out-per-node ${plan.heldOutPerNode} --dir ${a.dir}`;
      const r = measureAccuracy(plan, ctx, { train: { labels: train.labels, simulatorVersion: train.header.simulatorVersion, workload: train.header.workload.name, model: train.header.model }, heldOut: { labels: held.labels } }, { families, designs, command, onStage: (t) => progress.update(0, t) });
      progress.finish();
      io.stdout(r.markdown);
      io.stderr(`tessera: wrote ${files.markdown}, ${files.json}, model-*.msgpack and parity-*.html in ${a.dir}\n`);
    },
  };
}

export function surrogateCommand(io: Io): CommandModule<object, object> {
  return {
    command: 'surrogate <action>',
    describe: 'Train, judge and query the surrogate model (train | eval | predict | sensitivity | compare | accuracy)',
    builder: (y: Argv) => y.command(trainCommand(io)).command(evalCommand(io)).command(predictCommand(io)).command(sensitivityCommand(io)).command(compareCommand(io)).command(accuracyCommand(io)).demandCommand(1, 'name an action: train, eval, predict, sensitivity, compare or accuracy') as Argv<object>,
    handler: () => {},
  };
}

export type { Family };
