import type { Argv } from 'yargs';
import type { Io } from '../io.js';
import { createProgress, formatDuration } from '../progress.js';
import { block, fmtDurationMs, fmtInt, table } from '../format.js';
import { esc, renderHtml } from '../report/html.js';
import { servingPlots } from '../report/servingPlots.js';
import { defaultMemoDir, loadMemo, memoKey, memoPath, saveMemo } from '../serving/memoFile.js';
import { simulateServing, DEFAULT_SERVING, type ServingInput, type ServingResult } from '../../sim/serving/run.js';
import { findCapacity, type CapacityResult } from '../../sim/serving/capacity.js';
import type { MemoNode } from '../../sim/serving/memo.js';
import { simulateChip, type ChipFidelity, type SimResult } from '../../sim/chip/run.js';
import { selectRequests } from '../../sim/trace/transform.js';
import { InputError } from '../../sim/validate/inputError.js';
import { EXIT } from '../exit.js';
import type { Design } from '../../sim/design/design.js';
import type { Trace } from '../../sim/trace/trace.js';

/**
 * `tessera sim --fidelity serve` (docs/serving.md): the CLI edge of the
 * serving tier. Options, progress, the on-disk memo of simulated steps, the summary, JSON
 * and HTML, the capacity search (`--capacity`) and the check against the step-by-step
 * simulation (`--validate`). Trace selection (`--from/--to/--rate-scale/--sample`) applies
 * at every fidelity.
 */

export interface TraceArgs {
  from?: number;
  to?: number;
  rateScale?: number;
  sample?: number;
  requests?: number;
}

export interface ServeArgs extends TraceArgs {
  stepFidelity?: ChipFidelity;
  admission?: 'reserve' | 'recompute';
  contextGrid?: number;
  stepTolerance?: number;
  holdout?: number;
  errorReplays?: number;
  sloTtft?: number;
  sloItl?: number;
  sloShare?: number;
  capacity?: boolean;
  validate?: boolean;
  memo?: string;
  quiet?: boolean;
}

export function withServeOptions<T>(y: Argv<T>): Argv<T & ServeArgs> {
  return y
    .option('from', { type: 'number', describe: 'keep requests arriving from this minute of the trace on' })
    .option('to', { type: 'number', describe: 'keep requests arriving before this minute' })
    .option('rate-scale', { type: 'number', describe: 'multiply the request rate (arrival times divided by it), e.g. 2' })
    .option('sample', { type: 'number', describe: 'keep each request with this probability (seeded), e.g. 0.1' })
    .option('step-fidelity', { choices: ['fast', 'flit', 'detailed'] as const, describe: `serve: fidelity of the simulated steps (default ${DEFAULT_SERVING.stepFidelity})` })
    .option('admission', { choices: ['reserve', 'recompute'] as const, describe: 'serve: KV admission; reserve the whole context (as step by step) or recompute: admit on the prompt, preempt and re-prefill when the cache is full (vLLM)' })
    .option('context-grid', { type: 'number', describe: `serve: context-length grid of the step memo in tokens (default ${DEFAULT_SERVING.contextGridTokens})` })
    .option('step-tolerance', { type: 'number', describe: `serve: relative error allowed when interpolating step rows (default ${DEFAULT_SERVING.tolerance})` })
    .option('holdout', { type: 'number', describe: `serve: held-out iterations simulated for the error estimate, shared over the step kinds (default ${DEFAULT_SERVING.holdout}; 0 skips)` })
    .option('error-replays', { type: 'number', describe: `serve: replays of the trace with step times erring as the held-out ones, for the error estimate (default ${DEFAULT_SERVING.errorReplays})` })
    .option('slo-ttft', { type: 'number', describe: `serve: TTFT SLO in ms (default ${DEFAULT_SERVING.slo.ttftMs})` })
    .option('slo-itl', { type: 'number', describe: `serve: per-request mean inter-token (TPOT) SLO in ms (default ${DEFAULT_SERVING.slo.itlMs})` })
    .option('slo-share', { type: 'number', describe: 'serve --capacity: share of requests that must meet both SLOs (default 0.9)' })
    .option('capacity', { type: 'boolean', describe: 'serve: find the highest --rate-scale that meets the SLOs for --slo-share of the requests (bisection)' })
    .option('validate', { type: 'boolean', describe: 'serve: also simulate the requests step by step at --step-fidelity and print the error of every metric' })
    .option('memo', { type: 'string', describe: `serve: directory of the saved step memo (default ${defaultMemoDir()}), or "off"` }) as unknown as Argv<T & ServeArgs>;
}

