import type { ModelCard } from '../model/card.js';
import type { Design } from '../design/design.js';
import type { CounterRecord } from '../counters/counter.js';
import { Simulator } from '../kernel/simulator.js';
import { CounterRegistry } from '../counters/registry.js';
import { createNetwork } from '../noc/create.js';
import type { ChipMapping } from './mapping.js';
import { Placement } from './placement.js';
import { ChipEngine } from './engine.js';
import { TileKernelCosts } from './tileCosts.js';
import { buildTextStep, buildVisionStep, type BuiltStep, type ImageRows, type StepSequence } from './step.js';
import type { ChipFidelity } from './run.js';
import type { TechTable } from '../tech/table.js';
import { dieLinksOf, withDieLinks } from './dieLinks.js';

/**
 * The chip simulation of a few steps on their own: the one hook the serving tier
 * (sim/serving, docs/serving.md) uses to time iterations. Each probe
 * builds the steps' task graphs with the step builder (sim/chip/step.ts), starts each at
 * its cycle on a fresh engine and NoC of the chosen fidelity, and runs them to the end:
 * the same code path `serveTrace` runs step by step, used as a black box. The tile-kernel
 * cost memo is kept across probes (kernel costs depend only on the work's shape).
 *
 * A probe returns, per step, when it finished and its visits to the pipeline regions (so
 * the serving tier can overlap micro-batches region by region), and the activity of the
 * whole probe (per-tile counters, NoC counters, link flits) so that power over a served
 * trace is a sum of simulated activity. A visit is a span of time in which the step's tasks
 * ran on one region's tiles: per region, the step's task intervals merged wherever the gap
 * between them is at most `VISIT_GAP` of the step (a region is left when the step's work
 * moves on; a tied embedding read in the head region at the start is a visit of its own).
 */

/** Largest gap, as a share of the step's cycles, inside one visit to a region. */
export const VISIT_GAP = 0.02;

export interface RegionVisit {
  readonly region: number;
  readonly startCycles: number;
  readonly endCycles: number;
  /** Tile-cycles of the step's tasks in the visit, and how many tasks. */
  readonly taskCycles: number;
  readonly tasks: number;
}

export type ProbeStep =
  /** A text step: decode rows and/or a prefill chunk; `imageRows` image-token rows join before layer 0. */
  | { readonly kind: 'text'; readonly sequences: readonly StepSequence[]; readonly imageRows?: number; readonly startCycles?: number }
  /** One vision-encoder pass over `crops` encoder crops (serveTrace runs one crop per pass). */
  | { readonly kind: 'vision'; readonly crops: number; readonly startCycles?: number };

export interface ProbedStep {
  readonly startCycles: number;
  /** The cycle its last task (the token, or the connector output) completed. */
  readonly doneCycles: number;
  /** Its visits to the regions, in the order they began. */
  readonly visits: readonly RegionVisit[];
}

export interface ProbeActivity {
  /** Per tile-counter name, the per-tile totals (row-major tiles). */
  readonly tileCounters: ReadonlyMap<string, Float64Array>;
  /** Per-tile busy cycles. */
  readonly busyCycles: Float64Array;
  /** Chip-wide NoC counters (noc.*). */
  readonly nocCounters: CounterRecord;
  /** Flits out of each router port (router x 5 + port), as `Network.linkFlits`. */
  readonly linkFlits: Float64Array;
}

export interface ProbeResult {
  readonly steps: readonly ProbedStep[];
  /** Cycle the last step finished. */
  readonly cycles: number;
  /** Chip-level events the probe dispatched. */
  readonly events: number;
  readonly activity: ProbeActivity;
}

export class StepProbe {
  /**
   * The step builder's look-up tables, made afresh for every probe: they memoise per-tile
   * work and collective plans per row count (sim/chip/layers.ts), about 15 MB per distinct
   * row count on paper-llama-3nm, and a served trace probes steps of most counts from 1 to
   * the chunk size (measured on the first 100 Azure requests: the live heap grew from 37 to
   * 149 MB over 20 probes with one table, and stayed at 23-31 MB over 29 with a fresh one).
   */
  private place: Placement;
  private readonly costs: TileKernelCosts;
  private readonly regionOfTile: Int32Array;
  private connector: ImageRows['holders'] | undefined;
  private readonly dies: ReturnType<typeof dieLinksOf>;
  /** Probes run and chip events dispatched by them. */
  probes = 0;
  events = 0;

