import { createHash } from 'node:crypto';
import type { Design } from '../../sim/design/design.js';
import { areaOf } from '../../sim/power/area.js';
import { ppaScore, type PpaResult } from '../../sim/power/ppa.js';
import { planMapping } from '../../sim/chip/run.js';
import type { LabelRecord } from '../label/job.js';
import { workloadTraces } from '../workload.js';
import type { SearchContext } from '../env/evaluate.js';
import { designKey } from './archive.js';

/**
 * Simulated results as the search reports them (docs/explore.md "Results"): a label's
 * simulated metrics scored under the run's weights and constraints (the die count from the
 * area model on the design as simulated: tiles sized from their work when the design asks
 * for it). Every number a run reports as a result comes from here, never from the surrogate.
 */

/** A design's label index in a run's label file: 48 bits of the hash of its fields, so a design's simulation is the same whichever run asks for it. */
export function designIndex(design: Design): number {
  return parseInt(createHash('sha256').update(designKey(design)).digest('hex').slice(0, 12), 16);
}

export interface SimulatedResult {
  readonly status: LabelRecord['status'];
  readonly tokensPerSecond: number;
  readonly powerW: number;
  readonly areaMm2: number;
  readonly energyPerTokenJ: number;
  readonly ttftMsP99: number;
  readonly itlMsP99: number;
  readonly dies: number;
  /** The PPA score under the run's weights and constraints (<= 0 when infeasible; -1e9 for a failed simulation). */
  readonly score: number;
  readonly objective: number | null;
  readonly feasible: boolean;
  readonly reasons: readonly string[];
}

export function simulatedResult(label: LabelRecord, ctx: SearchContext): SimulatedResult {
  const m = label.metrics;
  if (label.status === 'failed' || !m) {
    return { status: label.status, tokensPerSecond: 0, powerW: 0, areaMm2: m?.areaMm2 ?? 0, energyPerTokenJ: 0, ttftMsP99: 0, itlMsP99: 0, dies: 0, score: -1e9, objective: null, feasible: false, reasons: [label.error ?? 'the simulation failed'] };
  }
  const sized = label.design.mapping.heterogeneousTiles ? planMapping(ctx.card, label.design, workloadTraces(ctx.workload, label.design).decode).design : label.design;
  const dies = areaOf(sized, ctx.tech).dies;
  const pct = (p50: number, p99: number) => ({ p50, p90: p99, p99, max: p99, count: 1 });
  const ppa: PpaResult = ppaScore(
    { tokensPerSecond: m.tokensPerSecond, powerW: m.powerW, areaMm2: m.areaMm2, itlMs: pct(m.itlMs.p50, m.itlMs.p99), ttftMs: pct(m.ttftMs.p50, m.ttftMs.p99) },
    ctx.reference,
    { weights: ctx.weights, constraints: ctx.constraints, mappingFeasible: label.status === 'ok', dies: { count: dies.count, reticleLimitMm2: dies.reticleLimitMm2 } },
  );
  return {
    status: label.status,
    tokensPerSecond: m.tokensPerSecond,
    powerW: m.powerW,
    areaMm2: m.areaMm2,
    energyPerTokenJ: m.energyPerTokenJ,
    ttftMsP99: m.ttftMs.p99,
    itlMsP99: m.itlMs.p99,
    dies: dies.count,
    score: ppa.score,
    objective: Number.isFinite(ppa.objective) ? ppa.objective : null,
    feasible: ppa.feasible,
    reasons: ppa.reasons,
  };
}