/** The trace after --from/--to/--sample/--rate-scale/--requests (seeded sampling). */
export function selectTrace(trace: Trace, a: TraceArgs, seed: number): Trace {
  if (a.from === undefined && a.to === undefined && a.sample === undefined && a.rateScale === undefined && a.requests === undefined) return trace;
  return selectRequests(trace, { fromMinutes: a.from, toMinutes: a.to, sampleFraction: a.sample, rateScale: a.rateScale, requests: a.requests }, seed);
}

const SERVE_ONLY: readonly (keyof ServeArgs)[] = ['stepFidelity', 'admission', 'contextGrid', 'stepTolerance', 'holdout', 'errorReplays', 'sloTtft', 'sloItl', 'sloShare', 'capacity', 'validate', 'memo'];
const FLAG: Record<string, string> = { errorReplays: 'error-replays', stepFidelity: 'step-fidelity', contextGrid: 'context-grid', stepTolerance: 'step-tolerance', sloTtft: 'slo-ttft', sloItl: 'slo-itl', sloShare: 'slo-share' };

/** Serving options are only for --fidelity serve. */
export function checkServeOnly(a: ServeArgs & { fidelity: string }): void {
  if (a.fidelity === 'serve') return;
  const used = SERVE_ONLY.find((k) => a[k] !== undefined && a[k] !== false);
  if (used) throw new InputError('command line', `--${FLAG[used] ?? used}`, a[used], 'an option of the serving fidelity', 'add --fidelity serve');
}

function checkRange(flag: string, v: number | undefined, ok: (x: number) => boolean, allowed: string, fix: string): void {
  if (v !== undefined && !ok(v)) throw new InputError('command line', `--${flag}`, v, allowed, fix);
}

function servingOptions(a: ServeArgs): NonNullable<ServingInput['options']> {
  checkRange('context-grid', a.contextGrid, (x) => Number.isInteger(x) && x >= 1 && x <= 1 << 20, 'a whole number of tokens in 1..1048576', 'e.g. --context-grid 256');
  checkRange('step-tolerance', a.stepTolerance, (x) => x > 0 && x < 1, 'a relative error in (0, 1)', 'e.g. --step-tolerance 0.02');
  checkRange('holdout', a.holdout, (x) => Number.isInteger(x) && x >= 0 && x <= 1000, 'a whole number in 0..1000', 'e.g. --holdout 36');
  checkRange('error-replays', a.errorReplays, (x) => Number.isInteger(x) && x >= 0 && x <= 100, 'a whole number in 0..100', 'e.g. --error-replays 4');
  checkRange('slo-ttft', a.sloTtft, (x) => x > 0 && Number.isFinite(x), 'milliseconds > 0', 'e.g. --slo-ttft 2000');
  checkRange('slo-itl', a.sloItl, (x) => x > 0 && Number.isFinite(x), 'milliseconds > 0', 'e.g. --slo-itl 100');
  checkRange('slo-share', a.sloShare, (x) => x > 0 && x <= 1, 'a share in (0, 1]', 'e.g. --slo-share 0.9');
  return {
    stepFidelity: a.stepFidelity,
    admission: a.admission,
    contextGridTokens: a.contextGrid,
    tolerance: a.stepTolerance,
    holdout: a.holdout,
    errorReplays: a.errorReplays,
    slo: { ttftMs: a.sloTtft ?? DEFAULT_SERVING.slo.ttftMs, itlMs: a.sloItl ?? DEFAULT_SERVING.slo.itlMs },
  };
}

