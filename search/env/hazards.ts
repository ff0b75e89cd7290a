import type { Design } from '../../sim/design/design.js';
import { runKernel } from '../../sim/tile/run.js';

/**
 * Hazard statistics of a design's tile (docs/explore.md "Observation"): the paper's
 * RAW/WAR/WAW and per-TCC hazard features (state indices 37-44) and the hazard score of
 * its reward's P_haz (Eq. 34), measured, not guessed: the tile model (sim/tile, fast
 * fidelity) runs one representative decode kernel, a GEMV slice of 8 rows x 2048 columns,
 * on the design's tile, and its stall attribution (docs/tile.md "Stall attribution") gives
 * the share of cycles lost to each hazard: RAW (a source not ready), reservation stations
 * full (WAR/WAW renaming room), write ports and dispatch ports (structural), fetch.
 *
 * Results are memoised on the fields the tile model reads for this kernel (the tile's
 * microarchitecture and the precisions), so a search revisiting a tile configuration pays
 * nothing; a new one costs one kernel run (~0.5-2 ms, `npm run bench -- search`).
 */

export interface HazardStats {
  /** Shares of the kernel's cycles stalled on each cause. */
  readonly raw: number;
  readonly reservation: number;
  readonly structural: number;
  readonly fetch: number;
  readonly memoryPorts: number;
  /** The hazard score of Eq. 34: (RAW + reservation + write-port + dispatch stalls) / cycles, in [0, 1]. */
  readonly score: number;
  /** MACs per cycle over the vector lanes: how busy the vector unit is on the kernel. */
  readonly laneUtilisation: number;
}

export const HAZARD_KERNEL = { kind: 'gemv', rows: 8, cols: 2048 } as const;

const MEMO_LIMIT = 20_000;
const memo = new Map<string, HazardStats>();

function keyOf(d: Design): string {
  const t = d.tile;
  const p = d.precision;
  return `${t.fetchWidth},${t.reservationStations},${t.vlenBits},${t.scalarWritePorts},${t.vectorWritePorts},${t.scalarDispatchPorts},${t.vectorDispatchPorts},${t.romBytesPerCycle},${t.dmemPorts},${t.dmemBytesPerCycle},${t.scheduling},${t.imemKiB},${p.weights},${p.activations}`;
}

/** Hazard statistics of the design's uniform tile (memoised). */
export function hazardStats(design: Design): HazardStats {
  const key = keyOf(design);
  const hit = memo.get(key);
  if (hit) return hit;
  const r = runKernel(design.tile, design.precision, HAZARD_KERNEL, { fidelity: 'fast' });
  const s = r.stallCycles;
  const cycles = Math.max(1, r.cycles);
  const lanes = design.tile.vlenBits / (design.precision.activations === 'int8' ? 8 : 16);
  const stats: HazardStats = {
    raw: s.raw / cycles,
    reservation: s.reservation / cycles,
    structural: (s.writePort + s.dispatch) / cycles,
    fetch: s.fetch / cycles,
    memoryPorts: (s.romPort + s.dmemPort) / cycles,
    score: Math.min(1, (s.raw + s.reservation + s.writePort + s.dispatch) / cycles),
    laneUtilisation: Math.min(1, r.macs / (cycles * lanes)),
  };
  if (memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value!);
  memo.set(key, stats);
  return stats;
}
