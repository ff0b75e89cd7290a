import type { Design } from '../../sim/design/design.js';
import type { TechTable } from '../../sim/tech/table.js';
import type { CounterRecord } from '../../sim/counters/counter.js';
import { TileKernelCosts } from '../../sim/chip/tileCosts.js';
import { workKey, type TileWork } from '../../sim/chip/work.js';
import { energyOf } from '../../sim/power/energy.js';
import type { WorkCycles } from './dataflow.js';

/**
 * Exact tile work for the dataflow path (docs/search.md "Kernel features"): each work the
 * path estimate names is run through the simulator's own tile cost model (sim/chip/
 * tileCosts.ts: the fast tile model's kernels, blocked as the simulator blocks them), so
 * the kernels' efficiency (1x to 4x over their resource limits, by FETCH, dispatch ports,
 * reservation stations, scheduling) is computed, not learned; and their activity counters,
 * times the runs per step, give the step's tile energy through the simulator's energy
 * table (sim/power/energy.ts). Costs are memoised by (tile parameters, precision, work
 * shape), the key the simulator memoises on, so a search that revisits a tile
 * configuration pays once.
 */

interface Cost {
  readonly cycles: number;
  readonly counters: CounterRecord;
}

/** Memoised costs by exact key; bounded (oldest first out). null: the tile model refused the work. */
const memo = new Map<string, Cost | null>();
const MAX_ENTRIES = 100_000;

/** Components of the energy result that are not the counted tile activity. */
const NOT_ACTIVITY = new Set(['logicLeakage', 'sramLeakage', 'routerClock']);

/** A work split in `parts` equal pieces (rows of a linear, keys of an attention), or null when it has nothing to split. */
function piece(w: TileWork, parts: number): TileWork | null {
  if (w.kind === 'linear' && w.rows >= 2 * parts) return { ...w, rows: Math.ceil(w.rows / parts), ropeRows: w.ropeRows ? Math.min(w.ropeRows, Math.ceil(w.rows / parts)) : undefined };
  if (w.kind === 'attention' && w.positions >= 2 * parts) return { ...w, positions: Math.ceil(w.positions / parts), kvPositions: Math.ceil(w.kvPositions / parts) };
  return null;
}

/**
 * The tile model's cost of a work; a work it refuses (a slice larger than the estimate's
 * tile holds in WMEM or DMEM: the path puts n / S tiles in every region, the mapper sizes
 * regions by weight bytes, so the LM head's slice can be larger here than in the
 * simulator) is costed as 2, 4, ... 64 equal pieces run one after another; null when none fits.
 */
function costOf(costs: TileKernelCosts, work: TileWork): Cost | null {
  for (let parts = 1; parts <= 64; parts *= 2) {
    const w = parts === 1 ? work : piece(work, parts);
    if (!w) return null;
    try {
      const r = costs.cost(0, w);
      const counters: CounterRecord = {};
      for (const name in r.counters) counters[name] = r.counters[name] * parts;
      return { cycles: r.cycles * parts, counters };
    } catch {
      // refused: try smaller pieces
    }
  }
  return null;
}

export interface KernelWork {
  /** The path's work cycles of `design`'s first tile (every tile for uniform designs). */
  readonly cycles: WorkCycles;
  /** Tile activity energy (pJ, at the design's supply) of the works asked for so far, each times its runs. */
  tileEnergyPj(tech: TechTable): number;
  /** The activity counters of the works asked for so far, each times its runs. */
  readonly counters: Readonly<CounterRecord>;
}

export function kernelWork(design: Design): KernelWork {
  const tileKey = `${JSON.stringify(design.tileOverrides.length ? [design.tile, design.tileOverrides] : design.tile)}|${design.precision.weights},${design.precision.activations},${design.precision.kvCache}|`;
  let costs: TileKernelCosts | undefined;
  const total: Record<string, number> = {};
  const cycles: WorkCycles = (work, runs) => {
    const key = tileKey + workKey(work);
    let c = memo.get(key);
    if (c === undefined) {
      costs ??= new TileKernelCosts(design, 'fast');
      c = costOf(costs, work);
      if (memo.size >= MAX_ENTRIES) memo.delete(memo.keys().next().value as string);
      memo.set(key, c);
    }
    if (!c) return undefined;
    for (const name in c.counters) total[name] = (total[name] ?? 0) + c.counters[name] * runs;
    return c.cycles;
  };
  return {
    cycles,
    counters: total,
    tileEnergyPj(tech) {
      const e = energyOf(total, design, tech, 1);
      let pj = 0;
      for (const [name, v] of Object.entries(e.byComponentPj)) if (!NOT_ACTIVITY.has(name)) pj += v;
      return pj;
    },
  };
}