const num = (x: number, d = 3) => (Number.isFinite(x) ? (Math.abs(x) >= 1000 ? fmtInt(x) : x.toPrecision(d)) : String(x));
const pct = (x: number) => `${(100 * x).toFixed(Math.abs(x) < 0.1 ? 2 : 1)}%`;

/** The terminal summary of a serving run. */
export function renderServeSummary(r: ServingResult, wallSeconds: number): string {
  let out = `${r.simulated}\n\n`;
  if (!r.feasible || !r.metrics || !r.run || !r.power) {
    out += block('INFEASIBLE', r.reasons.slice(0, 8).map((x, i) => [`${i + 1}`, x] as [string, string]));
    return `${out}  area ${num(r.areaMm2)} mm2\n`;
  }
  const m = r.metrics;
  const d = (x: ServingResult['metrics'] & object, k: 'ttftMs' | 'itlMs' | 'tpotMs' | 'e2eMs') => `${num(x[k].p50)} / ${num(x[k].p90)} / ${num(x[k].p99)} ms`;
  const rej = Object.entries(m.requests.rejected).filter(([, n]) => n > 0);
  out += block('serving metrics', [
    ['tokens/s', `${num(m.tokensPerSecond)} (${num(m.requestsPerSecond)} requests/s over ${num(m.windowSeconds)} s)`],
    ['TTFT p50 / p90 / p99', d(m, 'ttftMs')],
    ['ITL p50 / p90 / p99', d(m, 'itlMs')],
    ['TPOT p50 / p90 / p99', d(m, 'tpotMs')],
    ['end-to-end p50 / p90 / p99', d(m, 'e2eMs')],
    [`SLO (TTFT <= ${num(m.slo.ttftMs)} ms, TPOT <= ${num(m.slo.itlMs)} ms)`, `${pct(m.sloAttainment)} of requests meet it; goodput ${num(m.goodputRequestsPerSecond)} requests/s, ${num(m.goodputTokensPerSecond)} tokens/s`],
    ['requests', `${fmtInt(m.requests.served)} served of ${fmtInt(m.requests.total)}${rej.length ? `; rejected (can never fit): ${rej.map(([k, n]) => `${fmtInt(n)} ${k === 'kv' ? 'beyond the KV capacity' : k === 'context' ? "beyond the model's context" : 'with images, no vision encoder'}`).join(', ')}` : ''}${m.requests.preempted ? `; ${fmtInt(m.requests.preempted)} preempted and recomputed (${fmtInt(r.run.recomputedTokens)} tokens)` : ''}`],
    ['load', `busiest region ${pct(r.run.load)} busy; queue peaked at ${fmtInt(r.run.maxQueue)} request${r.run.maxQueue === 1 ? '' : 's'}`],
    ['power', `${num(r.power.totalW)} W (compute ${num(r.power.computeW)}, SRAM ${num(r.power.sramW)}, ROM ${num(r.power.romW)}, NoC ${num(r.power.nocW)}, leakage ${num(r.power.leakageW)}); ${num(r.power.energyPerTokenJ * 1000)} mJ per token`],
    ['area', `${num(r.areaMm2)} mm2; PPA score ${num(r.ppaScore ?? 0)}`],
  ]);
  const s = r.steps;
  const est = r.errorEstimate;
  out += block('simulated steps', [
    ['steps', `${fmtInt(s.simulated)} simulated at ${s.fidelity} fidelity${s.loaded ? `, ${fmtInt(s.loaded)} reused from the step memo (saved, or simulated by an earlier run of this command)` : ''}; ${fmtInt(s.used)} used by ${fmtInt(r.run.iterations)} iterations${r.run.visionPasses ? ` and ${fmtInt(r.run.visionPasses)} vision passes` : ''}`],
    ['events', `${fmtInt(s.chipEvents)} chip + ${fmtInt(s.kernelEvents)} in ${fmtInt(s.kernelsRun)} kernel runs`],
    ['memo', `context grid ${fmtInt(s.contextGridTokens)} tokens; rows refined to ${pct(s.tolerance)} (${s.refinementChecks} checks, ${s.refinementSplits} splits)${s.pairGain !== 1 ? `; two steps sharing a region gain x${s.pairGain.toFixed(3)}` : ''}`],
    ...(s.holdout && est
      ? ([
          ['held-out check', `${s.holdout.samples} iterations simulated exactly: step-time error mean ${pct(s.holdout.meanAbsError)}, max ${pct(s.holdout.maxAbsError)} (${s.holdout.byKind.map((k) => `${k.kind} ${pct(k.maxAbsError)}`).join(', ')})`],
          ['error estimate', `tokens/s ${pct(est.tokensPerSecond)}, TTFT p50/p99 ${pct(est.ttftP50)}/${pct(est.ttftP99)}, ITL p50/p99 ${pct(est.itlP50)}/${pct(est.itlP99)}, end-to-end p50/p99 ${pct(est.e2eP50)}/${pct(est.e2eP99)} (${est.replays} replays with step times erring as the held-out ones)`],
        ] as [string, string][])
      : []),
  ]);
  out += block('run', [
    ['simulated', `${fmtDurationMs(r.run.simulatedCycles / (r.design.clockMHz * 1000))} of serving, ${fmtInt(r.run.generatedTokens)} tokens`],
    ['wall time', `${wallSeconds.toFixed(2)} s (${fmtInt(r.run.iterations / Math.max(1e-9, wallSeconds))} iterations/s)`],
    ['mapping', `${r.mapping.regions} region${r.mapping.regions === 1 ? '' : 's'}, KV capacity ${fmtInt(r.mapping.kvCapacityTokens)} tokens`],
  ]);
  return out;
}

