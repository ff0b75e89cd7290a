import type { CounterDef } from './counter.js';
import { KERNEL_COUNTERS } from '../kernel/counters.js';
import { NOC_COUNTERS } from '../noc/counters.js';
import { TILE_COUNTERS } from '../tile/counters.js';
import { DIE_COUNTERS } from '../chip/dieLinks.js';

/**
 * The counter catalog: every counter any component may register, one list per component
 * (each defined beside the component). Add a component's list here when it lands.
 */
const ALL: readonly CounterDef[] = [...KERNEL_COUNTERS, ...NOC_COUNTERS, ...DIE_COUNTERS, ...TILE_COUNTERS];

function index(defs: readonly CounterDef[]): ReadonlyMap<string, CounterDef> {
  const m = new Map<string, CounterDef>();
  for (const d of defs) {
    if (!/^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)+$/.test(d.name)) throw new Error(`bad counter name '${d.name}'`);
    if (m.has(d.name)) throw new Error(`counter '${d.name}' defined twice`);
    m.set(d.name, d);
  }
  return m;
}

export const COUNTER_CATALOG: ReadonlyMap<string, CounterDef> = index(ALL);
