import type { ProbeActivity, ProbeResult, ProbeStep, RegionVisit } from '../chip/stepProbe.js';
import { ExactAxis, RefinedAxis, type Axis, type Bracket } from './axes.js';
import { nodeStep, type StepShape } from './shape.js';

/**
 * Step times of the serving fidelity (docs/serving.md): every iteration's
 * time is interpolated between simulated steps (nodes) of its family, and each node is a
 * chip simulation of one step (sim/chip/stepProbe.ts), run on demand the first time a
 * query needs it and memoised. Coordinates per family (shape.ts): decode rows b, prefill
 * rows n and the mean cached context per row u, each on a refined axis (axes.ts: a
 * geometric base lattice from 1 row or `contextGridTokens` tokens, bisected wherever a
 * check point misses the interpolation by more than `tolerance`). An iteration's time, its
 * per-region times and its activity are the same weighted sum of its corner nodes
 * (multilinear weights), so every figure of a served trace is traceable to simulated
 * steps: the run's activity is the sum over nodes of (total weight the iterations gave
 * the node) x (the node's simulated activity).
 */

export interface StepProber {
  readonly regions: number;
  run(steps: readonly ProbeStep[]): ProbeResult;
}

export interface MemoOptions {
  /** First step of the context lattice (tokens); it doubles from there (0, G, 2G, 4G, ...). */
  readonly contextGridTokens: number;
  /** Relative error a refined interval's midpoint may have against the interpolation. */
  readonly tolerance: number;
  /** Most decode rows a step can have (sequences per micro-batch slot). */
  readonly maxDecodeRows: number;
  /** The per-step token budget (serving.prefillChunkTokens). */
  readonly chunkTokens: number;
  readonly kvWindowTokens: number;
  readonly seed: number;
  readonly vocabSize: number;
}

/**
 * A step's time as the region model (pipeline.ts) takes it: its visits to the pipeline
 * regions in order, the cycles each adds to the step (consecutive; they add up to
 * `cycles`) and the mean cycles of the step's tasks there (how finely it interleaves with
 * another step sharing the region).
 */
export interface VisitTiming {
  readonly cycles: number;
  readonly regions: Int32Array;
  readonly work: Float64Array;
  readonly taskCycles: Float64Array;
}

/** A simulated step of the memo: what a node's probe measured. */
export interface MemoNode extends VisitTiming {
  readonly key: string;
  /** Chip events the probe dispatched. */
  readonly events: number;
  readonly activity: ProbeActivity;
}

interface Family {
  readonly key: string;
  readonly vision: boolean;
  readonly emits: boolean;
  readonly imageShare: 'text' | 'image' | number;
  /** Axes for the coordinates [b, n, u]; null where the family has no such coordinate. */
  readonly axes: readonly (Axis | null)[];
}

/** The timing of a probed step from its visits: each visit adds the cycles by which it extends the step. */
export function visitTiming(visits: readonly RegionVisit[], startCycles: number, doneCycles: number): VisitTiming {
  const n = visits.length;
  const regions = new Int32Array(n);
  const work = new Float64Array(n);
  const taskCycles = new Float64Array(n);
  let reach = startCycles;
  visits.forEach((v, k) => {
    regions[k] = v.region;
    work[k] = Math.max(0, v.endCycles - reach);
    reach = Math.max(reach, v.endCycles);
    taskCycles[k] = v.tasks > 0 ? v.taskCycles / v.tasks : 1;
  });
  // the done task's tail (after the last task end, if any) goes to the last visit
  if (n > 0) work[n - 1] += Math.max(0, doneCycles - reach);
  return { cycles: Math.max(doneCycles, reach) - startCycles, regions, work, taskCycles };
}

/** Scratch for one iteration's interpolated timing (visits in order). */
export class StepTiming {
  count = 0;
  regions = new Int32Array(16);
  work = new Float64Array(16);
  taskCycles = new Float64Array(16);

  /** Take the structure of `node` (region sequence), all sums zero. */
  shape(node: VisitTiming): void {
    const n = node.regions.length;
    if (n > this.regions.length) {
      this.regions = new Int32Array(2 * n);
      this.work = new Float64Array(2 * n);
      this.taskCycles = new Float64Array(2 * n);
    }
    this.count = n;
    this.regions.set(node.regions);
    this.work.fill(0, 0, n);
    this.taskCycles.fill(0, 0, n);
  }

  /** Same region sequence as `node`? */
  matches(node: VisitTiming): boolean {
    if (node.regions.length !== this.count) return false;
    for (let k = 0; k < this.count; k++) if (node.regions[k] !== this.regions[k]) return false;
    return true;
  }
}