/** The JSON of a serving run: the same top-level metrics as the other fidelities, plus `serving`. */
export function serveJson(r: ServingResult, wallSeconds: number, extra: object = {}): object {
  const m = r.metrics;
  return {
    simulated: r.simulated,
    metrics: {
      tokensPerSecond: m?.tokensPerSecond ?? null,
      ttftMs: m ? { p50: m.ttftMs.p50, p99: m.ttftMs.p99 } : null,
      itlMs: m ? { p50: m.itlMs.p50, p99: m.itlMs.p99 } : null,
      powerW: r.power?.totalW ?? null,
      energyPerTokenJ: r.power?.energyPerTokenJ ?? null,
      areaMm2: r.areaMm2,
      ppaScore: r.ppaScore,
      feasible: r.feasible,
    },
    serving: m,
    power: r.power,
    bounds: r.bounds,
    steps: r.steps,
    errorEstimate: r.errorEstimate,
    run: r.run && { ...r.run, fidelity: 'serve', wallSeconds, iterationsPerSecond: r.run.iterations / Math.max(1e-9, wallSeconds) },
    timeSeries: r.timeSeries,
    mapping: r.mapping,
    ...(r.feasible ? {} : { reasons: r.reasons }),
    ...extra,
    requests: r.requests,
    allCounters: r.counters,
  };
}

export function renderServeHtml(r: ServingResult, extraHtml = ''): string {
  const section = r.metrics && r.timeSeries ? `<section><h2>Serving</h2><p>${esc(r.simulated)}</p>${extraHtml}${servingPlots(r.metrics, r.timeSeries)}</section>` : `<section><h2>Serving</h2><p>${esc(r.simulated)}</p><p><strong>Infeasible:</strong> ${esc(r.reasons.join('; '))}</p></section>`;
  const html = renderHtml(r.report);
  return html.includes('</body>') ? html.replace('</body>', `${section}</body>`) : html + section;
}

export interface ServeContext {
  readonly card: ServingInput['card'];
  readonly design: Design;
  readonly trace: Trace;
  readonly tech: ServingInput['tech'];
  readonly seed: number;
  readonly weights: ServingInput['weights'];
  readonly constraints: ServingInput['constraints'];
  readonly names: NonNullable<ServingInput['names']>;
}

/** Runs of the serving tier that share one memo of simulated steps (and its file). */
class ServeSession {
  /** Every step known: loaded from the file or simulated by a run of this session. */
  private readonly steps = new Map<string, MemoNode>();
  private loadedFrom: { file: string; key: string; count: number } | undefined;
  private added = 0;

