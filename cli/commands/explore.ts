import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { loadDesign, loadModel } from '../load.js';
import { loadTech, withTechOption } from '../techOption.js';
import { createProgress } from '../progress.js';
import { InputError } from '../../sim/validate/inputError.js';
import { PROCESS_NODES_NM, type ProcessNodeNm } from '../../sim/tech/nodes.js';
import { SEARCH_DEFAULT_CONSTRAINTS, WEIGHT_PROFILES, type Constraints } from '../../sim/power/ppa.js';
import type { ChipFidelity } from '../../sim/chip/run.js';
import { labelWorkloadFor } from '../../search/workload.js';
import { SPACE_VERSION } from '../../search/space.js';
import { simulatorVersion } from '../../search/version.js';
import { modelHash } from '../../search/label/run.js';
import { PiscinaRunner } from '../../search/label/pool.js';
import { parseFreeze } from '../../search/env/actions.js';
import { REWARD_DEFAULTS } from '../../search/env/evaluate.js';
import { PAPER_SIZES, SAC_DEFAULTS, type SacArgs } from '../../search/sac/sac.js';
import { FINE_TUNE_DEFAULTS } from '../../search/surrogate/finetune.js';
import { ALGORITHMS, type AlgorithmName } from '../../search/explore/algorithm.js';
import { BUDGET_DEFAULTS, planBudget } from '../../search/explore/budget.js';
import { prepareSurrogate } from '../../search/explore/prepare.js';
import { runAll } from '../../search/explore/coordinator.js';
import type { RunProgress, RunSpec } from '../../search/explore/run.js';
import { buildSummary } from '../../search/explore/summary.js';
import { openRunFolder, writeRunFolder, type Manifest } from '../../search/explore/output.js';
import { renderExploreReport } from '../report/explore.js';
import { DEFAULT_EVENT_LIMIT, parseNodes } from './label.js';
import { seedOption } from '../options.js';

/**
 * `tessera explore` (docs/explore.md): SAC and the baselines search the design space of a
 * model over process nodes against the surrogate, with simulator spot checks; every result
 * it reports is simulated. A thin shell: options are checked here (one-line errors), the
 * work is `search/explore/`.
 */

interface ExploreArgs {
  model?: string;
  nodes?: string;
  episodes?: number;
  'episode-steps'?: number;
  'sim-budget'?: number;
  'spot-check-every'?: number;
  workers?: number;
  seed: number;
  seeds?: number;
  algo: string;
  profile: string;
  'power-budget'?: number;
  'area-budget'?: number;
  'latency-slo'?: number;
  'ttft-slo'?: number;
  'max-dies'?: number;
  out?: string;
  resume: boolean;
  labels?: string;
  surrogate?: string;
  'initial-labels'?: number;
  'surrogate-steps'?: number;
  'fine-tune-steps'?: number;
  design?: string;
  freeze?: string;
  'paper-sizes': boolean;
  hidden?: number;
  batch?: number;
  'updates-per-step'?: number;
  moe: boolean;
  per: boolean;
  mpc: boolean;
  fidelity?: ChipFidelity;
  'event-limit'?: number;
  tech?: string;
  quiet: boolean;
}

const split = (s: string) => String(s).split(',').map((x) => x.trim()).filter(Boolean);

function whole(flag: string, v: number | undefined, min: number, fix: string): void {
  if (v !== undefined && !(Number.isSafeInteger(v) && v >= min)) throw new InputError('command line', flag, v, `a whole number >= ${min}`, fix);
}

function positive(flag: string, v: number | undefined, fix: string): void {
  if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new InputError('command line', flag, v, 'a positive number', fix);
}

export function parseAlgorithms(text: string): AlgorithmName[] {
  const parts = split(text);
  if (parts.includes('all')) return [...ALGORITHMS];
  const bad = parts.find((p) => !(ALGORITHMS as readonly string[]).includes(p));
  if (bad !== undefined || !parts.length) throw new InputError('command line', '--algo', bad ?? text, `one or more of ${ALGORITHMS.join(', ')}, or all`, 'e.g. --algo sac,random,ga');
  return [...new Set(parts)] as AlgorithmName[];
}

