import type { ModelCard } from '../sim/model/card.js';
import type { Design } from '../sim/design/design.js';
import { weightBytes } from '../sim/model/derive.js';
import { MAX_CLOCK_MHZ, type ProcessNodeNm } from '../sim/tech/nodes.js';
import { Rng } from '../sim/random/rng.js';
import { planMapping } from '../sim/chip/run.js';
import { DIMENSIONS, designFromValues, dimFromUnit, type DimValue, type Dimension } from './space.js';
import { workloadTraces, type LabelWorkload } from './workload.js';

/**
 * The sampler (docs/search.md "Sampler"): designs for one (model, node) drawn from a box
 * inside the space, by a scrambled Halton sequence (3 of every 4 labels) and uniform random
 * draws (the 4th), then a mapping-only pre-check.
 *
 * Design i is a pure function of (seed, model, node list, i): label i takes node
 * nodes[i mod k] and point floor(i / k) of that node's sequence; the scrambling
 * permutations and the uniform draws come from streams of the seed. The pre-check runs the
 * mapping pass (no simulation): if candidate 0 does not map, up to 7 uniform candidates of
 * the same label are tried and the first that maps is kept; 15% of labels (a seeded coin)
 * keep candidate 0 whatever the check says, so infeasible designs stay in the data with
 * their reasons and the surrogate sees the feasibility boundary.
 */

export const CANDIDATES = 8;
export const KEEP_FIRST_PROBABILITY = 0.15;

/** First primes, one Halton base per dimension. */
const PRIMES = (() => {
  const out: number[] = [];
  for (let n = 2; out.length < 64; n++) if (out.every((p) => n % p !== 0)) out.push(n);
  return out;
})();

/**
 * Scrambled Halton point `index` in [0, 1)^d: the radical inverse in base p_j with each
 * digit position's digits permuted by a seeded random permutation (random-digit
 * scrambling, Owen 1995 / Mascagni-Chi 2004), which removes the correlation of the plain
 * sequence's high dimensions.
 */
export class ScrambledHalton {
  private readonly perms: Uint16Array[][];
  private readonly digits: number[];
  constructor(
    readonly dims: number,
    seed: number,
  ) {
    const rng = new Rng(seed, 'sampler/halton');
    this.digits = [];
    this.perms = [];
    for (let j = 0; j < dims; j++) {
      const b = PRIMES[j];
      const k = Math.ceil(32 / Math.log2(b)); // enough digits for 2^32 points
      this.digits.push(k);
      const ps: Uint16Array[] = [];
      for (let pos = 0; pos < k; pos++) {
        const p = Uint16Array.from({ length: b }, (_, i) => i);
        rng.shuffle(p as unknown as number[]);
        ps.push(p);
      }
      this.perms.push(ps);
    }
  }

  point(index: number): Float64Array {
    const out = new Float64Array(this.dims);
    for (let j = 0; j < this.dims; j++) {
      const b = PRIMES[j];
      let n = index;
      let f = 1 / b;
      let x = 0;
      for (let pos = 0; pos < this.digits[j]; pos++) {
        const d = n % b;
        n = Math.floor(n / b);
        x += this.perms[j][pos][d] * f;
        f /= b;
      }
      out[j] = Math.min(x, 1 - 1e-12);
    }
    return out;
  }
}

/** A restriction of one dimension: an integer range or a subset of its values. */
export type BoxRule = { readonly lo: number; readonly hi: number } | { readonly values: readonly DimValue[] };

/** The sampler's box for a (model, node): fixed rules, plus rules computed from dimensions drawn earlier. */
export interface SamplerBox {
  readonly rules: Readonly<Record<string, BoxRule>>;
  /** WMEM per tile as a multiple of the even share of the weights (log-uniform in [lo, hi]). */
  readonly wmemOverNeed: { readonly lo: number; readonly hi: number };
}

/**
 * The box per model: meshes, clocks and batching sized to the model. Large models (over
 * 4 GB of FP16 weights, Llama 3.1 8B) get the paper's high-performance region: meshes
 * 6..42 a side (the paper's designs are 11x12 to 41x42), clocks from a quarter of the node
 * maximum up to it. Small models get meshes 2..16 and clocks from 10 MHz (the paper's
 * low-power mode). WMEM is drawn relative to the even share of the weights (0.85x to 2x),
 * so most designs hold the weights and some do not.
 */
export function samplerBox(card: ModelCard, node: ProcessNodeNm): SamplerBox {
  const large = weightBytes(card, 'fp16').totalBytes > 4e9;
  const max = MAX_CLOCK_MHZ[node];
  return {
    rules: {
      processNodeNm: { values: [node] },
      clockMHz: large ? { lo: Math.round(max / 4), hi: max } : { lo: 10, hi: max },
      'mesh.rows': large ? { lo: 6, hi: 42 } : { lo: 2, hi: 16 },
      'mesh.cols': large ? { lo: 6, hi: 42 } : { lo: 2, hi: 16 },
      'tile.dmemKiB': { lo: 32, hi: 1024 },
      'mapping.pipelineStages': { lo: 1, hi: 16 },
      'serving.maxBatch': { lo: 1, hi: 16 },
      'serving.prefillChunkTokens': { lo: 16, hi: 512 },
      'serving.microBatches': { lo: 1, hi: 4 },
    },
    wmemOverNeed: { lo: 0.85, hi: 2 },
  };
}