  constructor(
    private readonly io: Io,
    private readonly ctx: ServeContext,
    private readonly options: NonNullable<ServingInput['options']>,
    private readonly memoDir: string | undefined,
  ) {}

  run(trace: Trace, overrides: Partial<NonNullable<ServingInput['options']>> = {}, onProgress?: ServingInput['onProgress']): ServingResult {
    const c = this.ctx;
    const res = simulateServing({
      card: c.card,
      design: c.design,
      trace,
      tech: c.tech,
      seed: c.seed,
      weights: c.weights,
      constraints: c.constraints,
      names: c.names,
      options: { ...this.options, ...overrides },
      savedSteps: (design) => this.saved(design),
      onProgress,
    });
    for (const n of res.newSteps) this.steps.set(n.key, n);
    this.added += res.newSteps.length;
    return res;
  }

  private saved(design: Design): MemoNode[] {
    if (this.memoDir && !this.loadedFrom) {
      const key = memoKey(design, this.ctx.card, this.options.stepFidelity ?? DEFAULT_SERVING.stepFidelity, this.ctx.seed);
      const file = memoPath(this.memoDir, key);
      const nodes = loadMemo(this.io, file, key);
      for (const n of nodes) this.steps.set(n.key, n);
      this.loadedFrom = { file, key, count: nodes.length };
    }
    return [...this.steps.values()];
  }

  /** Write the memo if this session simulated new steps; returns where, or undefined. */
  save(): string | undefined {
    if (!this.loadedFrom || this.added === 0) return undefined;
    saveMemo(this.io, this.loadedFrom.file, this.loadedFrom.key, [...this.steps.values()], []);
    return this.loadedFrom.file;
  }
}

export function runServe(io: Io, a: ServeArgs & { json: boolean; html?: string; timeline?: string; seed: number }, ctx: ServeContext, setExit: (code: number) => void): void {
  if (a.timeline) throw new InputError('command line', '--timeline', a.timeline, 'a timeline of a step-by-step run (fast, flit or detailed fidelity)', 'drop --timeline, or run a few requests with --fidelity fast --timeline FILE');
  const options = servingOptions(a);
  const memoDir = a.memo === 'off' ? undefined : (a.memo ?? defaultMemoDir());
  const session = new ServeSession(io, ctx, options, memoDir);
  const label = `serve ${ctx.names.trace}`;
  const t0 = performance.now();
  const withProgress = (trace: Trace, what: string, overrides: Partial<NonNullable<ServingInput['options']>> = {}) => {
    const progress = createProgress(io, { label: `${label}${what}`, total: trace.requests.length, unit: 'requests', quiet: a.quiet });
    const res = session.run(trace, overrides, (done, _total, cycles, steps) => progress.update(done, `${steps} steps simulated, ${formatDuration(cycles / (ctx.design.clockMHz * 1e6))} served`));
    progress.finish(res.run ? `${fmtInt(res.run.iterations)} iterations, ${res.steps.simulated} steps simulated` : 'infeasible');
    return res;
  };

  let capacity: CapacityResult | undefined;
  let trace = ctx.trace;
  if (a.capacity) {
    const share = a.sloShare ?? 0.9;
    const base = ctx.trace;
    capacity = findCapacity((scale) => {
      const res = withProgress(selectRequests(base, { rateScale: scale }, ctx.seed), ` at rate x${num(scale)}`, { holdout: 0 });
      if (!res.metrics) throw new InputError(ctx.names.design, 'design', 'infeasible', 'a feasible design for a capacity search', res.reasons[0] ?? 'see tessera sim without --capacity');
      return res.metrics.sloAttainment;
    }, share, { start: 1 });
    if (capacity.rateScale > 0) trace = selectRequests(base, { rateScale: capacity.rateScale }, ctx.seed);
  }
  const result = withProgress(trace, capacity ? ` at capacity x${num(capacity.rateScale)}` : '');
  if (!result.feasible) setExit(EXIT.infeasible);
  const wall = (performance.now() - t0) / 1000;
  let validation: Validation | undefined;
  if (a.validate && result.feasible) validation = validate(io, session, ctx, result, wall, options.stepFidelity ?? DEFAULT_SERVING.stepFidelity, a.quiet);
  const saved = session.save();

  const extra = { ...(capacity ? { capacity: capacityJson(capacity, a.sloShare ?? 0.9, result) } : {}), ...(validation ? { validation } : {}), ...(saved ? { memoFile: saved } : {}) };
  if (a.html) io.writeFile(a.html, renderServeHtml(result, validation ? validationHtml(validation) : ''));
  if (a.json) {
    io.stdout(`${JSON.stringify(serveJson(result, wall, extra), null, 2)}\n`);
    return;
  }
  let out = '';
  if (capacity) out += renderCapacity(capacity, a.sloShare ?? 0.9, result);
  out += renderServeSummary(result, wall);
  if (validation) out += renderValidation(validation);
  if (saved) out += `step memo saved to ${saved}\n`;
  if (a.html) out += `report written to ${a.html}\n`;
  io.stdout(out);
}

