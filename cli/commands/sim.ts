import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { loadDesign, loadModel, loadTrace } from '../load.js';
import { checkClockAgainstTable, loadTech, withTechOption } from '../techOption.js';
import { block, fmtBytes, fmtInt, fmtSi, plural, table } from '../format.js';
import { renderHtml, esc } from '../report/html.js';
import { DEFAULT_TIMELINE_EVENTS, timelineJson } from '../report/timeline.js';
import { createProgress } from '../progress.js';
import { applySets, isSweep, parseSets, sweepPoints, withSetOption } from '../overrides.js';
import { seedOption } from '../options.js';
import { EXIT } from '../exit.js';
import { simulateChip, type ChipFidelity, type InfeasibleSimResult, type SimResult, type SimProgress } from '../../sim/chip/run.js';
import { suggestFixes, type DesignFix } from '../../sim/chip/fixes.js';
import { areaText, energyPerTokenText, reticleWarning } from '../report/physical.js';
import { DesignSchema, type Design } from '../../sim/design/design.js';
import { parseInput } from '../../sim/validate/zod.js';
import { InputError } from '../../sim/validate/inputError.js';
import { ConstraintsSchema, WEIGHT_PROFILES, parseWeights, type Weights } from '../../sim/power/ppa.js';
import type { ModelCard } from '../../sim/model/card.js';
import type { TechTable } from '../../sim/tech/table.js';
import type { Trace } from '../../sim/trace/trace.js';
import { checkServeOnly, runServe, selectTrace, withServeOptions, type ServeArgs } from './simServe.js';

export interface SimArgs extends ServeArgs {
  design: string;
  model: string;
  trace: string;
  fidelity: ChipFidelity | 'serve';
  seed: number;
  requests?: number;
  json: boolean;
  quiet: boolean;
  html?: string;
  timeline?: string;
  timelineFrom?: number;
  timelineTo?: number;
  timelineMaxEvents?: number;
  tech?: string;
  set?: string[];
  batching?: 'single' | 'continuous';
  maxBatch?: number;
  prefillChunk?: number;
  microBatches?: number;
  heterogeneousTiles?: boolean;
  profile?: string;
  weights?: string;
  powerBudget?: number;
  areaBudget?: number;
  latencySlo?: number;
  reticle?: boolean;
}

/** A run's outcome: simulated, or refused because the design cannot serve the trace. */
export type SimOutcome = SimResult | InfeasibleSimResult;

/** The design with command-line serving overrides, validated like the file. */
function withServing(design: Design, a: SimArgs, name: string): Design {
  const serving = {
    ...design.serving,
    ...(a.batching ? { batching: a.batching } : {}),
    ...(a.maxBatch !== undefined ? { maxBatch: a.maxBatch } : {}),
    ...(a.prefillChunk !== undefined ? { prefillChunkTokens: a.prefillChunk } : {}),
    ...(a.microBatches !== undefined ? { microBatches: a.microBatches } : {}),
  };
  const mapping = a.heterogeneousTiles === undefined ? design.mapping : { ...design.mapping, heterogeneousTiles: a.heterogeneousTiles };
  return parseInput(DesignSchema, { ...design, serving, mapping }, name);
}

function weightsOf(a: SimArgs): Weights {
  if (a.weights !== undefined) {
    if (a.profile !== undefined) throw new InputError('command line', '--weights', a.weights, 'either --weights or --profile, not both', `drop --profile ${a.profile} or --weights`);
    const parts = String(a.weights).split(',').map((x) => x.trim());
    const values = parts.map((x) => (x === '' ? NaN : Number(x)));
    if (parts.length !== 3 || values.some((x) => !Number.isFinite(x))) throw new InputError('command line', '--weights', a.weights, 'three numbers perf,power,area that sum to 1', 'use e.g. --weights 0.5,0.3,0.2');
    return parseWeights({ perf: values[0], power: values[1], area: values[2] }, '--weights');
  }
  const profile = a.profile ?? 'default';
  const w = Object.hasOwn(WEIGHT_PROFILES, profile) ? WEIGHT_PROFILES[profile] : undefined;
  if (!w) throw new InputError('--profile', 'profile', profile, `one of ${Object.keys(WEIGHT_PROFILES).join(', ')}`, 'use --profile default or --profile low-power');
  return w;
}

