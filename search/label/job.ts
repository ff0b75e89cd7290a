import type { ModelCard } from '../../sim/model/card.js';
import type { Design } from '../../sim/design/design.js';
import type { TechTable } from '../../sim/tech/table.js';
import type { ProcessNodeNm } from '../../sim/tech/nodes.js';
import { simulateChip, type ChipFidelity, type InfeasibleSimResult, type SimResult } from '../../sim/chip/run.js';
import { Rng } from '../../sim/random/rng.js';
import { encodeDesign } from '../space.js';
import { sampleDesign } from '../sampler.js';
import { LABEL_WORKLOADS, workloadTraces } from '../workload.js';

/**
 * One simulation job and the label it produces (docs/search.md "Labels"). A job is
 * identified by (run id, label index); its label is a pure function of the job's settings
 * and index (every field but `wallSeconds`), so a job run twice, on any worker, gives the
 * same label: results are idempotent and the coordinator keeps the first.
 */

export interface LabelSettings {
  /** The model's name (built-in name or file) and its card. */
  readonly modelName: string;
  readonly card: ModelCard;
  readonly nodes: readonly ProcessNodeNm[];
  readonly seed: number;
  readonly fidelity: ChipFidelity;
  /** Workload name (a key of LABEL_WORKLOADS). */
  readonly workload: string;
  /** Chip events per simulation at most (runaway guard); 0 = no limit. */
  readonly eventLimit: number;
  readonly tech: TechTable;
}

export interface SimulationJob {
  readonly runId: string;
  readonly index: number;
  readonly settings: LabelSettings;
  /** Simulate this design instead of sampling one (spot checks of a search). */
  readonly design?: Design;
}

/** The id of a job in any queue: (run id, label index). */
export function jobId(runId: string, index: number): string {
  return `${runId}:${index}`;
}

export interface LabelMetrics {
  readonly tokensPerSecond: number;
  readonly ttftMs: { readonly p50: number; readonly p99: number };
  readonly itlMs: { readonly p50: number; readonly p99: number };
  readonly powerW: number;
  readonly power: {
    readonly computeW: number;
    readonly sramW: number;
    readonly romW: number;
    readonly nocW: number;
    readonly leakageW: number;
    /** Power by component (logicLeakage, sramLeakage, routerClock, wmem, ...), as the simulator reports it. */
    readonly byComponentW?: Readonly<Record<string, number>>;
  };
  readonly energyPerTokenJ: number;
  readonly areaMm2: number;
  /** PPA score with the default weights and no budgets (sim/power/ppa.ts). */
  readonly ppaScore: number;
  readonly ppaObjective: number;
}

export interface LabelBounds {
  readonly computeTokensPerSecond: number;
  readonly memoryTokensPerSecond: number;
  readonly nocTokensPerSecond: number;
  readonly mappingTokensPerSecond: number;
}

export type LabelStatus = 'ok' | 'infeasible' | 'failed';

export interface LabelRecord {
  readonly index: number;
  readonly node: number;
  readonly status: LabelStatus;
  readonly design: Design;
  readonly encoding: number[];
  readonly sampler: { readonly source: 'halton' | 'uniform' | 'given'; readonly candidate: number; readonly precheckFeasible: boolean };
  readonly workload: string;
  readonly simSeed: number;
  /** Present when the decode run was simulated or found infeasible (area is known either way). */
  readonly metrics: LabelMetrics | null;
  readonly bounds: LabelBounds | null;
  readonly mapping: { readonly feasible: boolean; readonly reasons: readonly string[]; readonly regions: number; readonly kvCapacityTokens: number };
  /** The simulator's error, for a failed label. */
  readonly error?: string;
  /** Chip events simulated (both runs). */
  readonly events: number;
  /** Wall time of the simulations (with `worker`, the only fields that differ between equal runs). */
  readonly wallSeconds: number;
  /** The queue worker (host:pid) that simulated it; absent for labels made on this machine's pool. */
  readonly worker?: string;
}

/** Finite or null: msgpack and CSV carry no Infinity (an unloaded NoC has an infinite bound). */
const fin = (x: number) => (Number.isFinite(x) ? x : null) as number;