function capacityJson(c: CapacityResult, share: number, r: ServingResult): object {
  return { share, rateScale: c.rateScale, failsAt: Number.isFinite(c.failsAt) ? c.failsAt : null, requestsPerSecond: c.rateScale > 0 ? r.metrics?.requestsPerSecond ?? null : null, runs: c.runs };
}

function renderCapacity(c: CapacityResult, share: number, r: ServingResult): string {
  const m = r.metrics;
  const head =
    c.rateScale === 0
      ? `no rate scale down to x${num(c.runs[c.runs.length - 1].rateScale)} meets the SLOs for ${pct(share)} of the requests`
      : `highest rate meeting the SLOs (TTFT <= ${num(m!.slo.ttftMs)} ms, TPOT <= ${num(m!.slo.itlMs)} ms) for ${pct(share)} of the requests: --rate-scale ${num(c.rateScale, 4)} (${num(m!.requestsPerSecond)} requests/s)${Number.isFinite(c.failsAt) ? `; x${num(c.failsAt, 4)} fails` : '; the highest scale tried still meets them'}`;
  return `capacity\n  ${head}\n${table(
    c.runs.map((x) => [`x${num(x.rateScale, 4)}`, pct(x.attainment), x.meets ? 'meets' : 'fails']),
    ['rate scale', 'SLO attainment', ''],
  )
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n')}\nat capacity:\n`;
}

interface Validation {
  readonly requests: number;
  readonly stepFidelity: ChipFidelity;
  readonly wallSeconds: { readonly serve: number; readonly stepByStep: number };
  /** Offered token rate over the rate the design reaches with every request waiting (saturation). */
  readonly load: number;
  readonly metrics: readonly { readonly name: string; readonly serve: number; readonly stepByStep: number; readonly error: number; readonly estimate: number | null }[];
}