export class StepMemo {
  private readonly families = new Map<string, Family>();
  private readonly byKey = new Map<string, number>();
  readonly nodes: MemoNode[] = [];
  /** Per node: how many were simulated in this run (not loaded from a saved memo). */
  private readonly simulatedHere: boolean[] = [];
  /** Per node: total interpolation weight the iterations gave it. */
  usage = new Float64Array(64);
  private readonly coords = new Float64Array(3);
  private readonly brackets: Bracket[] = [
    [0, 0],
    [0, 0],
    [0, 0],
  ];

  constructor(
    private readonly prober: StepProber,
    readonly options: MemoOptions,
    /** Nodes simulated by an earlier run of the same design, model and simulator version. */
    saved: readonly MemoNode[] = [],
  ) {
    for (const n of saved) this.add(n, false);
  }

  /** Nodes simulated in this run. */
  get simulatedNodes(): number {
    return this.simulatedHere.filter(Boolean).length;
  }

  private add(n: MemoNode, here: boolean): number {
    const id = this.nodes.length;
    this.nodes.push(n);
    this.simulatedHere.push(here);
    this.byKey.set(n.key, id);
    if (id >= this.usage.length) {
      const u = new Float64Array(this.usage.length * 2);
      u.set(this.usage);
      this.usage = u;
    }
    return id;
  }

  private family(s: StepShape): Family {
    const imageShare: Family['imageShare'] = s.imageRows === 0 ? 'text' : s.imageRows === s.prefillRows ? 'image' : s.imageRows;
    const kind = s.vision ? 'v' : s.prefillRows === 0 ? 'd' : s.decodeRows === 0 ? 'p' : 'm';
    // a chunk mixing image and text rows is rare (one per image request): its rows are exact
    const key = kind === 'v' || kind === 'd' ? kind : `${kind}${s.emits ? 1 : 0}${typeof imageShare === 'number' ? `i${imageShare}n${s.prefillRows}` : imageShare[0]}`;
    let f = this.families.get(key);
    if (f) return f;
    const o = this.options;
    const maxB = Math.max(1, Math.min(o.maxDecodeRows, kind === 'm' ? o.chunkTokens - 1 : o.maxDecodeRows));
    const maxN = Math.max(1, kind === 'm' ? o.chunkTokens - 1 : o.chunkTokens);
    const bAxis = new RefinedAxis(1, 2, maxB, true);
    const nAxis = typeof imageShare === 'number' ? new ExactAxis() : new RefinedAxis(1, 2, maxN, true);
    const uAxis = new RefinedAxis(0, o.contextGridTokens, o.kvWindowTokens > 0 ? o.kvWindowTokens - 1 : Number.POSITIVE_INFINITY, false);
    const axes: (Axis | null)[] = kind === 'v' ? [null, null, null] : kind === 'd' ? [bAxis, null, uAxis] : kind === 'p' ? [null, nAxis, uAxis] : [bAxis, nAxis, uAxis];
    f = { key, vision: s.vision, emits: s.emits, imageShare, axes };
    this.families.set(key, f);
    return f;
  }

  /** The node at these coordinates, simulated now if no run has simulated it yet. */
  private node(f: Family, b: number, n: number, u: number): number {
    const key = `${f.key}|${b},${n},${u}`;
    const id = this.byKey.get(key);
    if (id !== undefined) return id;
    const o = this.options;
    const probe = this.prober.run([nodeStep(f, b, n, u, key, o.seed, o.vocabSize)]);
    const step = probe.steps[0];
    return this.add({ key, ...visitTiming(step.visits, step.startCycles, step.doneCycles), events: probe.events, activity: probe.activity }, true);
  }

  /**
   * Cycles of an iteration of this shape; its visits are written to `timing`, and the
   * corner nodes' weights are added to their usage (the run's activity).
   */
  time(s: StepShape, timing: StepTiming | null): number {
    return this.interpolate(s, timing, true);
  }

  /** The same without adding to the usage (held-out checks, error replays). */
  predict(s: StepShape, timing: StepTiming | null): number {
    return this.interpolate(s, timing, false);
  }

  private interpolate(s: StepShape, timing: StepTiming | null, count: boolean): number {
    const f = this.family(s);
    const c = this.coords;
    const rows = s.decodeRows + s.prefillRows;
    c[0] = f.axes[0] ? s.decodeRows : 0;
    c[1] = f.axes[1] ? s.prefillRows : 0;
    c[2] = f.axes[2] ? (s.decodeContextSum + s.prefillRows * s.prefillContext) / rows : 0;
    // axis by axis; a check on one axis is made at the other coordinates' lower nodes
    const br = this.brackets;
    for (let a = 0; a < 3; a++) {
      const axis = f.axes[a];
      br[a] = axis ? axis.bracket(c[a], (lo, at, hi) => this.interpolates(f, a, lo, at, hi)) : [0, 0];
    }
    const ids = this.cornerIds;
    const ws = this.cornerWeights;
    let corners = 0;
    let cycles = 0;
    let main = -1;
    for (let k = 0; k < 8; k++) {
      let w = 1;
      for (let a = 0; a < 3 && w > 0; a++) {
        const [lo, hi] = br[a];
        const up = (k >> a) & 1;
        if (lo === hi) w = up ? 0 : w;
        else w *= up ? (c[a] - lo) / (hi - lo) : (hi - c[a]) / (hi - lo);
      }
      if (w === 0) continue;
      const id = this.node(f, br[0][k & 1], br[1][(k >> 1) & 1], br[2][(k >> 2) & 1]);
      ids[corners] = id;
      ws[corners++] = w;
      cycles += w * this.nodes[id].cycles;
      if (count) this.usage[id] += w;
      if (main < 0 || w > ws[main]) main = corners - 1;
    }
    if (timing) this.visitsOf(timing, corners, main, cycles);
    return cycles;
  }