function metricsOf(decode: SimResult, prefill: SimResult | InfeasibleSimResult): LabelMetrics {
  const m = decode.metrics;
  const t = prefill.feasible === false ? { p50: 0, p99: 0 } : prefill.metrics.ttftMs;
  // no inter-token interval (one token per sequence) is stored as 0, which training skips
  const itl = m.itlMs ?? { p50: 0, p99: 0 };
  return {
    tokensPerSecond: m.tokensPerSecond,
    ttftMs: { p50: t.p50, p99: t.p99 },
    itlMs: { p50: itl.p50, p99: itl.p99 },
    powerW: m.powerW,
    power: decode.power,
    energyPerTokenJ: fin(m.energyPerTokenJ),
    areaMm2: m.areaMm2,
    ppaScore: m.ppaScore,
    ppaObjective: fin(decode.report.ppa.objective),
  };
}

/** An infeasible design's label metrics: its area and PPA penalty; nothing was simulated. */
function infeasibleMetrics(r: InfeasibleSimResult): LabelMetrics {
  return { tokensPerSecond: 0, ttftMs: { p50: 0, p99: 0 }, itlMs: { p50: 0, p99: 0 }, powerW: 0, power: { computeW: 0, sramW: 0, romW: 0, nocW: 0, leakageW: 0 }, energyPerTokenJ: 0, areaMm2: r.metrics.areaMm2, ppaScore: r.report.ppa.score, ppaObjective: fin(r.report.ppa.objective) };
}

/** Run one job: sample (or take) the design, simulate the label workload's two runs. */
export function runLabelJob(job: SimulationJob, now: () => number = () => performance.now()): LabelRecord {
  const s = job.settings;
  const workload = LABEL_WORKLOADS[s.workload];
  if (!workload) throw new Error(`unknown label workload ${s.workload}`);
  const sampled = job.design ? { design: job.design, source: 'given' as const, candidate: 0, mappingFeasible: true } : sampleDesign({ card: s.card, modelName: s.modelName, nodes: s.nodes, seed: s.seed, workload }, job.index);
  const design = sampled.design;
  const simSeed = new Rng(s.seed, `label/${job.index}/sim`).nextUint32();
  const base = {
    index: job.index,
    node: design.processNodeNm,
    design,
    encoding: Array.from(encodeDesign(design).vector),
    sampler: { source: sampled.source, candidate: sampled.candidate, precheckFeasible: sampled.mappingFeasible },
    workload: workload.name,
    simSeed,
  };
  const t0 = now();
  let events = 0;
  try {
    const traces = workloadTraces(workload, design);
    const limit = s.eventLimit > 0 ? s.eventLimit : undefined;
    const common = { card: s.card, design, tech: s.tech, fidelity: s.fidelity, seed: simSeed };
    const decode = simulateChip({ ...common, trace: traces.decode, maxEvents: limit }).result;
    const mapping = { feasible: decode.mapping.feasible, reasons: decode.mapping.reasons, regions: decode.mapping.regions, kvCapacityTokens: decode.mapping.kvCapacityTokens };
    if (decode.feasible === false) {
      return { ...base, status: 'infeasible', metrics: infeasibleMetrics(decode), bounds: null, mapping, events, wallSeconds: (now() - t0) / 1000 };
    }
    events += decode.run.events;
    const prefill = simulateChip({ ...common, trace: traces.prefill, maxEvents: limit === undefined ? undefined : Math.max(1, limit - events) }).result;
    if (prefill.feasible !== false) events += prefill.run.events;
    const b = decode.bounds;
    const bounds = { computeTokensPerSecond: fin(b.computeTokensPerSecond), memoryTokensPerSecond: fin(b.memoryTokensPerSecond), nocTokensPerSecond: fin(b.nocTokensPerSecond), mappingTokensPerSecond: fin(b.mappingTokensPerSecond) };
    return { ...base, status: 'ok', metrics: metricsOf(decode, prefill), bounds, mapping, events, wallSeconds: (now() - t0) / 1000 };
  } catch (e) {
    const err = e as Error;
    return { ...base, status: 'failed', metrics: null, bounds: null, mapping: { feasible: true, reasons: [], regions: 0, kvCapacityTokens: 0 }, error: `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`.slice(0, 500), events, wallSeconds: (now() - t0) / 1000 };
  }
}
