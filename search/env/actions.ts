import type { ModelCard } from '../../sim/model/card.js';
import type { Design } from '../../sim/design/design.js';
import { MAX_CLOCK_MHZ, type ProcessNodeNm } from '../../sim/tech/nodes.js';
import { weightBytes } from '../../sim/model/derive.js';
import { InputError } from '../../sim/validate/inputError.js';
import { DIMENSIONS, designFromValues, dimFromUnit, dimToUnit, type DimValue, type Dimension } from '../space.js';
import { fromRule, samplerBox, type BoxRule, type SamplerBox } from '../sampler.js';

/**
 * The action space (docs/explore.md "Actions"), the paper's Table 3 on Tessera's space:
 *
 * - discrete: two mesh moves, rows and columns, each in {-2, -1, 0, +1, +2} (5-way
 *   categorical heads, 10 logits), applied to the current mesh and clamped to the box;
 * - continuous: one coordinate per other dimension of the space (33: clock, every tile
 *   parameter, NoC, precisions, mapping and serving), each a tanh-squashed a in [-1, 1]
 *   that sets the parameter (not a step from it): u = (a + 1) / 2 is quantised onto the
 *   grid inside the sampler's box of (model, node) (`fromRule`: integers, log-spaced for
 *   log-int dimensions, levels and categories by equal bins), outside the box by the
 *   space's own grid (`dimFromUnit`). WMEM is set relative to the even share of the weights
 *   on the current mesh at the chosen precision, u log-spaced over 0.8x to 3x (so the agent
 *   never has to learn the model's size), then rounded to whole KiB in 256 KiB..1 GiB.
 *
 * The box keeps the search where the surrogate's labels are (the sampler's box, docs/search.md
 * "Sampler"). `--freeze` removes dimensions from the action: a frozen dimension keeps the
 * value of the run's start design (`--design`), and freezing `mesh.rows`/`mesh.cols` (or
 * `mesh`) ignores the mesh moves.
 */

export const MESH_MOVES = [-2, -1, 0, 1, 2] as const;
export const DISCRETE_HEADS = 2;
export const DISCRETE_CHOICES = MESH_MOVES.length;
/** Joint discrete actions (rows move x cols move): the critic's outputs. */
export const DISCRETE_JOINT = DISCRETE_CHOICES ** DISCRETE_HEADS;

const NOT_CONTINUOUS = new Set(['processNodeNm', 'mesh.rows', 'mesh.cols']);
/** Dimensions set by the continuous action, in space order. */
export const CONTINUOUS_DIMS: readonly Dimension[] = DIMENSIONS.filter((d) => !NOT_CONTINUOUS.has(d.path));
export const CONTINUOUS_COUNT = CONTINUOUS_DIMS.length;

/** WMEM per tile as a multiple of the even share of the weights: the action's range. */
export const WMEM_OVER_SHARE = { lo: 0.8, hi: 3 } as const;

/** Group names `--freeze` accepts besides dimension paths. */
export const FREEZE_GROUPS: Readonly<Record<string, readonly string[]>> = {
  mesh: ['mesh.rows', 'mesh.cols'],
  clock: ['clockMHz'],
  tile: DIMENSIONS.filter((d) => d.path.startsWith('tile.')).map((d) => d.path),
  noc: DIMENSIONS.filter((d) => d.path.startsWith('noc.')).map((d) => d.path),
  precision: DIMENSIONS.filter((d) => d.path.startsWith('precision.')).map((d) => d.path),
  mapping: DIMENSIONS.filter((d) => d.path.startsWith('mapping.')).map((d) => d.path),
  serving: DIMENSIONS.filter((d) => d.path.startsWith('serving.')).map((d) => d.path),
  chip: DIMENSIONS.filter((d) => !d.path.startsWith('mapping.') && !d.path.startsWith('serving.') && d.path !== 'processNodeNm').map((d) => d.path),
};

/** Parse `--freeze` (comma-separated paths or group names) into dimension paths. */
export function parseFreeze(text: string | undefined): string[] {
  if (!text) return [];
  const out = new Set<string>();
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (Object.hasOwn(FREEZE_GROUPS, part)) FREEZE_GROUPS[part].forEach((p) => out.add(p));
    else if (DIMENSIONS.some((d) => d.path === part && d.path !== 'processNodeNm')) out.add(part);
    else throw new InputError('--freeze', 'freeze', part, `a design dimension (e.g. tile.vlenBits) or a group (${Object.keys(FREEZE_GROUPS).join(', ')})`, 'e.g. --freeze chip for a mapping-only search on a given chip');
  }
  return [...out];
}

export interface HybridAction {
  /** Index into MESH_MOVES for rows and for columns. */
  readonly discrete: readonly [number, number];
  /** CONTINUOUS_COUNT values in [-1, 1]. */
  readonly continuous: Float32Array;
}

function getPath(obj: any, path: string): DimValue {
  let v = obj;
  for (const k of path.split('.')) v = v?.[k];
  return v as DimValue;
}

/** Applies actions to designs of one (model, node). */
export class ActionSpace {
  readonly box: SamplerBox;
  private readonly frozen: ReadonlyMap<string, DimValue>;
  private readonly meshRange: { rows: { lo: number; hi: number }; cols: { lo: number; hi: number } };