  constructor(
    private readonly card: ModelCard,
    private readonly design: Design,
    readonly mapping: ChipMapping,
    readonly fidelity: ChipFidelity,
    private readonly kvWindowTokens: number,
    tech: TechTable,
  ) {
    // a design beyond the reticle: die-to-die latency on crossing messages, as in run.ts
    this.dies = dieLinksOf(design, tech);
    this.place = new Placement(mapping, design.mesh.cols, design.mapping.treeRadix);
    this.costs = new TileKernelCosts(design, fidelity === 'detailed' ? 'detailed' : 'fast');
    this.regionOfTile = new Int32Array(design.mesh.rows * design.mesh.cols).fill(-1);
    for (const t of mapping.tiles) this.regionOfTile[t.tile] = t.region;
  }

  get regions(): number {
    return this.mapping.regions.length;
  }

  /** Kernel runs and kernel-model events spent on tile costs so far (cache misses). */
  get kernelStats(): { readonly kernelsRun: number; readonly kernelEvents: number } {
    return { kernelsRun: this.costs.kernelsRun, kernelEvents: this.costs.events };
  }

  /** The connector tiles holding a vision pass's output rows, as serveTrace hands them on. */
  private connectorHolders(): ImageRows['holders'] {
    this.connector ??= buildVisionStep({ card: this.card, design: this.design, place: this.place }, 0, 1).image.holders;
    return this.connector;
  }

  /** A step's visits to the regions (see VISIT_GAP). */
  private visits(b: BuiltStep, start: number): RegionVisit[] {
    const gap = VISIT_GAP * Math.max(1, b.done.endCycles - start);
    const byRegion = new Map<number, { s: number; e: number; work: number }[]>();
    for (const t of b.tasks) {
      const r = this.regionOfTile[t.tile];
      let list = byRegion.get(r);
      if (!list) byRegion.set(r, (list = []));
      list.push({ s: t.startCycles, e: t.endCycles, work: t.work ? t.endCycles - t.startCycles : -1 });
    }
    const visits: { region: number; startCycles: number; endCycles: number; taskCycles: number; tasks: number }[] = [];
    for (const [region, list] of byRegion) {
      list.sort((x, y) => x.s - y.s);
      let cur: (typeof visits)[number] | undefined;
      for (const t of list) {
        if (!cur || t.s > cur.endCycles + gap) visits.push((cur = { region, startCycles: t.s, endCycles: t.e, taskCycles: 0, tasks: 0 }));
        cur.endCycles = Math.max(cur.endCycles, t.e);
        if (t.work >= 0) {
          cur.taskCycles += t.work;
          cur.tasks++;
        }
      }
    }
    return visits.sort((x, y) => x.startCycles - y.startCycles || x.region - y.region);
  }

  run(steps: readonly ProbeStep[]): ProbeResult {
    // a wider near window than the default: task and message delays here run to thousands of cycles
    const sim = new Simulator({ nearWindowCycles: 1 << 14 });
    const registry = new CounterRegistry();
    const network = withDieLinks(createNetwork(sim, this.design, { model: this.fidelity === 'fast' ? 'message' : 'flit', counters: registry, reservation: 'path' }), sim, this.dies.layout, this.design.mesh.cols, this.dies.latencyCycles);
    const tiles = this.design.mesh.rows * this.design.mesh.cols;
    this.place = new Placement(this.mapping, this.design.mesh.cols, this.design.mapping.treeRadix);
    const engine = new ChipEngine(sim, network, this.costs, tiles);
    const sc = { card: this.card, design: this.design, place: this.place };
    const built: BuiltStep[] = steps.map((s, k) =>
      s.kind === 'vision'
        ? buildVisionStep(sc, k, s.crops)
        : buildTextStep(sc, k, s.sequences, this.kvWindowTokens, s.imageRows ? { holders: this.connectorHolders(), rows: s.imageRows } : undefined),
    );
    built.forEach((b, k) => {
      const at = steps[k].startCycles ?? 0;
      if (at <= 0) engine.start(b.tasks);
      else sim.scheduleAt(at, () => engine.start(b.tasks));
    });
    sim.run();
    network.settle();
    const out: ProbedStep[] = built.map((b, k) => {
      if (b.done.endCycles < 0) throw new Error(`internal: probed step ${k} did not finish`);
      const start = steps[k].startCycles ?? 0;
      return { startCycles: start, doneCycles: b.done.endCycles, visits: this.visits(b, start) };
    });
    this.probes++;
    this.events += sim.eventsDispatched;
    return {
      steps: out,
      cycles: Math.max(...out.map((s) => s.doneCycles)),
      events: sim.eventsDispatched,
      activity: { tileCounters: engine.tileCounters, busyCycles: engine.busyCycles, nocCounters: registry.totals(), linkFlits: network.linkFlits() },
    };
  }
}
