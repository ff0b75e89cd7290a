import type { ModelCard } from '../model/card.js';
import { parameterCounts } from '../model/derive.js';

/**
 * Fixed reference points per workload for the PPA score (docs/power.md "PPA score"):
 * a score compares a design's tokens/s, power and area with these, whatever the node,
 * so a 3 nm and a 28 nm design of the same workload get comparable scores. They are not
 * targets the technology table was tuned to.
 */
export interface WorkloadReference {
  readonly workload: string;
  readonly tokensPerSecond: number;
  readonly powerW: number;
  readonly areaMm2: number;
  readonly source: string;
}

const ANCHORS: Readonly<Record<string, WorkloadReference>> = {
  'llama-3.1-8b': {
    workload: 'llama-3.1-8b',
    tokensPerSecond: 17000,
    powerW: 250,
    areaMm2: 815,
    source: 'Taalas HC1 (TSMC N6, Llama 3.1 8B in mask ROM): ~17,000 tok/s per user, ~200-250 W per card, 815 mm2 (vendor claims via press, Feb 2026; landscape.md section 5)',
  },
  'smolvlm-256m': {
    workload: 'smolvlm-256m',
    tokensPerSecond: 10.3,
    powerW: 0.0064,
    areaMm2: 17.6,
    source: "the paper's Table 19, SmolVLM at 3 nm and 10 MHz: 10.3 tok/s, 6.4 mW, 17.6 mm2 (arXiv 2604.07526)",
  },
};

/** Which anchor a model family scales from. */
function anchorFor(card: ModelCard): WorkloadReference {
  return card.architecture === 'idefics3' ? ANCHORS['smolvlm-256m'] : ANCHORS['llama-3.1-8b'];
}

const ANCHOR_PARAMS: Readonly<Record<string, number>> = {
  // Parameter counts of the anchor models (built-in cards; tests check them).
  'llama-3.1-8b': 8_030_261_248,
  'smolvlm-256m': 256_484_928,
};

/**
 * The reference for a model: the anchor itself for the two anchor models; otherwise the
 * family anchor scaled by parameters P: tokens/s x P_anchor/P (a step streams every
 * weight once), area x P/P_anchor (weight ROM dominates), power unchanged (energy per
 * token ~ P, tokens/s ~ 1/P).
 */
export function referenceFor(card: ModelCard): WorkloadReference {
  const direct = Object.hasOwn(ANCHORS, card.name) ? ANCHORS[card.name] : undefined;
  if (direct) return direct;
  const a = anchorFor(card);
  const ratio = parameterCounts(card).total / ANCHOR_PARAMS[a.workload];
  return {
    workload: card.name,
    tokensPerSecond: a.tokensPerSecond / ratio,
    powerW: a.powerW,
    areaMm2: a.areaMm2 * ratio,
    source: `derived from ${a.workload} (${a.source.split(':')[0]}) scaled by parameters x${ratio.toPrecision(4)}: tokens/s / ratio, area x ratio, power unchanged`,
  };
}

export const REFERENCE_ANCHORS = ANCHORS;
export const REFERENCE_ANCHOR_PARAMS = ANCHOR_PARAMS;