function sacArgs(a: ExploreArgs, totalSteps: number): SacArgs {
  const base = { ...SAC_DEFAULTS, ...(a['paper-sizes'] ? PAPER_SIZES : {}) };
  return {
    ...base,
    hidden: a.hidden ?? base.hidden,
    batch: a.batch ?? base.batch,
    updatesPerStep: a['updates-per-step'] ?? base.updatesPerStep,
    experts: a.moe ? base.experts : 1,
    per: a.per,
    worldModel: a.mpc,
    // the paper's 1,000 warm-up steps, at most a tenth of a short run
    warmupSteps: Math.min(base.warmupSteps, Math.max(1, Math.floor(totalSteps / 10))),
    mpcMinUpdates: Math.min(base.mpcMinUpdates, Math.max(1, Math.floor(totalSteps / 20))),
  };
}

function constraintsOf(a: ExploreArgs): Constraints {
  const dies = a['max-dies'] === undefined ? SEARCH_DEFAULT_CONSTRAINTS.maxDies : a['max-dies'] === 0 ? undefined : a['max-dies'];
  return { ...(a['power-budget'] ? { powerBudgetW: a['power-budget'] } : {}), ...(a['area-budget'] ? { areaBudgetMm2: a['area-budget'] } : {}), ...(a['latency-slo'] ? { latencySloMs: a['latency-slo'] } : {}), ...(a['ttft-slo'] ? { ttftSloMs: a['ttft-slo'] } : {}), ...(dies ? { maxDies: dies } : {}) };
}

function builder(y: Argv): Argv<ExploreArgs> {
  return withTechOption(
    y
      .option('model', { type: 'string', describe: 'model card or built-in model (required)' })
      .option('nodes', { type: 'string', describe: 'process nodes, comma-separated (default: all seven)' })
      .option('episodes', { type: 'number', describe: `episodes per node (default ${BUDGET_DEFAULTS.episodesPerNode}; x --episode-steps = surrogate evaluations per node)` })
      .option('episode-steps', { type: 'number', describe: `steps per episode (default ${BUDGET_DEFAULTS.episodeSteps})` })
      .option('sim-budget', { type: 'number', describe: `simulator calls per node and algorithm (default ${BUDGET_DEFAULTS.simBudgetPerNode})` })
      .option('spot-check-every', { type: 'number', describe: `episodes between spot checks (default ${BUDGET_DEFAULTS.spotCheckEvery})` })
      .option('workers', { type: 'number', describe: 'worker threads for simulations, and for runs side by side (default: the number of cores)' })
      .option('seed', seedOption)
      .option('seeds', { type: 'number', describe: 'seeds per algorithm: --seed, --seed + 1, ... (default 1)' })
      .option('algo', { type: 'string', default: 'sac', describe: 'sac, random, grid, ga, comma-separated, or all' })
      .option('profile', { choices: Object.keys(WEIGHT_PROFILES), default: 'default', describe: 'PPA weights: default (0.4, 0.4, 0.2) or low-power (0.2, 0.6, 0.2)' })
      .option('power-budget', { type: 'number', describe: 'power budget (W): a penalty above it' })
      .option('area-budget', { type: 'number', describe: 'area budget (mm2)' })
      .option('latency-slo', { type: 'number', describe: 'p99 inter-token latency SLO (ms)' })
      .option('ttft-slo', { type: 'number', describe: 'p99 TTFT SLO (ms)' })
      .option('max-dies', { type: 'number', describe: 'reticle-sized dies a design may need (default 1: one reticle; 0: no limit)' })
      .option('out', { type: 'string', describe: 'run folder to create (required; never overwritten)' })
      .option('resume', { type: 'boolean', default: false, describe: 'continue the run folder --out from its checkpoints' })
      .option('labels', { type: 'string', describe: 'label files the surrogate trains on (comma-separated)' })
      .option('surrogate', { type: 'string', describe: 'a trained surrogate model file to start from (its labels from --labels for fine-tuning)' })
      .option('initial-labels', { type: 'number', describe: 'without --labels or --surrogate: designs per node to label first (default 64)' })
      .option('surrogate-steps', { type: 'number', describe: 'training steps per ensemble member of the initial surrogate (default 3000)' })
      .option('fine-tune-steps', { type: 'number', describe: `Adam steps per ensemble member when the surrogate is fine-tuned after a spot check (default ${FINE_TUNE_DEFAULTS.steps})` })
      .option('design', { type: 'string', describe: 'start design (file or preset): episodes start there; --freeze keeps its dimensions' })
      .option('freeze', { type: 'string', describe: 'dimensions kept at --design\'s values: paths or groups (mesh, clock, tile, noc, precision, mapping, serving, chip)' })
      .option('paper-sizes', { type: 'boolean', default: false, describe: "the paper's SAC sizes: 256x256 networks, batch 256, one update per step" })
      .option('hidden', { type: 'number', describe: `SAC hidden units (default ${SAC_DEFAULTS.hidden})` })
      .option('batch', { type: 'number', describe: `SAC batch (default ${SAC_DEFAULTS.batch})` })
      .option('updates-per-step', { type: 'number', describe: `SAC gradient updates per environment step (default ${SAC_DEFAULTS.updatesPerStep})` })
      .option('moe', { type: 'boolean', default: true, describe: 'mixture-of-experts actor (--no-moe: one expert)' })
      .option('per', { type: 'boolean', default: true, describe: 'prioritised replay (--no-per: uniform)' })
      .option('mpc', { type: 'boolean', default: true, describe: 'world model and MPC look-ahead (--no-mpc: off)' })
      .option('fidelity', { choices: ['fast', 'flit', 'detailed'] as const, describe: 'simulator fidelity of spot checks and final simulations (default fast)' })
      .option('event-limit', { type: 'number', describe: `chip events per simulation at most (default ${DEFAULT_EVENT_LIMIT})` })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress on stderr' }),
  ) as unknown as Argv<ExploreArgs>;
}