const num = (x: number, d = 3) => (Number.isFinite(x) ? (Math.abs(x) >= 1000 ? fmtInt(x) : x.toPrecision(d)) : String(x));

/** A fix as the options to add to the same command. */
export function fixOptions(f: DesignFix): string {
  return f.set.map((s) => `--set ${s.path}=${s.value}`).join(' ');
}

function itlText(m: SimResult['metrics']): string {
  return m.itlMs ? `${num(m.itlMs.p50)} / ${num(m.itlMs.p99)} ms` : 'n/a (no request generated a second token)';
}

/** The mapping bound, the simulated share of it and the largest cause of the gap, in one sentence. */
function belowBoundText(r: SimResult): string {
  return `simulated rate is ${(100 * r.belowBound.fractionOfMappingBound).toFixed(1)}% of the mapping bound; largest cause of the gap: ${r.belowBound.dominantStall}`;
}

/** The terminal summary of an infeasible design: what does not fit, with numbers, and fixes. */
function renderInfeasible(r: InfeasibleSimResult, fixes: readonly DesignFix[]): string {
  const n = r.mapping.shortfalls.length;
  let out = `INFEASIBLE: the design cannot serve this trace (${plural(n, 'shortfall')}; nothing was simulated, exit code ${EXIT.infeasible})\n`;
  out += `${r.simulated}\n\n`;
  out += block('what does not fit', r.mapping.reasons.slice(0, 8).map((x, i) => [`${i + 1}`, x] as [string, string]));
  if (n > 8) out += `  ... and ${n - 8} more (--json lists them all)\n`;
  if (fixes.length) {
    out += `\nfixes (each one alone makes this run feasible, checked with the mapper; add it to the same command):\n`;
    const opts = fixes.map(fixOptions);
    const w = Math.max(...opts.map((o) => o.length));
    fixes.forEach((f, i) => (out += `  ${opts[i].padEnd(w)}  # ${f.why}\n`));
  } else out += `\nno single change of KV window, KV precision, DMEM, WMEM, batch or mesh size makes it fit: edit the design (tessera design show) or use a smaller model or trace\n`;
  out += `\narea ${num(r.metrics.areaMm2)} mm2\n`;
  return out;
}