/** The value of a box rule at unit coordinate u (integer ranges log-spaced for log-int dimensions). */
export function fromRule(dim: Dimension, rule: BoxRule, u: number): DimValue {
  if ('values' in rule) return rule.values[Math.min(rule.values.length - 1, Math.floor(u * rule.values.length))];
  if (dim.kind === 'int') return Math.min(rule.hi, Math.max(rule.lo, Math.round(rule.lo - 0.5 + u * (rule.hi - rule.lo + 1))));
  const a = Math.log(rule.lo - 0.5 > 0 ? rule.lo - 0.5 : rule.lo * 0.5);
  const b = Math.log(rule.hi + 0.5);
  return Math.min(rule.hi, Math.max(rule.lo, Math.round(Math.exp(a + u * (b - a)))));
}

/** A design from unit coordinates inside the box of (card, node). */
export function designInBox(card: ModelCard, node: ProcessNodeNm, box: SamplerBox, u: ArrayLike<number>, name: string): Design {
  const values = new Map<string, DimValue>();
  DIMENSIONS.forEach((dim, i) => {
    const rule = box.rules[dim.path];
    values.set(dim.path, rule ? fromRule(dim, rule, u[i]) : dimFromUnit(dim, u[i], node));
  });
  // WMEM relative to the even share of the weights at the drawn precision and mesh
  const tiles = (values.get('mesh.rows') as number) * (values.get('mesh.cols') as number);
  const shareKiB = weightBytes(card, values.get('precision.weights') as 'fp16').totalBytes / tiles / 1024;
  const iw = DIMENSIONS.findIndex((d) => d.path === 'tile.wmemKiB');
  const { lo, hi } = box.wmemOverNeed;
  const wmem = shareKiB * Math.exp(Math.log(lo) + u[iw] * (Math.log(hi) - Math.log(lo)));
  values.set('tile.wmemKiB', Math.min(1048576, Math.max(256, Math.round(wmem))));
  return designFromValues(values, name);
}

export interface SampledDesign {
  readonly design: Design;
  /** Which draw produced it: 'halton' or 'uniform', and the candidate number. */
  readonly source: 'halton' | 'uniform';
  readonly candidate: number;
  /** The pre-check's verdict (the mapping pass on the label workload's decode run). */
  readonly mappingFeasible: boolean;
}

export interface SamplerSettings {
  readonly card: ModelCard;
  readonly modelName: string;
  readonly nodes: readonly ProcessNodeNm[];
  readonly seed: number;
  readonly workload: LabelWorkload;
}

const haltonCache = new Map<string, ScrambledHalton>();

/** The mapping pre-check: does the design map (weights, KV, activations) for the workload? */
export function mappingFeasible(card: ModelCard, design: Design, workload: LabelWorkload): boolean {
  return planMapping(card, design, workloadTraces(workload, design).decode).mapping.feasible;
}

/** Design of label `index`: a pure function of the settings and the index. */
export function sampleDesign(s: SamplerSettings, index: number): SampledDesign {
  const node = s.nodes[index % s.nodes.length];
  const within = Math.floor(index / s.nodes.length);
  const box = samplerBox(s.card, node);
  const key = `${s.seed}/${node}`;
  let halton = haltonCache.get(key);
  if (!halton) {
    halton = new ScrambledHalton(DIMENSIONS.length, new Rng(s.seed, `sampler/node/${node}`).nextUint32());
    haltonCache.set(key, halton);
  }
  const rng = new Rng(s.seed, `sampler/label/${index}`);
  const uniform = () => Float64Array.from({ length: DIMENSIONS.length }, () => rng.next());
  const name = `${s.modelName}-${node}nm-${index}`;
  const keepFirst = rng.bernoulli(KEEP_FIRST_PROBABILITY);
  const source = index % 4 === 3 ? 'uniform' : 'halton';
  let first: SampledDesign | undefined;
  for (let k = 0; k < CANDIDATES; k++) {
    const u = k === 0 && source === 'halton' ? halton.point(within) : uniform();
    const design = designInBox(s.card, node, box, u, name);
    const ok = mappingFeasible(s.card, design, s.workload);
    const cand: SampledDesign = { design, source: k === 0 ? source : 'uniform', candidate: k, mappingFeasible: ok };
    if (k === 0) first = cand;
    if (ok || (k === 0 && keepFirst)) return cand;
  }
  return first!;
}