export function exploreCommand(io: Io): CommandModule<object, ExploreArgs> {
  return {
    command: 'explore',
    describe: 'Search designs with SAC (and baselines) against the surrogate, with simulator spot checks',
    builder,
    handler: async (args) => {
      // an option given twice: the last one counts (as in most command-line tools)
      const a = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, Array.isArray(v) ? v[v.length - 1] : v])) as unknown as ExploreArgs;
      if (a.model === undefined) throw new InputError('command line', '--model', undefined, 'a model card or built-in model', 'e.g. --model llama-3.1-8b');
      if (a.out === undefined) throw new InputError('command line', '--out', undefined, 'a run folder to create', 'e.g. --out runs/llama');
      whole('--workers', a.workers, 1, `e.g. --workers ${os.availableParallelism()}`);
      whole('--seeds', a.seeds, 1, 'e.g. --seeds 5');
      whole('--initial-labels', a['initial-labels'], 20, 'e.g. --initial-labels 64 (the surrogate needs at least 20 labels)');
      whole('--surrogate-steps', a['surrogate-steps'], 1, 'e.g. --surrogate-steps 3000');
      whole('--fine-tune-steps', a['fine-tune-steps'], 0, `e.g. --fine-tune-steps ${FINE_TUNE_DEFAULTS.steps}`);
      whole('--hidden', a.hidden, 2, 'e.g. --hidden 64');
      whole('--batch', a.batch, 2, 'e.g. --batch 64');
      whole('--max-dies', a['max-dies'], 0, 'e.g. --max-dies 1 (0: no limit)');
      whole('--event-limit', a['event-limit'], 1, `e.g. --event-limit ${DEFAULT_EVENT_LIMIT}`);
      for (const f of ['power-budget', 'area-budget', 'latency-slo', 'ttft-slo', 'updates-per-step'] as const) positive(`--${f}`, a[f], `e.g. --${f} 1`);
      const nodes = a.nodes !== undefined ? parseNodes(a.nodes) : [...PROCESS_NODES_NM];
      const algos = parseAlgorithms(a.algo);
      const budget = { episodesPerNode: a.episodes ?? BUDGET_DEFAULTS.episodesPerNode, episodeSteps: a['episode-steps'] ?? BUDGET_DEFAULTS.episodeSteps, spotCheckEvery: a['spot-check-every'] ?? Math.max(1, Math.min(BUDGET_DEFAULTS.spotCheckEvery, Math.floor((a.episodes ?? BUDGET_DEFAULTS.episodesPerNode) / 20))), simBudgetPerNode: a['sim-budget'] ?? BUDGET_DEFAULTS.simBudgetPerNode };
      const plan = planBudget(budget);
      const freeze = parseFreeze(a.freeze);
      if (freeze.length && !a.design) throw new InputError('command line', '--freeze', a.freeze, 'frozen dimensions keep the values of a start design', 'add --design FILE|PRESET');
      const card = loadModel(io, a.model);
      const tech = loadTech(io, a.tech);
      const start = a.design ? loadDesign(io, a.design) : undefined;
      const workload = labelWorkloadFor(card).name;
      const seeds = Array.from({ length: a.seeds ?? 1 }, (_, i) => a.seed + i);
      const constraints = constraintsOf(a);
      const weights = WEIGHT_PROFILES[a.profile];
      const sac = sacArgs(a, plan.episodesPerNode * plan.episodeSteps * nodes.length);
      const workers = a.workers ?? os.availableParallelism();
      const labelSettings = { modelName: a.model, card, nodes, seed: 1, fidelity: a.fidelity ?? 'fast', workload, eventLimit: a['event-limit'] ?? DEFAULT_EVENT_LIMIT, tech };
      const surrogatePlan = { labels: a.labels ? split(a.labels) : undefined, surrogate: a.surrogate, initialLabelsPerNode: a['initial-labels'] ?? 64, family: 'mlp-ensemble' as const, steps: a['surrogate-steps'], seed: a.seed };
      const manifest: Manifest = {
        kind: 'tessera-explore',
        formatVersion: 1,
        model: { name: card.name, hash: modelHash(card) },
        spaceVersion: SPACE_VERSION,
        simulatorVersion: simulatorVersion(tech),
        settings: { nodes, algo: algos, seed: a.seed, seeds: seeds.length, budget, profile: a.profile, constraints, sac, freeze, design: start ?? null, fidelity: labelSettings.fidelity, 'fine-tune-steps': a['fine-tune-steps'] ?? FINE_TUNE_DEFAULTS.steps, 'event-limit': labelSettings.eventLimit, surrogate: { ...surrogatePlan, seed: undefined } },
      };
      openRunFolder(a.out, manifest, a.resume);

      const runner = new PiscinaRunner(workers);
      const t0 = io.now?.() ?? Date.now();
      try {
        const labelling = createProgress(io, { label: `labelling ${card.name} for the surrogate`, total: surrogatePlan.initialLabelsPerNode * nodes.length, unit: 'labels', quiet: a.quiet || !!a.labels || !!a.surrogate, delayMs: 0 });
        const prepared = await prepareSurrogate({ out: a.out, resume: a.resume, settings: labelSettings, plan: surrogatePlan, runner, onNotice: (t) => io.stderr(`tessera: ${t}\n`), onLabel: (c) => labelling.update(c.done, `feasible ${c.ok}, infeasible ${c.infeasible}, failed ${c.failed}`) });
        labelling.finish();
        const specs: RunSpec[] = algos.flatMap((algo) =>
          seeds.map((seed) => ({ runId: `${algo}-s${seed}`, algo, seed, modelName: a.model!, card, tech, workload, nodes, budget, weights, constraints, reward: REWARD_DEFAULTS, sac, surrogate: prepared.bundle, baseLabels: prepared.baseLabels, fineTune: { ...FINE_TUNE_DEFAULTS, steps: a['fine-tune-steps'] ?? FINE_TUNE_DEFAULTS.steps }, archiveSize: 256, start, freeze })),
        );
        const progress = createProgress(io, { label: 'explore', total: plan.episodesPerNode * nodes.length * specs.length, unit: 'episodes', quiet: a.quiet });
        const done = new Map<string, number>();
        const perNode = new Map<number, { best: number | null; err: number | null }>();
        const onProgress = (p: RunProgress) => {
          done.set(`${p.runId}/${p.node}`, p.episodes);
          const n = perNode.get(p.node) ?? { best: null, err: null };
          perNode.set(p.node, { best: p.bestSimulatedScore === null ? n.best : Math.max(n.best ?? -Infinity, p.bestSimulatedScore), err: p.surrogateMapeTokens ?? n.err });
          const detail = nodes.map((node) => {
            const s = perNode.get(node);
            // episodes of every run at this node (runs wait their turn in the pool, so a minimum would sit at 0)
            const eps = specs.reduce((sum, sp) => sum + (done.get(`${sp.runId}/${node}`) ?? 0), 0);
            return `${node}nm ep ${eps}/${plan.episodesPerNode * specs.length} best ${s?.best === null || s?.best === undefined ? '-' : s.best.toFixed(3)} err ${s?.err === null || s?.err === undefined ? '-' : `${s.err.toFixed(0)}%`}`;
          });
          progress.update([...done.values()].reduce((x, y) => x + y, 0), detail.join('; '));
        };
        const wallSeconds = new Map<string, number>();
        const results = await runAll({ out: a.out, specs, labelSettings, runner, workers, resume: a.resume, onProgress, onRunWall: (id, s) => wallSeconds.set(id, s) });
        const wall = (io.now?.() ?? Date.now()) - t0;
        progress.finish(`${specs.length} run(s) done`);
        const summary = buildSummary(card.name, results, wallSeconds);
        const extras = {
          constraints,
          weights,
          sac,
          surrogate: { ...prepared.source, family: prepared.bundle.family, simulatorVersion: prepared.bundle.simulatorVersion },
          simulatorVersion: manifest.simulatorVersion,
          spaceVersion: SPACE_VERSION,
          wallSeconds: wall / 1000,
          notes: ['wallSeconds of a run is its own wall time in this invocation, from its start to its end (runs side by side share the machine; one agent serves every node); the top-level wallSeconds is the whole command', constraints.maxDies ? `the reticle limit is on (at most ${constraints.maxDies} die${constraints.maxDies === 1 ? '' : 's'}); --max-dies 0 lifts it` : 'no die limit (--max-dies 0)'],
        };
        writeRunFolder(a.out, summary, results, extras);
        fs.writeFileSync(path.join(a.out, 'report.html'), renderExploreReport({ summary, results, card, tech, workload, constraints, extras }));
        io.stdout(renderTable(summary, a.out));
      } finally {
        await runner.close();
      }
    },
  };
}

function renderTable(s: ReturnType<typeof buildSummary>, out: string): string {
  const lines = [`explore ${s.model}: best simulated PPA score per node and algorithm (mean over ${s.seeds.length} seed${s.seeds.length === 1 ? '' : 's'} in brackets); run folder ${out}`];
  for (const node of s.nodes) {
    const parts = s.algorithms.map((algo) => {
      const e = s.perNode[node][algo];
      const fmt = (x: number | null) => (x === null ? '-' : x.toFixed(4));
      return `${algo} ${fmt(e.bestSimulatedPpaScore)}${s.seeds.length > 1 ? ` [${fmt(e.meanBestScore)}]` : ''}`;
    });
    lines.push(`  ${String(node).padStart(2)} nm: ${parts.join(', ')}`);
  }
  lines.push(`  summary.json, report.html and the best designs (designs/best-<node>nm.json) are in ${out}`);
  return `${lines.join('\n')}\n`;
}