  constructor(
    readonly card: ModelCard,
    readonly node: ProcessNodeNm,
    frozenPaths: readonly string[] = [],
    /** The design frozen dimensions keep their values from. */
    frozenFrom?: Design,
  ) {
    this.box = samplerBox(card, node);
    if (frozenPaths.length && !frozenFrom) throw new Error('ActionSpace: frozen dimensions need a design to take their values from');
    this.frozen = new Map(frozenPaths.map((p) => [p, getPath(frozenFrom, p)]));
    const range = (p: string) => {
      const r = this.box.rules[p] as { lo: number; hi: number } | undefined;
      return r && 'lo' in r ? r : { lo: 2, hi: 64 };
    };
    this.meshRange = { rows: range('mesh.rows'), cols: range('mesh.cols') };
  }

  isFrozen(path: string): boolean {
    return this.frozen.has(path);
  }

  /** The design after `action` from `current` (mesh moved, every other dimension set). */
  apply(current: Design, action: HybridAction, name = current.name): Design {
    const values = new Map<string, DimValue>();
    values.set('processNodeNm', this.node);
    const move = (path: 'mesh.rows' | 'mesh.cols', head: number) => {
      const r = path === 'mesh.rows' ? this.meshRange.rows : this.meshRange.cols;
      const now = getPath(current, path) as number;
      return this.frozen.has(path) ? (this.frozen.get(path) as number) : Math.min(r.hi, Math.max(r.lo, now + MESH_MOVES[action.discrete[head]]));
    };
    values.set('mesh.rows', move('mesh.rows', 0));
    values.set('mesh.cols', move('mesh.cols', 1));
    CONTINUOUS_DIMS.forEach((dim, j) => {
      const u = Math.min(1, Math.max(0, (action.continuous[j] + 1) / 2));
      values.set(dim.path, this.frozen.has(dim.path) ? this.frozen.get(dim.path)! : this.valueAt(dim, u));
    });
    if (!this.frozen.has('tile.wmemKiB')) values.set('tile.wmemKiB', this.wmemAt(CONTINUOUS_DIMS.findIndex((d) => d.path === 'tile.wmemKiB'), action, values));
    return designFromValues(values, name);
  }

  private valueAt(dim: Dimension, u: number): DimValue {
    const rule: BoxRule | undefined = this.box.rules[dim.path];
    return rule ? fromRule(dim, rule, u) : dimFromUnit(dim, u, this.node);
  }

  private wmemAt(j: number, action: HybridAction, values: ReadonlyMap<string, DimValue>): number {
    const u = Math.min(1, Math.max(0, (action.continuous[j] + 1) / 2));
    const tiles = (values.get('mesh.rows') as number) * (values.get('mesh.cols') as number);
    const shareKiB = weightBytes(this.card, values.get('precision.weights') as 'fp16').totalBytes / tiles / 1024;
    const f = Math.exp(Math.log(WMEM_OVER_SHARE.lo) + u * (Math.log(WMEM_OVER_SHARE.hi) - Math.log(WMEM_OVER_SHARE.lo)));
    return Math.min(1048576, Math.max(256, Math.round(shareKiB * f)));
  }

  /**
   * The design at unit coordinates u in [0, 1]^d of the space (the baselines' genome): the
   * mesh from the box's mesh rules, every other dimension as the continuous action
   * a = 2u - 1 sets it, so every algorithm reaches designs through the same quantisation.
   */
  designFromUnit(u: ArrayLike<number>, name: string): Design {
    const at = (path: string) => {
      const i = DIMENSIONS.findIndex((d) => d.path === path);
      return fromRule(DIMENSIONS[i], this.box.rules[path] ?? { lo: 2, hi: 64 }, u[i]) as number;
    };
    const mesh = designFromValues(new Map<string, DimValue>([['processNodeNm', this.node], ['clockMHz', MAX_CLOCK_MHZ[this.node]], ['mesh.rows', at('mesh.rows')], ['mesh.cols', at('mesh.cols')]]), name);
    const continuous = Float32Array.from(CONTINUOUS_DIMS, (dim) => 2 * u[DIMENSIONS.indexOf(dim)] - 1);
    return this.apply(mesh, { discrete: [2, 2], continuous }, name);
  }

  /** The continuous action that reproduces `design`'s values (the inverse quantisation: each value's bin centre), for restarts and tests. */
  actionOf(design: Design): Float32Array {
    const a = new Float32Array(CONTINUOUS_COUNT);
    CONTINUOUS_DIMS.forEach((dim, j) => {
      const v = getPath(design, dim.path);
      let u: number;
      if (dim.path === 'tile.wmemKiB') {
        const shareKiB = weightBytes(this.card, design.precision.weights).totalBytes / (design.mesh.rows * design.mesh.cols) / 1024;
        u = Math.log((v as number) / shareKiB / WMEM_OVER_SHARE.lo) / Math.log(WMEM_OVER_SHARE.hi / WMEM_OVER_SHARE.lo);
      } else u = this.unitOf(dim, v);
      a[j] = Math.min(1, Math.max(-1, 2 * (Number.isFinite(u) ? u : 0.5) - 1));
    });
    return a;
  }

  /** The unit coordinate whose quantisation gives `v` (inside the box rule, else the space's grid). */
  private unitOf(dim: Dimension, v: DimValue): number {
    const rule: BoxRule | undefined = this.box.rules[dim.path];
    if (!rule) return dimToUnit(dim, v, this.node);
    if ('values' in rule) return (rule.values.indexOf(v) + 0.5) / rule.values.length;
    const x = v as number;
    if (dim.kind === 'int') return (x - rule.lo + 0.5) / (rule.hi - rule.lo + 1);
    const lo = Math.log(rule.lo - 0.5 > 0 ? rule.lo - 0.5 : rule.lo * 0.5);
    return (Math.log(x) - lo) / (Math.log(rule.hi + 0.5) - lo);
  }
}
