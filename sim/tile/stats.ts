import { CounterRegistry } from '../counters/registry.js';
import type { Counter, CounterRecord } from '../counters/counter.js';

/**
 * Stall causes, in the documented priority order used when a cycle issues nothing
 * (docs/tile.md "Stall attribution"): the first that applies takes the cycle.
 */
export const STALL_CAUSES = ['noc', 'romPort', 'dmemPort', 'reservation', 'raw', 'writePort', 'dispatch', 'fetch'] as const;
export type StallCause = (typeof STALL_CAUSES)[number];
export const Stall = { noc: 0, romPort: 1, dmemPort: 2, reservation: 3, raw: 4, writePort: 5, dispatch: 6, fetch: 7 } as const;

export const STALL_COUNTER: Readonly<Record<StallCause, string>> = {
  noc: 'tile.stallNocCycles',
  romPort: 'tile.stallRomPortCycles',
  dmemPort: 'tile.stallDmemPortCycles',
  reservation: 'tile.stallReservationCycles',
  raw: 'tile.stallRawCycles',
  writePort: 'tile.stallWritePortCycles',
  dispatch: 'tile.stallDispatchCycles',
  fetch: 'tile.stallFetchCycles',
};

/** Raw activity of one run, the same shape for both fidelities. */
export class TileStats {
  instructionsFetched = 0;
  instructionsIssued = 0;
  scalarInstructions = 0;
  vectorInstructions = 0;
  memoryInstructions = 0;
  nocInstructions = 0;
  controlInstructions = 0;
  macs = 0;
  vectorAluOps = 0;
  sfuOps = 0;
  registerReads = 0;
  registerWrites = 0;
  registerReadBits = 0;
  registerWriteBits = 0;
  romBytesRead = 0;
  romScaleBytesRead = 0;
  dmemBytesRead = 0;
  dmemBytesWritten = 0;
  kvBytesRead = 0;
  kvBytesWritten = 0;
  busyCycles = 0;
  vectorBusyCycles = 0;
  romBusyCycles = 0;
  dmemBusyCycles = 0;
  readonly stall = new Float64Array(STALL_CAUSES.length);
  cycles = 0;

  stallRecord(): Record<StallCause, number> {
    const out = {} as Record<StallCause, number>;
    STALL_CAUSES.forEach((c, i) => (out[c] = this.stall[i]));
    return out;
  }

  /** Add into registry counters registered for instance `instance` (e.g. `tile[r,c]`). */
  addTo(c: TileCounters): void {
    const pairs: [Counter, number][] = [
      [c.instructionsFetched, this.instructionsFetched],
      [c.instructionsIssued, this.instructionsIssued],
      [c.scalarInstructions, this.scalarInstructions],
      [c.vectorInstructions, this.vectorInstructions],
      [c.memoryInstructions, this.memoryInstructions],
      [c.nocInstructions, this.nocInstructions],
      [c.controlInstructions, this.controlInstructions],
      [c.macs, this.macs],
      [c.vectorAluOps, this.vectorAluOps],
      [c.sfuOps, this.sfuOps],
      [c.registerReads, this.registerReads],
      [c.registerWrites, this.registerWrites],
      [c.registerReadBits, this.registerReadBits],
      [c.registerWriteBits, this.registerWriteBits],
      [c.romBytesRead, this.romBytesRead],
      [c.romScaleBytesRead, this.romScaleBytesRead],
      [c.dmemBytesRead, this.dmemBytesRead],
      [c.dmemBytesWritten, this.dmemBytesWritten],
      [c.kvBytesRead, this.kvBytesRead],
      [c.kvBytesWritten, this.kvBytesWritten],
      [c.busyCycles, this.busyCycles],
      [c.vectorBusyCycles, this.vectorBusyCycles],
      [c.romBusyCycles, this.romBusyCycles],
      [c.romIdleCycles, Math.max(0, this.cycles - this.romBusyCycles)],
      [c.dmemBusyCycles, this.dmemBusyCycles],
    ];
    for (const [k, val] of pairs) k.value += val;
    STALL_CAUSES.forEach((cause, i) => (c.stalls[i].value += this.stall[i]));
  }
}

export interface TileCounters {
  readonly [k: string]: Counter | Counter[];
  readonly instructionsFetched: Counter;
  readonly instructionsIssued: Counter;
  readonly scalarInstructions: Counter;
  readonly vectorInstructions: Counter;
  readonly memoryInstructions: Counter;
  readonly nocInstructions: Counter;
  readonly controlInstructions: Counter;
  readonly macs: Counter;
  readonly vectorAluOps: Counter;
  readonly sfuOps: Counter;
  readonly registerReads: Counter;
  readonly registerWrites: Counter;
  readonly registerReadBits: Counter;
  readonly registerWriteBits: Counter;
  readonly romBytesRead: Counter;
  readonly romScaleBytesRead: Counter;
  readonly dmemBytesRead: Counter;
  readonly dmemBytesWritten: Counter;
  readonly kvBytesRead: Counter;
  readonly kvBytesWritten: Counter;
  readonly busyCycles: Counter;
  readonly vectorBusyCycles: Counter;
  readonly romBusyCycles: Counter;
  readonly romIdleCycles: Counter;
  readonly dmemBusyCycles: Counter;
  readonly stalls: Counter[];
}

/** Register every tile counter for one tile instance (`tile[r,c]`). */
export function registerTileCounters(reg: CounterRegistry, instance: string): TileCounters {
  const r = (n: string) => reg.register(`tile.${n}`, instance);
  const names = ['instructionsFetched', 'instructionsIssued', 'scalarInstructions', 'vectorInstructions', 'memoryInstructions', 'nocInstructions', 'controlInstructions', 'macs', 'vectorAluOps', 'sfuOps', 'registerReads', 'registerWrites', 'registerReadBits', 'registerWriteBits', 'romBytesRead', 'romScaleBytesRead', 'dmemBytesRead', 'dmemBytesWritten', 'kvBytesRead', 'kvBytesWritten', 'busyCycles', 'vectorBusyCycles', 'romBusyCycles', 'romIdleCycles', 'dmemBusyCycles'];
  const out: Record<string, Counter | Counter[]> = {};
  for (const n of names) out[n] = r(n);
  out.stalls = STALL_CAUSES.map((c) => reg.register(STALL_COUNTER[c], instance));
  return out as unknown as TileCounters;
}

/** The flat counter record (catalog names) of one run on one tile. */
export function counterRecord(stats: TileStats, instance = 'tile[0,0]'): CounterRecord {
  let names = RECORD_NAMES;
  if (!names) {
    // one registry pass fixes the (sorted) names; later records are filled directly
    const reg = new CounterRegistry();
    stats.addTo(registerTileCounters(reg, instance));
    names = RECORD_NAMES = Object.keys(reg.totals());
  }
  // objects made in one go (Object.fromEntries) keep fast properties; ~35 keyed stores
  // into {} would turn each into a dictionary that every later for-in re-sorts
  const cells = names.map(() => ({ value: 0 }));
  const view: Record<string, unknown> = Object.fromEntries(names.map((n, i) => [n.slice(5), cells[i]]));
  RECORD_STALLS ??= STALL_CAUSES.map((cause) => names.indexOf(STALL_COUNTER[cause]));
  view.stalls = RECORD_STALLS.map((i) => cells[i]);
  stats.addTo(view as unknown as TileCounters);
  return Object.fromEntries(names.map((n, i) => [n, cells[i].value]));
}

let RECORD_NAMES: string[] | null = null;
/** Position in RECORD_NAMES of each stall cause's counter. */
let RECORD_STALLS: number[] | null = null;
