import { sampleDesign } from '../search/sampler.js';
import { LLM_DECODE_V2 } from '../search/workload.js';
import { encodeDesign } from '../search/space.js';
import { analytic } from '../search/surrogate/features.js';
import { LabelWriter } from '../search/label/file.js';
import { headerFor } from '../search/label/run.js';
import type { LabelRecord } from '../search/label/job.js';
import { builtinModel } from '../sim/model/catalog.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { ppaScore } from '../sim/power/ppa.js';
import { referenceFor } from '../sim/power/reference.js';

/**
 * Synthetic labels for the surrogate's tests: real sampled designs of the `tiny` model,
 * metrics from a known smooth function of the analytic estimates (so a learner has something
 * exact to find) instead of simulations, which would make the tests slow.
 */
export const tinyCard = () => builtinModel('tiny')!;
export const tinySettings = (seed = 1) => ({ modelName: 'tiny', card: tinyCard(), nodes: [7, 28] as (7 | 28)[], seed, fidelity: 'fast' as const, workload: 'llm-decode-v2', eventLimit: 50_000_000, tech: DEFAULT_TECH });

export function synthLabels(count: number, seed = 1): LabelRecord[] {
  const card = tinyCard();
  const ctx = { card, tech: DEFAULT_TECH, workload: LLM_DECODE_V2 };
  const out: LabelRecord[] = [];
  for (let i = 0; i < count; i++) {
    const s = sampleDesign({ card, modelName: 'tiny', nodes: [7, 28], seed, workload: LLM_DECODE_V2 }, i);
    const a = analytic(s.design, ctx);
    const T = a.estTokensPerSecond * (s.design.tile.scheduling === 'in-order' ? 0.3 : 0.6);
    const P = a.energyFloorJ * T * 3 + a.leakageW;
    const metrics = {
      tokensPerSecond: T,
      ttftMs: { p50: 50000 / T, p99: 50000 / T },
      itlMs: { p50: (1000 * a.batch) / T, p99: (1200 * a.batch) / T },
      powerW: P,
      power: { computeW: P / 2, sramW: 0, romW: P / 4, nocW: 0, leakageW: P / 4 },
      energyPerTokenJ: P / T,
      areaMm2: a.areaMm2,
      ppaScore: ppaScore({ tokensPerSecond: T, powerW: P, areaMm2: a.areaMm2 }, referenceFor(card)).score,
      ppaObjective: 0,
    };
    const ok = s.mappingFeasible;
    out.push({
      index: i,
      node: s.design.processNodeNm,
      status: ok ? 'ok' : 'infeasible',
      design: s.design,
      encoding: Array.from(encodeDesign(s.design).vector),
      sampler: { source: s.source, candidate: s.candidate, precheckFeasible: ok },
      workload: 'llm-decode-v2',
      simSeed: 1,
      metrics,
      bounds: ok ? { computeTokensPerSecond: a.computeTokensPerSecond, memoryTokensPerSecond: a.romTokensPerSecond, nocTokensPerSecond: 1e9, mappingTokensPerSecond: T } : null,
      mapping: { feasible: ok, reasons: ok ? [] : ['weights do not fit'], regions: 1, kvCapacityTokens: 1000 },
      events: 0,
      wallSeconds: 0,
    });
  }
  return out;
}

/** Write labels as a label file with the header `tessera label` would give them. */
export function writeLabelFile(file: string, labels: readonly LabelRecord[], seed = 1): void {
  const w = LabelWriter.create(file, headerFor(tinySettings(seed), labels.length, new Date(0)));
  for (const l of labels) w.append(l);
  w.close();
}
