import { Rng } from '../random/rng.js';
import type { ProbeStep } from '../chip/stepProbe.js';
import { exactStep, shapeKind, type ShapeKind, type StepShape } from './shape.js';
import type { ExactRows, StartedStep, StepObserver } from './scheduler.js';
import type { StepProber } from './memo.js';
import { visitTiming } from './memo.js';

/**
 * Cross-validation of the step times on held-out simulated shapes (docs/serving.md).
 * While the run goes, a seeded reservoir per kind (decode, prefill, last prefill
 * chunk, mixed, last mixed chunk, vision) keeps up to `budget` iterations, with the time the
 * run used for them; at the check, the budget is shared out over the kinds in proportion to
 * their iterations, at least 2 each. An iteration is checked as it ran: alone, or, if other
 * steps were in flight when it started, together with the steps started just before it. Afterwards each is simulated exactly as it ran (every row's own cached
 * context, not the memo's representative) on the chip, and the relative error of the
 * memo's time against that simulation is reported. None of these simulations is a memo
 * node, so the check is out of sample.
 *
 * A further reservoir (kind `in-flight`, its share of the budget by how many iterations
 * started while other steps were in flight, at least 4) keeps iterations that started while
 * other steps were in flight, with the steps started just before them (a few per
 * micro-batch slot, so that chains of overlaps are in): the group is simulated together on
 * the chip, each step started at its own cycle, and the iteration's latency there is
 * compared with the latency the serving tier gives the same group started the same way
 * (memo times through the shared regions, pipeline.ts). This checks the overlap of
 * micro-batches as well as the step times, on the same footing: both start the group fresh.
 * Overlaps that slow a step most set the tail latencies (ITL p99), so this reservoir is
 * weighted by the slowdown the step met (0.05 + latency over its time alone - 1; Efraimidis
 * and Spirakis' weighted reservoir: keep the largest u^(1/w)).
 */

interface Sample {
  /** The time the run used (a step alone); for a group in flight, computed at the check. */
  readonly predictedCycles?: number;
  /** Steps to simulate together; the sample is the last one. */
  readonly steps: readonly ProbeStep[];
  /** A group in flight: the shapes and start cycles, to predict at the check. */
  readonly group?: readonly { readonly shape: StepShape; readonly startCycles: number }[];
}

/** The serving tier's latency of each step of a group started at the given cycles (shared regions). */
export type GroupPredictor = (group: readonly { readonly shape: StepShape; readonly startCycles: number }[]) => number[];

export type CheckKind = ShapeKind | 'in-flight';

export interface KindError {
  readonly kind: CheckKind;
  /** Iterations of this kind in the run. */
  readonly iterations: number;
  readonly samples: number;
  /** Mean of (memo - simulated) / simulated. */
  readonly meanError: number;
  readonly meanAbsError: number;
  readonly maxAbsError: number;
}

export interface HoldoutReport {
  readonly samples: number;
  /** Every held-out relative error, by kind (for the error replays). */
  readonly errors: Readonly<Partial<Record<CheckKind, readonly number[]>>>;
  readonly byKind: readonly KindError[];
  /** Iteration-weighted mean absolute relative error of the step times. */
  readonly meanAbsError: number;
  /** Largest absolute relative error seen. */
  readonly maxAbsError: number;
  /** Chip events spent on the held-out simulations. */
  readonly events: number;
}