/** The terminal summary of a run (`design` adds its description). */
export function renderSimSummary(r: SimOutcome, wallSeconds: number, design?: Design, fixes: readonly DesignFix[] = []): string {
  if (!r.feasible) return renderInfeasible(r, fixes);
  const m = r.metrics;
  let out = `${r.simulated}\n`;
  if (design?.description) out += `design ${design.name}: ${design.description}\n`;
  out += '\n';
  out += block('metrics', [
    ['tokens/s', num(m.tokensPerSecond)],
    ['TTFT p50 / p99', `${num(m.ttftMs.p50)} / ${num(m.ttftMs.p99)} ms`],
    ['inter-token p50 / p99', itlText(m)],
    ['power', `${num(m.powerW)} W (compute ${num(r.power.computeW)}, SRAM ${num(r.power.sramW)}, ROM ${num(r.power.romW)}, NoC ${num(r.power.nocW)}, leakage ${num(r.power.leakageW)})`],
    ['energy per token', energyPerTokenText(r.report.metrics)],
    ['area', areaText(r.report)],
    ['PPA score', `${num(m.ppaScore)} (higher is better; ${m.feasible ? 'meets' : 'VIOLATES'} the constraints)`],
  ]);
  const warning = reticleWarning(r.report);
  if (warning) out += `  ${warning}\n`;
  const c = r.counters;
  out += block('activity', [
    ['ROM bytes read', `${fmtBytes(c.romBytesRead)} (${fmtInt(c.romBytesRead)} B)`],
    ['KV bytes read / written', `${fmtBytes(c.kvBytesRead)} / ${fmtBytes(c.kvBytesWritten)}`],
    ['MACs', fmtSi(c.macs, 'MAC')],
    ['flits injected / ejected / replicated', `${fmtInt(c.flitsInjected)} / ${fmtInt(c.flitsEjected)} / ${fmtInt(c.flitsReplicated)}`],
  ]);
  const b = r.bounds;
  out += block(`bounds (tokens/s, decode at batch ${b.boundAt.batch}, context ${fmtInt(b.boundAt.contextTokens)})`, [
    ['compute', num(b.computeTokensPerSecond)],
    ['memory', num(b.memoryTokensPerSecond)],
    ['NoC', num(b.nocTokensPerSecond)],
    ['mapping', `${num(b.mappingTokensPerSecond)} (limited by the ${b.mappingLimitedBy}; critical path ${fmtInt(b.criticalPathCycles)} cycles, busiest tile ${fmtInt(b.busiestTileCycles)} cycles per step)`],
    ['layer-sequential', `${num(b.layerSequentialTokensPerSecond)} (regions one after the other, each at its ROM or lane limit)`],
    ['TTFT, first request', `>= ${num(b.firstTtftBoundMs)} ms: ${b.firstTtftBoundBasis} (measured p50 ${num(r.metrics.ttftMs.p50)} ms)`],
  ]);
  out += `  ${belowBoundText(r)}\n`;
  out += block('run', [
    ['simulated', `${plural(r.run.simulatedCycles, 'cycle')}, ${plural(r.run.steps, 'step')}, ${plural(r.run.generatedTokens, 'token')}, ${plural(r.run.requestsSimulated, 'request')}`],
    ['events', `${fmtInt(r.run.events)} chip + ${fmtInt(r.run.kernelEvents)} in ${plural(r.run.kernelsSimulated, 'distinct kernel run')}`],
    ['wall time', `${wallSeconds.toFixed(2)} s`],
    ['mapping', `${plural(r.mapping.regions, 'region')}, KV capacity ${plural(r.mapping.kvCapacityTokens, 'token')}`],
    ['concurrency', `at most ${plural(r.concurrency.sequences, 'sequence')} in flight${r.concurrency.kvLimited ? ` (limited by the KV capacity: it holds ${r.concurrency.kvAdmits} of the trace's requests at once; serving.maxBatch is ${r.concurrency.maxBatch})` : ''}`],
  ]);
  return out;
}

/** The HTML report: the PPA report plus a section on what was simulated, the bounds and the requests. */
export function renderSimHtml(r: SimOutcome, design?: Design, fixes: readonly DesignFix[] = []): string {
  const rows = (pairs: [string, string][]) => pairs.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('');
  const about = design?.description ? `<p><strong>Design ${esc(design.name)}:</strong> ${esc(design.description)}${design.source ? ` (source: ${esc(design.source)})` : ''}</p>` : '';
  let section: string;
  if (!r.feasible) {
    section = `<section><h2>Infeasible: nothing was simulated</h2><p>${esc(r.simulated)}</p>${about}<ul>${r.mapping.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>${fixes.length ? `<p>Fixes (each alone makes the run feasible):</p><ul>${fixes.map((f) => `<li><code>${esc(fixOptions(f))}</code>: ${esc(f.why)}</li>`).join('')}</ul>` : ''}</section>`;
  } else {
    const b = r.bounds;
    section = `<section><h2>Simulation</h2><p>${esc(r.simulated)}</p>${about}<table>${rows([
      ['tokens/s', num(r.metrics.tokensPerSecond)],
      ['TTFT p50 / p99 (ms)', `${num(r.metrics.ttftMs.p50)} / ${num(r.metrics.ttftMs.p99)}`],
      ['inter-token p50 / p99', itlText(r.metrics)],
      ['compute bound (tokens/s)', num(b.computeTokensPerSecond)],
      ['memory bound (tokens/s)', num(b.memoryTokensPerSecond)],
      ['NoC bound (tokens/s)', num(b.nocTokensPerSecond)],
      ['mapping bound (tokens/s)', num(b.mappingTokensPerSecond)],
      ['layer-sequential bound (tokens/s)', num(b.layerSequentialTokensPerSecond)],
      ['simulated cycles', fmtInt(r.run.simulatedCycles)],
      ['fidelity', r.run.fidelity],
    ])}</table><p>The ${esc(belowBoundText(r))}.</p></section>`;
  }
  const html = renderHtml(r.report);
  return html.includes('</body>') ? html.replace('</body>', `${section}</body>`) : html + section;
}

/** The JSON a script reads (docs/formats.md lists the fields). */
export function simJson(r: SimOutcome, wallSeconds: number, design: Design, fixes: readonly DesignFix[] = []): object {
  if (!r.feasible) {
    return {
      feasible: false,
      reasons: r.mapping.reasons,
      fixes: fixes.map((f) => ({ set: Object.fromEntries(f.set.map((s) => [s.path, s.value])), options: fixOptions(f), why: f.why })),
      simulated: r.simulated,
      metrics: r.metrics,
      run: { ...r.run, wallSeconds },
      mapping: r.mapping,
      design,
    };
  }
  return {
    feasible: true,
    simulated: r.simulated,
    metrics: r.metrics,
    power: r.power,
    area: r.report.area,
    counters: r.counters,
    bounds: r.bounds,
    belowBound: r.belowBound,
    run: { ...r.run, wallSeconds },
    mapping: r.mapping,
    concurrency: r.concurrency,
    requests: r.requests,
    allCounters: r.allCounters,
    design,
  };
}

/** Progress lines for one simulation (tokens generated of the trace's total), on stderr. */
function simProgress(io: Io, label: string, quiet: boolean) {
  let progress: ReturnType<typeof createProgress> | undefined;
  return {
    onProgress: (p: SimProgress) => {
      progress ??= createProgress(io, { label, total: p.tokensTotal, unit: 'tokens', quiet, delayMs: 1000 });
      progress.update(p.generatedTokens, `${p.requestsDone}/${plural(p.requestsTotal, 'request')} done`);
    },
    finish: () => progress?.finish(),
  };
}

interface RunInputs {
  card: ModelCard;
  trace: Trace;
  tech: TechTable;
  a: SimArgs;
}

/** The PPA constraints the options set (feasibility of the score). */
function constraintsOf(a: SimArgs) {
  return parseInput(ConstraintsSchema, Object.fromEntries(Object.entries({ powerBudgetW: a.powerBudget, areaBudgetMm2: a.areaBudget, latencySloMs: a.latencySlo, maxDies: a.reticle ? 1 : undefined }).filter(([, v]) => v !== undefined)), 'constraint options');
}

function runOne(io: Io, { card, trace, tech, a }: RunInputs, design: Design, label: string, recordTimeline: boolean) {
  const constraints = constraintsOf(a);
  const progress = simProgress(io, label, a.quiet);
  const t0 = performance.now();
  const out = simulateChip({ card, design, trace, tech, fidelity: a.fidelity as ChipFidelity, seed: a.seed, recordTimeline, weights: weightsOf(a), constraints, names: { design: a.design, model: a.model, trace: a.trace }, onProgress: progress.onProgress });
  progress.finish();
  const fixes = out.result.feasible ? [] : suggestFixes(card, design, trace);
  return { ...out, fixes, wall: (performance.now() - t0) / 1000 };
}

function checkTimelineOptions(a: SimArgs): void {
  for (const [flag, v] of [['--timeline-from', a.timelineFrom], ['--timeline-to', a.timelineTo]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new InputError('command line', flag, v, 'a time in ms >= 0', `e.g. ${flag} 5`);
    if (v !== undefined && !a.timeline) throw new InputError('command line', flag, v, 'only with --timeline FILE', `add --timeline t.json or drop ${flag}`);
  }
  if (a.timelineFrom !== undefined && a.timelineTo !== undefined && a.timelineTo <= a.timelineFrom) throw new InputError('command line', '--timeline-to', a.timelineTo, `after --timeline-from (${a.timelineFrom} ms)`, 'give a window FROM < TO');
  const max = a.timelineMaxEvents;
  if (max !== undefined && !(Number.isInteger(max) && max >= 1 && max <= 50_000_000)) throw new InputError('command line', '--timeline-max-events', max, 'an integer in 1..50000000', `e.g. --timeline-max-events ${DEFAULT_TIMELINE_EVENTS}`);
}

/** One row per sweep point: the swept values, then the headline metrics. */
function sweepTable(paths: readonly string[], rows: { values: readonly unknown[]; r: SimOutcome }[]): string {
  const cell = (v: number | null | undefined, d = 3) => (v === null || v === undefined ? '-' : num(v, d));
  return table(
    rows.map(({ values, r }) => [
      ...values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
      r.feasible ? 'yes' : 'INFEASIBLE',
      cell(r.metrics.tokensPerSecond),
      cell(r.metrics.ttftMs?.p50),
      cell(r.metrics.itlMs?.p50),
      cell(r.metrics.powerW),
      cell(r.metrics.energyPerTokenJ === null ? null : r.metrics.energyPerTokenJ * 1000),
      cell(r.metrics.areaMm2),
      cell(r.metrics.ppaScore),
    ]),
    [...paths, 'feasible', 'tokens/s', 'TTFT p50 ms', 'ITL p50 ms', 'power W', 'mJ/token', 'area mm2', 'PPA'],
  );
}

export function simCommand(io: Io, setExit: (code: number) => void): CommandModule<object, SimArgs> {
  return {
    command: 'sim',
    builder: (y: Argv) =>
      withServeOptions(
        withSetOption(
          withTechOption(
          y
            .option('design', { type: 'string', demandOption: true, describe: 'design file or preset (tessera list)' })
            .option('model', { type: 'string', demandOption: true, describe: 'model card, HuggingFace config.json or built-in model' })
            .option('trace', { type: 'string', demandOption: true, describe: 'trace file, built-in trace or generator (decode:N@C, prefill:P, ...)' })
            .option('fidelity', { choices: ['fast', 'flit', 'detailed', 'serve'] as const, default: 'fast' as const, describe: 'fast: fast tiles + message NoC; flit: fast tiles + flit NoC; detailed: detailed tiles + flit NoC; serve: iteration-level serving with step times from simulated steps (whole traces, docs/serving.md)' })
            .option('seed', seedOption)
            .option('requests', { type: 'number', describe: 'simulate only the first N requests of the trace' })
            .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON (with the resolved design)' })
            .option('quiet', { type: 'boolean', default: false, describe: 'no progress lines on stderr' })
            .option('html', { type: 'string', describe: 'write the HTML report to this file' })
            .option('timeline', { type: 'string', describe: 'write a Chrome/Perfetto trace-event timeline (tile tasks and NoC messages) to this file' })
            .option('timeline-from', { type: 'number', describe: 'timeline window start in ms of simulated time (default 0)' })
            .option('timeline-to', { type: 'number', describe: 'timeline window end in ms of simulated time (default: the end of the run)' })
            .option('timeline-max-events', { type: 'number', describe: `most events in the timeline file (default ${DEFAULT_TIMELINE_EVENTS.toLocaleString('en-US')}); the summary says what a cap dropped` })
            .option('batching', { choices: ['single', 'continuous'] as const, describe: "override the design's serving.batching" })
            .option('max-batch', { type: 'number', describe: 'override serving.maxBatch' })
            .option('prefill-chunk', { type: 'number', describe: 'override serving.prefillChunkTokens' })
            .option('micro-batches', { type: 'number', describe: 'override serving.microBatches' })
            .option('heterogeneous-tiles', { type: 'boolean', describe: "size each tile's WMEM, DMEM, VLEN and FETCH from its share of the work (mapping.heterogeneousTiles)" })
            .option('profile', { type: 'string', describe: 'PPA weight profile: default (0.4/0.4/0.2, the default) or low-power (0.2/0.6/0.2)' })
            .option('weights', { type: 'string', describe: 'PPA weights perf,power,area (sum to 1), e.g. 0.5,0.3,0.2' })
            .option('power-budget', { type: 'number', describe: 'power budget in W (feasibility)' })
            .option('area-budget', { type: 'number', describe: 'area budget in mm2 (feasibility)' })
            .option('latency-slo', { type: 'number', describe: 'p99 inter-token latency SLO in ms (feasibility)' })
            .option('reticle', { type: 'boolean', describe: 'the design must fit one reticle (constraint maxDies = 1; the search default, off for the paper presets)' }),
          ),
        ),
      ) as unknown as Argv<SimArgs>,
    handler: (a) => {
      if (a.requests !== undefined && !(Number.isInteger(a.requests) && a.requests >= 1)) {
        throw new InputError('--requests', 'requests', a.requests, 'a whole number >= 1', 'e.g. --requests 20');
      }
      checkTimelineOptions(a);
      const sets = parseSets(a.set);
      const card = loadModel(io, a.model);
      checkServeOnly(a);
      const base = loadDesign(io, a.design);
      const trace: Trace = selectTrace(loadTrace(io, a.trace, a.seed), a, a.seed);
      const tech = loadTech(io, a.tech);
      const inputs = { card, trace, tech, a };
      const designAt = (assignments: Parameters<typeof applySets>[1]) => {
        const d = withServing(applySets(base, assignments, a.design), a, a.design);
        checkClockAgainstTable(d, tech, a.tech, a.design);
        return d;
      };

      if (a.fidelity === 'serve') {
        if (isSweep(sets)) throw new InputError('--set', 'sweep', sets.find((s) => s.values.length > 1)!.text, '--fidelity serve takes one design, not a sweep', 'give one value per --set, or run each design on its own');
        const design = designAt(sweepPoints(sets)[0].assignments);
        return runServe(io, a, { card, design, trace, tech, seed: a.seed, weights: weightsOf(a), constraints: constraintsOf(a), names: { design: a.design, model: a.model, trace: a.trace } }, setExit);
      }
      if (isSweep(sets)) {
        if (a.html || a.timeline) throw new InputError('--set', 'sweep', sets.find((s) => s.values.length > 1)!.text, '--html and --timeline take one design, not a sweep', 'give one value per --set, or drop --html/--timeline');
        const points = sweepPoints(sets);
        const designs = points.map((p) => designAt(p.assignments));
        const rows = points.map((p, i) => ({ values: p.assignments.map((x) => x.value), label: p.label, design: designs[i], ...runOne(io, inputs, designs[i], `sim [${i + 1}/${points.length}] ${p.label}`, false) }));
        if (rows.some((r) => !r.result.feasible)) setExit(EXIT.infeasible);
        const paths = sets.map((s) => s.path.join('.'));
        if (a.json) io.stdout(`${JSON.stringify({ sweep: paths, runs: rows.map((r) => ({ set: Object.fromEntries(paths.map((p, k) => [p, r.values[k]])), ...simJson(r.result, r.wall, r.design, r.fixes) })) }, null, 2)}\n`);
        else {
          io.stdout(`sweep of ${plural(rows.length, 'design')}: ${a.model} on ${a.design} with ${sets.map((s) => s.text).join(' ')}, trace ${a.trace} (${plural(trace.requests.length, 'request')}), fidelity ${a.fidelity}\n\n`);
          io.stdout(sweepTable(paths, rows.map((r) => ({ values: r.values, r: r.result }))));
          const bad = rows.filter((r) => !r.result.feasible);
          if (bad.length) io.stdout(`\n${plural(bad.length, 'design')} infeasible (exit code ${EXIT.infeasible}); run one alone for the reasons and fixes\n`);
        }
        return;
      }

      const design = designAt(sweepPoints(sets)[0].assignments);
      const { result, engine, fixes, wall } = runOne(io, inputs, design, `sim ${a.trace}`, !!a.timeline);
      if (!result.feasible) setExit(EXIT.infeasible);
      if (a.html) io.writeFile(a.html, renderSimHtml(result, design, fixes));
      let timelineNote = '';
      if (a.timeline) {
        if (engine) {
          const { json, stats } = timelineJson(engine, design.clockMHz, design.mesh.cols, { fromMs: a.timelineFrom, toMs: a.timelineTo, maxEvents: a.timelineMaxEvents });
          io.writeFile(a.timeline, json);
          const window = `${num(stats.fromMs)}-${num(stats.toMs)} ms`;
          timelineNote = `timeline written to ${a.timeline} (open in ui.perfetto.dev): ${plural(stats.tasks, 'tile task')} and ${plural(stats.messages, 'NoC message')} from ${window}\n`;
          if (stats.droppedTasks + stats.droppedMessages > 0) {
            timelineNote += `timeline cap of ${fmtInt(stats.maxEvents)} events reached at ${num(stats.completeToMs)} ms: dropped ${plural(stats.droppedTasks, 'tile task')} and ${plural(stats.droppedMessages, 'NoC message')} after it; see the rest with --timeline-from ${num(stats.completeToMs)} or raise --timeline-max-events\n`;
          }
        } else timelineNote = 'no timeline written: the design is infeasible, nothing was simulated\n';
      }
      if (a.json) io.stdout(`${JSON.stringify(simJson(result, wall, design, fixes), null, 2)}\n`);
      else {
        io.stdout(renderSimSummary(result, wall, design, fixes));
        if (a.html) io.stdout(`report written to ${a.html}\n`);
      }
      // with --json, stdout is the JSON alone: notes go to stderr
      if (timelineNote && a.json) io.stderr(timelineNote);
      else if (timelineNote) io.stdout(timelineNote);
    },
  };
}
