import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { loadDesign, loadModel, loadTrace } from '../load.js';
import { checkClockAgainstTable, loadTech, withTechOption } from '../techOption.js';
import { block, fmtBytes, fmtInt, fmtSi } from '../format.js';
import { renderHtml, esc } from '../report/html.js';
import { timelineJson } from '../report/timeline.js';
import { simulateChip, type ChipFidelity, type SimResult } from '../../sim/chip/run.js';
import { DesignSchema, type Design } from '../../sim/design/design.js';
import { parseInput } from '../../sim/validate/zod.js';
import { InputError } from '../../sim/validate/inputError.js';
import { ConstraintsSchema, WEIGHT_PROFILES, parseWeights, type Weights } from '../../sim/power/ppa.js';
import type { Trace } from '../../sim/trace/trace.js';

export interface SimArgs {
  design: string;
  model: string;
  trace: string;
  fidelity: ChipFidelity;
  seed: number;
  requests?: number;
  json: boolean;
  html?: string;
  timeline?: string;
  tech?: string;
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
}

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

/** The terminal summary of a run. */
export function renderSimSummary(r: SimResult, wallSeconds: number): string {
  const m = r.metrics;
  let out = `${r.simulated}\n\n`;
  if (!r.mapping.feasible) {
    out += block('INFEASIBLE', r.mapping.reasons.slice(0, 8).map((x, i) => [`${i + 1}`, x] as [string, string]));
    out += `  area ${num(m.areaMm2)} mm2, PPA score ${num(m.ppaScore)}\n`;
    return out;
  }
  out += block('metrics', [
    ['tokens/s', num(m.tokensPerSecond)],
    ['TTFT p50 / p99', `${num(m.ttftMs.p50)} / ${num(m.ttftMs.p99)} ms`],
    ['inter-token p50 / p99', `${num(m.itlMs.p50)} / ${num(m.itlMs.p99)} ms`],
    ['power', `${num(m.powerW)} W (compute ${num(r.power.computeW)}, SRAM ${num(r.power.sramW)}, ROM ${num(r.power.romW)}, NoC ${num(r.power.nocW)}, leakage ${num(r.power.leakageW)})`],
    ['energy per token', `${num(m.energyPerTokenJ * 1000)} mJ`],
    ['area', `${num(m.areaMm2)} mm2`],
    ['PPA score', `${num(m.ppaScore)} (higher is better; ${m.feasible ? 'meets' : 'VIOLATES'} the constraints)`],
  ]);
  const c = r.counters;
  out += block('activity', [
    ['ROM bytes read', `${fmtBytes(c.romBytesRead)} (${fmtInt(c.romBytesRead)} B)`],
    ['KV bytes read / written', `${fmtBytes(c.kvBytesRead)} / ${fmtBytes(c.kvBytesWritten)}`],
    ['MACs', fmtSi(c.macs, 'MAC')],
    ['flits injected / ejected / replicated', `${fmtInt(c.flitsInjected)} / ${fmtInt(c.flitsEjected)} / ${fmtInt(c.flitsReplicated)}`],
  ]);
  const b = r.bounds;
  out += block(`bounds (tokens/s, decode at batch ${b.boundAt.batch}, context ${b.boundAt.contextTokens})`, [
    ['compute', num(b.computeTokensPerSecond)],
    ['memory', num(b.memoryTokensPerSecond)],
    ['NoC', num(b.nocTokensPerSecond)],
    ['mapping', `${num(b.mappingTokensPerSecond)} (limited by the ${b.mappingLimitedBy}; critical path ${fmtInt(b.criticalPathCycles)} cycles, busiest tile ${fmtInt(b.busiestTileCycles)} cycles per step)`],
  ]);
  if (r.belowBound) {
    out += `  simulated rate is ${(100 * r.belowBound.fractionOfMappingBound).toFixed(1)}% of the mapping bound; largest stall: ${r.belowBound.dominantStall}\n`;
  }
  out += block('run', [
    ['simulated', `${fmtInt(r.run.simulatedCycles)} cycles, ${fmtInt(r.run.steps)} steps, ${fmtInt(r.run.generatedTokens)} tokens, ${r.run.requestsSimulated} requests`],
    ['events', `${fmtInt(r.run.events)} chip + ${fmtInt(r.run.kernelEvents)} in ${fmtInt(r.run.kernelsSimulated)} distinct kernel runs`],
    ['wall time', `${wallSeconds.toFixed(2)} s`],
    ['mapping', `${r.mapping.regions} regions, KV capacity ${fmtInt(r.mapping.kvCapacityTokens)} tokens`],
  ]);
  return out;
}

/** The HTML report: the PPA report plus a section on what was simulated, the bounds and the requests. */
export function renderSimHtml(r: SimResult): string {
  const rows = (pairs: [string, string][]) => pairs.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('');
  const b = r.bounds;
  const section = `<section><h2>Simulation</h2><p>${esc(r.simulated)}</p><table>${rows([
    ['tokens/s', num(r.metrics.tokensPerSecond)],
    ['TTFT p50 / p99 (ms)', `${num(r.metrics.ttftMs.p50)} / ${num(r.metrics.ttftMs.p99)}`],
    ['inter-token p50 / p99 (ms)', `${num(r.metrics.itlMs.p50)} / ${num(r.metrics.itlMs.p99)}`],
    ['compute bound (tokens/s)', num(b.computeTokensPerSecond)],
    ['memory bound (tokens/s)', num(b.memoryTokensPerSecond)],
    ['NoC bound (tokens/s)', num(b.nocTokensPerSecond)],
    ['mapping bound (tokens/s)', num(b.mappingTokensPerSecond)],
    ['simulated cycles', fmtInt(r.run.simulatedCycles)],
    ['fidelity', r.run.fidelity],
  ])}</table>${r.belowBound ? `<p>The simulated rate is ${(100 * r.belowBound.fractionOfMappingBound).toFixed(1)}% of the mapping bound; the largest stall is ${esc(r.belowBound.dominantStall)}.</p>` : ''}${r.mapping.feasible ? '' : `<p><strong>Infeasible:</strong> ${esc(r.mapping.reasons.join('; '))}</p>`}</section>`;
  const html = renderHtml(r.report);
  return html.includes('</body>') ? html.replace('</body>', `${section}</body>`) : html + section;
}