/** A copy of `xs` in a seeded random order (Fisher-Yates). */
function shuffled<T>(xs: readonly T[], rng: Rng): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export class HoldoutSampler implements StepObserver {
  private readonly rng: Rng;
  private readonly seen = new Map<CheckKind, number>();
  private readonly picks = new Map<CheckKind, Sample[]>();
  private iterations = 0;

  constructor(
    /** Held-out iterations simulated in all. */
    private readonly budget: number,
    private readonly seed: number,
    private readonly vocabSize: number,
  ) {
    this.rng = new Rng(seed, 'serving/holdout');
  }

  /** Reservoir sampling (Vitter's algorithm R): the slot to fill, or -1 to skip. */
  private slot(kind: CheckKind, size: number): { list: Sample[]; at: number } | undefined {
    const n = (this.seen.get(kind) ?? 0) + 1;
    this.seen.set(kind, n);
    let list = this.picks.get(kind);
    if (!list) this.picks.set(kind, (list = []));
    const at = list.length < size ? list.length : this.rng.int(0, n - 1);
    return at < size ? { list, at } : undefined;
  }

  private probeStep(shape: StepShape, e: ExactRows, key: string): ProbeStep {
    return shape.vision ? { kind: 'vision', crops: 1 } : exactStep(e.decodeContexts, e.chunk, this.seed, key, this.vocabSize);
  }

  observe(shape: StepShape, predictedCycles: number, rows: ExactRows, context: (() => readonly StartedStep[]) | undefined): void {
    if (this.budget <= 0) return;
    const kind = shapeKind(shape);
    this.iterations++;
    const s = this.slot(kind, this.budget);
    if (!s) return;
    const key = `holdout/${kind}/${this.seen.get(kind)}`;
    // checked as it ran: alone, or with the steps in flight around it
    s.list[s.at] = context ? this.groupSample(context(), key) : { predictedCycles, steps: [this.probeStep(shape, rows, key)] };
  }

  /** A sample of a step that ran with others: the group, each step at its start cycle. */
  private groupSample(recent: readonly StartedStep[], key: string): Sample {
    const t0 = recent[0].startCycles;
    return {
      steps: recent.map((x, k) => ({ ...this.probeStep(x.shape, x.rows, `${key}/${k}`), startCycles: x.startCycles - t0 })),
      group: recent.map((x) => ({ shape: x.shape, startCycles: x.startCycles - t0 })),
    };
  }

  /** The weighted reservoir of overlapping steps: keys and samples, smallest key first out. */
  private readonly overlapKeys: number[] = [];
  private readonly overlaps: Sample[] = [];
  private overlapsSeen = 0;

  observeInFlight(recent: readonly StartedStep[]): ((latencyCycles: number, aloneCycles: number) => void) | undefined {
    if (this.budget <= 0) return undefined;
    const n = ++this.overlapsSeen;
    return (latency, alone) => {
      // a floor, so that overlaps the regions do not slow (other regions, the NoC) are checked too
      const w = 0.05 + Math.max(0, latency / Math.max(1, alone) - 1);
      const key = this.rng.next() ** (1 / w);
      const full = this.overlaps.length >= this.budget;
      let min = 0;
      if (full) {
        for (let i = 1; i < this.overlapKeys.length; i++) if (this.overlapKeys[i] < this.overlapKeys[min]) min = i;
        if (key <= this.overlapKeys[min]) return;
      }
      const sample = this.groupSample(recent, `holdout/in-flight/${n}`);
      if (full) {
        this.overlapKeys[min] = key;
        this.overlaps[min] = sample;
      } else {
        this.overlapKeys.push(key);
        this.overlaps.push(sample);
      }
    };
  }

  /** Simulate the kept iterations and compare. */
  check(prober: StepProber, predictGroup: GroupPredictor): HoldoutReport {
    const byKind: KindError[] = [];
    let events = 0;
    let weighted = 0;
    let weight = 0;
    let maxAbs = 0;
    let samples = 0;
    const all: Partial<Record<CheckKind, number[]>> = {};
    const share = (kind: CheckKind) => Math.max(kind === 'in-flight' ? 8 : 2, Math.round((this.budget * (this.seen.get(kind) ?? 0)) / Math.max(1, this.iterations)));
    if (this.overlaps.length) {
      this.picks.set('in-flight', this.overlaps);
      this.seen.set('in-flight', this.overlapsSeen);
    }
    for (const [kind, kept] of [...this.picks.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      // the kept ones are a uniform sample; a seeded shuffle makes any prefix one too
      const list = shuffled(kept, this.rng).slice(0, share(kind));
      const errors = list.map((s) => {
        const probe = prober.run(s.steps);
        events += probe.events;
        const last = probe.steps[probe.steps.length - 1];
        if (!s.group) {
          const cycles = visitTiming(last.visits, last.startCycles, last.doneCycles).cycles;
          return (s.predictedCycles! - cycles) / cycles;
        }
        const predicted = predictGroup(s.group);
        const cycles = last.doneCycles - last.startCycles;
        return (predicted[predicted.length - 1] - cycles) / cycles;
      });
      all[kind] = errors;
      const abs = errors.map(Math.abs);
      const meanAbs = abs.reduce((a, b) => a + b, 0) / Math.max(1, abs.length);
      const iterations = this.seen.get(kind) ?? 0;
      byKind.push({ kind, iterations, samples: errors.length, meanError: errors.reduce((a, b) => a + b, 0) / Math.max(1, errors.length), meanAbsError: meanAbs, maxAbsError: Math.max(0, ...abs) });
      weighted += meanAbs * iterations;
      weight += iterations;
      maxAbs = Math.max(maxAbs, ...abs);
      samples += errors.length;
    }
    return { samples, errors: all, byKind, meanAbsError: weight > 0 ? weighted / weight : 0, maxAbsError: maxAbs, events };
  }
}