/** The serving fidelity against the step-by-step simulation of the same requests. */
function validate(io: Io, session: ServeSession, ctx: ServeContext, served: ServingResult, servedWallSeconds: number, stepFidelity: ChipFidelity, quiet?: boolean): Validation {
  // both sides see the requests the design can hold (the step-by-step run cannot reject)
  const keep = ctx.trace.requests.filter((_, i) => served.requests[i].rejected === undefined);
  if (keep.length === 0) throw new InputError(ctx.names.trace, 'requests', 0, 'at least one request the design can hold', 'use a design with more KV capacity');
  const trace: Trace = { ...ctx.trace, requests: keep };
  const t0 = performance.now();
  const serve = keep.length === ctx.trace.requests.length ? served : session.run(trace);
  const tServe = serve === served ? servedWallSeconds : (performance.now() - t0) / 1000;
  // saturation: every request waiting from the start
  const saturated = session.run({ ...trace, requests: keep.map((r) => ({ ...r, arrivalMs: 0 })) }, { holdout: 0 });
  const span = (keep[keep.length - 1].arrivalMs - keep[0].arrivalMs) / 1000;
  const offered = span > 0 ? keep.reduce((s, r) => s + r.outputTokens, 0) / span : Number.POSITIVE_INFINITY;
  const load = offered / Math.max(1e-12, saturated.metrics!.tokensPerSecond);
  if (!quiet) io.stderr(`validate: load ${pct(load)} of saturation; simulating ${keep.length} requests step by step at ${stepFidelity} fidelity (the reference; this is the slow part)\n`);
  const t1 = performance.now();
  const progress = createProgress(io, { label: `validate ${ctx.names.trace} step by step`, total: keep.reduce((n, r) => n + r.outputTokens, 0), unit: 'tokens', quiet });
  const out = simulateChip({ card: ctx.card, design: ctx.design, trace, tech: ctx.tech, fidelity: stepFidelity, seed: ctx.seed, weights: ctx.weights, constraints: ctx.constraints, names: ctx.names, onProgress: (p) => progress.update(p.generatedTokens, `${p.requestsDone}/${p.requestsTotal} requests done`) }).result;
  progress.finish();
  if (!out.feasible) throw new Error(`internal: the step-by-step reference found the design infeasible: ${out.mapping.reasons[0] ?? ''}`);
  const ref = out as SimResult & { metrics: { itlMs: { p50: number; p99: number } } };
  const tRef = (performance.now() - t1) / 1000;
  const m = serve.metrics!;
  const e = serve.errorEstimate;
  const row = (name: string, s: number, r: number, estimate: number | null) => ({ name, serve: s, stepByStep: r, error: r !== 0 ? (s - r) / r : s === 0 ? 0 : Number.POSITIVE_INFINITY, estimate });
  return {
    requests: keep.length,
    stepFidelity,
    wallSeconds: { serve: tServe, stepByStep: tRef },
    load,
    metrics: [
      row('tokens/s', m.tokensPerSecond, ref.metrics.tokensPerSecond, e?.tokensPerSecond ?? null),
      row('TTFT p50 (ms)', m.ttftMs.p50, ref.metrics.ttftMs.p50, e?.ttftP50 ?? null),
      row('TTFT p99 (ms)', m.ttftMs.p99, ref.metrics.ttftMs.p99, e?.ttftP99 ?? null),
      row('ITL p50 (ms)', m.itlMs.p50, ref.metrics.itlMs.p50, e?.itlP50 ?? null),
      row('ITL p99 (ms)', m.itlMs.p99, ref.metrics.itlMs.p99, e?.itlP99 ?? null),
      row('power (W)', serve.power!.totalW, ref.metrics.powerW, null),
      row('energy per token (mJ)', serve.power!.energyPerTokenJ * 1000, ref.metrics.energyPerTokenJ * 1000, null),
    ],
  };
}

function renderValidation(v: Validation): string {
  return `validation against step-by-step ${v.stepFidelity} fidelity (${fmtInt(v.requests)} requests, load ${pct(v.load)} of saturation; wall ${v.wallSeconds.serve.toFixed(1)} s vs ${v.wallSeconds.stepByStep.toFixed(1)} s)\n${table(
    v.metrics.map((x) => [x.name, num(x.serve, 4), num(x.stepByStep, 4), `${x.error >= 0 ? '+' : ''}${pct(x.error)}`, x.estimate === null ? '-' : `+-${pct(x.estimate)}`, x.estimate === null ? '' : Math.abs(x.error) <= x.estimate ? 'within' : 'OUTSIDE']),
    ['metric', 'serve', 'step by step', 'error', 'estimate', ''],
  )
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n')}`;
}

function validationHtml(v: Validation): string {
  const rows = v.metrics.map((x) => `<tr><th>${esc(x.name)}</th><td>${esc(num(x.serve, 4))}</td><td>${esc(num(x.stepByStep, 4))}</td><td>${esc(pct(x.error))}</td><td>${x.estimate === null ? '-' : esc(`+-${pct(x.estimate)}`)}</td></tr>`).join('');
  return `<h3>Against step-by-step ${esc(v.stepFidelity)} fidelity (${v.requests} requests, load ${esc(pct(v.load))})</h3><table><tr><th>metric</th><th>serve</th><th>step by step</th><th>error</th><th>estimate</th></tr>${rows}</table>`;
}
