import type { TileParams } from '../design/design.js';
import type { CounterRecord } from '../counters/counter.js';
import { DetailedTile, LOOPBACK_NIC, type TileNic } from './detailed.js';
import { FastTile } from './fast.js';
import { buildKernel, type KernelSpec } from './kernels.js';
import { resolveTiming, type TilePrecision } from './params.js';
import { counterRecord, type StallCause, type TileStats } from './stats.js';

export type Fidelity = 'fast' | 'detailed';

export interface KernelRun {
  readonly cycles: number;
  /** flat record by catalog name (tile.*) */
  readonly counters: CounterRecord;
  readonly stallCycles: Record<StallCause, number>;
  readonly busyCycles: number;
  /** events the model needs in the discrete-event kernel: one per simulated cycle in
   * detailed mode, one per block boundary and communication point in fast mode */
  readonly events: number;
  readonly instructions: number;
  readonly macs: number;
  readonly romBytesRead: number;
  readonly fidelity: Fidelity;
  readonly stats: TileStats;
}

export interface RunOptions {
  readonly fidelity?: Fidelity;
  /** counter instance name, e.g. `tile[2,3]` */
  readonly instance?: string;
  /** stand-in network for kernels with NoC receives: cycle each receive's data arrives */
  readonly recvArrival?: (postedCycle: number, peer: number, tag: number) => number;
}

/**
 * Time one kernel on one tile (pure: no I/O, no clock). Fast mode never runs the detailed
 * pipeline. Throws InputError (one line) for invalid tile parameters or a kernel that
 * does not fit in DMEM.
 */
export function runKernel(tile: TileParams, precision: TilePrecision, kernel: KernelSpec, options: RunOptions = {}): KernelRun {
  const fidelity = options.fidelity ?? 'fast';
  const timing = resolveTiming(tile, precision);
  const { program } = buildKernel(timing, kernel);
  let stats: TileStats;
  let events: number;
  if (fidelity === 'detailed') {
    const arrival = options.recvArrival;
    const nic: TileNic = arrival ? { send: () => true, recv: (c, peer, tag) => Math.max(c + 1, arrival(c, peer, tag)) } : LOOPBACK_NIC;
    const d = new DetailedTile(timing, program, nic);
    d.run();
    stats = d.stats;
    events = stats.cycles;
  } else {
    const f = new FastTile(timing, program, options.recvArrival).run();
    stats = f.stats;
    events = f.events;
  }
  return {
    cycles: stats.cycles,
    counters: counterRecord(stats, options.instance),
    stallCycles: stats.stallRecord(),
    busyCycles: stats.busyCycles,
    events,
    instructions: stats.instructionsIssued,
    macs: stats.macs,
    romBytesRead: stats.romBytesRead,
    fidelity,
    stats,
  };
}

/**
 * Memoised `runKernel` for the full-chip model: a run is a pure function of (tile
 * parameters, precision, kernel, fidelity), and a chip repeats the same kernel on many
 * identical tiles. Results are shared: treat them as read-only.
 */
export class KernelCache {
  private readonly map = new Map<string, KernelRun>();
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries = 100_000) {}

  run(tile: TileParams, precision: TilePrecision, kernel: KernelSpec, options: RunOptions = {}): KernelRun {
    if (options.recvArrival) return runKernel(tile, precision, kernel, options); // not a pure key
    const key = JSON.stringify([tile, precision.weights, precision.activations, precision.kvCache, kernel, options.fidelity ?? 'fast', options.instance ?? '']);
    const hit = this.map.get(key);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const r = runKernel(tile, precision, kernel, options);
    if (this.map.size >= this.maxEntries) this.map.delete(this.map.keys().next().value as string);
    this.map.set(key, r);
    return r;
  }
}