/** The JSON a script reads (docs/chip.md lists the fields). */
export function simJson(r: SimResult, wallSeconds: number): object {
  return {
    simulated: r.simulated,
    metrics: r.metrics,
    power: r.power,
    counters: r.counters,
    bounds: r.bounds,
    run: { ...r.run, wallSeconds },
    mapping: r.mapping,
    ...(r.belowBound ? { belowBound: r.belowBound } : {}),
    requests: r.requests,
    allCounters: r.allCounters,
  };
}

export function simCommand(io: Io): CommandModule<object, SimArgs> {
  return {
    command: 'sim',
    describe: 'Simulate a design serving a model on a token trace: tokens/s, TTFT, inter-token latency, power, energy, area, PPA',
    builder: (y: Argv) =>
      withTechOption(
        y
          .option('design', { type: 'string', demandOption: true, describe: 'design file or preset (tessera list)' })
          .option('model', { type: 'string', demandOption: true, describe: 'model card, HuggingFace config.json or built-in model' })
          .option('trace', { type: 'string', demandOption: true, describe: 'trace file, built-in trace or generator (decode:N@C, prefill:P, ...)' })
          .option('fidelity', { choices: ['fast', 'flit', 'detailed'] as const, default: 'fast' as const, describe: 'fast: fast tiles + message NoC; flit: fast tiles + flit NoC; detailed: detailed tiles + flit NoC' })
          .option('seed', { type: 'number', default: 1 })
          .option('requests', { type: 'number', describe: 'simulate only the first N requests of the trace' })
          .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
          .option('html', { type: 'string', describe: 'write the HTML report to this file' })
          .option('timeline', { type: 'string', describe: 'write a Chrome/Perfetto trace-event timeline to this file' })
          .option('batching', { choices: ['single', 'continuous'] as const, describe: 'override the design\'s serving.batching' })
          .option('max-batch', { type: 'number', describe: 'override serving.maxBatch' })
          .option('prefill-chunk', { type: 'number', describe: 'override serving.prefillChunkTokens' })
          .option('micro-batches', { type: 'number', describe: 'override serving.microBatches' })
          .option('heterogeneous-tiles', { type: 'boolean', describe: "size each tile's WMEM, DMEM, VLEN and FETCH from its share of the work (mapping.heterogeneousTiles)" })
          .option('profile', { type: 'string', describe: 'PPA weight profile: default (0.4/0.4/0.2, the default) or low-power (0.2/0.6/0.2)' })
          .option('weights', { type: 'string', describe: 'PPA weights perf,power,area (sum to 1), e.g. 0.5,0.3,0.2' })
          .option('power-budget', { type: 'number', describe: 'power budget in W (feasibility)' })
          .option('area-budget', { type: 'number', describe: 'area budget in mm2 (feasibility)' })
          .option('latency-slo', { type: 'number', describe: 'p99 inter-token latency SLO in ms (feasibility)' }),
      ) as unknown as Argv<SimArgs>,
    handler: (a) => {
      if (a.requests !== undefined && !(Number.isInteger(a.requests) && a.requests >= 1)) {
        throw new InputError('--requests', 'requests', a.requests, 'a whole number >= 1', 'e.g. --requests 20');
      }
      if (!Number.isSafeInteger(a.seed)) throw new InputError('--seed', 'seed', a.seed, 'an integer', 'e.g. --seed 1');
      const card = loadModel(io, a.model);
      const design = withServing(loadDesign(io, a.design), a, a.design);
      let trace: Trace = loadTrace(io, a.trace, a.seed);
      if (a.requests !== undefined) trace = { ...trace, requests: trace.requests.slice(0, a.requests) };
      const tech = loadTech(io, a.tech);
      checkClockAgainstTable(design, tech, a.tech, a.design);
      const constraints = parseInput(ConstraintsSchema, Object.fromEntries(Object.entries({ powerBudgetW: a.powerBudget, areaBudgetMm2: a.areaBudget, latencySloMs: a.latencySlo }).filter(([, v]) => v !== undefined)), 'constraint options');
      const t0 = performance.now();
      const { result, engine } = simulateChip({ card, design, trace, tech, fidelity: a.fidelity, seed: a.seed, recordTimeline: !!a.timeline, weights: weightsOf(a), constraints, names: { design: a.design, model: a.model, trace: a.trace } });
      const wall = (performance.now() - t0) / 1000;
      if (a.html) io.writeFile(a.html, renderSimHtml(result));
      if (a.timeline && engine) io.writeFile(a.timeline, timelineJson(engine, design.clockMHz, design.mesh.cols));
      if (a.json) io.stdout(`${JSON.stringify(simJson(result, wall), null, 2)}\n`);
      else {
        io.stdout(renderSimSummary(result, wall));
        if (a.html) io.stdout(`report written to ${a.html}\n`);
        if (a.timeline) io.stdout(engine ? `timeline written to ${a.timeline} (open in ui.perfetto.dev)\n` : `no timeline written: the design is infeasible, nothing was simulated\n`);
      }
    },
  };
}