  private readonly cornerIds = new Int32Array(8);
  private readonly cornerWeights = new Float64Array(8);

  /**
   * The iteration's visits: the corners' visits interpolated with the same weights when
   * they visit the same regions in the same order; otherwise (a rare change of dataflow
   * within a cell) the heaviest corner's visits, scaled to the interpolated cycles.
   */
  private visitsOf(timing: StepTiming, corners: number, main: number, cycles: number): void {
    const lead = this.nodes[this.cornerIds[main]];
    timing.shape(lead);
    let same = true;
    for (let i = 0; i < corners && same; i++) same = timing.matches(this.nodes[this.cornerIds[i]]);
    if (same) {
      for (let i = 0; i < corners; i++) {
        const node = this.nodes[this.cornerIds[i]];
        const w = this.cornerWeights[i];
        for (let k = 0; k < timing.count; k++) {
          timing.work[k] += w * node.work[k];
          timing.taskCycles[k] += w * node.taskCycles[k];
        }
      }
      return;
    }
    const scale = lead.cycles > 0 ? cycles / lead.cycles : 1;
    for (let k = 0; k < timing.count; k++) {
      timing.work[k] = lead.work[k] * scale;
      timing.taskCycles[k] = lead.taskCycles[k];
    }
  }

  /** A refined axis's check: is `point` interpolated within the tolerance, at the lower nodes of the other coordinates? */
  private interpolates(f: Family, axis: number, lo: number, point: number, hi: number): boolean {
    const at = [0, 0, 0];
    for (let a = 0; a < 3; a++) {
      const other = f.axes[a];
      if (a !== axis && other) at[a] = other instanceof RefinedAxis ? other.peek(this.coords[a])[0] : this.coords[a];
    }
    const value = (v: number) => {
      at[axis] = v;
      return this.nodes[this.node(f, at[0], at[1], at[2])].cycles;
    };
    const tLo = value(lo);
    const tHi = value(hi);
    const tAt = value(point);
    const interp = tLo + ((tHi - tLo) * (point - lo)) / (hi - lo);
    return Math.abs(tAt - interp) <= this.options.tolerance * tAt;
  }

  /** Refinement statistics of the row axes (checks made, intervals split). */
  refinement(): { checks: number; splits: number } {
    let checks = 0;
    let splits = 0;
    for (const f of this.families.values())
      for (const a of f.axes)
        if (a instanceof RefinedAxis) {
          checks += a.checks;
          splits += a.splits;
        }
    return { checks, splits };
  }

  /** The run's activity: the usage-weighted sum of the nodes' simulated activity. */
  activity(tiles: number): { tileCounters: Map<string, Float64Array>; busyCycles: Float64Array; nocCounters: Record<string, number>; linkFlits: Float64Array } {
    const tileCounters = new Map<string, Float64Array>();
    const busyCycles = new Float64Array(tiles);
    const nocCounters: Record<string, number> = {};
    let linkFlits = new Float64Array(tiles * 5);
    this.nodes.forEach((node, id) => {
      const w = this.usage[id];
      if (w === 0) return;
      const a = node.activity;
      for (const [name, arr] of a.tileCounters) {
        let acc = tileCounters.get(name);
        if (!acc) tileCounters.set(name, (acc = new Float64Array(tiles)));
        for (let t = 0; t < tiles; t++) acc[t] += w * arr[t];
      }
      for (let t = 0; t < tiles; t++) busyCycles[t] += w * a.busyCycles[t];
      for (const k in a.nocCounters) nocCounters[k] = (nocCounters[k] ?? 0) + w * a.nocCounters[k];
      if (a.linkFlits.length !== linkFlits.length) linkFlits = new Float64Array(a.linkFlits.length).map((_, i) => linkFlits[i] ?? 0);
      for (let i = 0; i < a.linkFlits.length; i++) linkFlits[i] += w * a.linkFlits[i];
    });
    return { tileCounters, busyCycles, nocCounters, linkFlits };
  }

  /** Nodes simulated in this run (to save for the next run of the same design). */
  newNodes(): MemoNode[] {
    return this.nodes.filter((_, i) => this.simulatedHere[i]);
  }
}
