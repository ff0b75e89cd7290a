import { Counter, type CounterDef, type CounterRecord } from './counter.js';
import { COUNTER_CATALOG } from './catalog.js';

/**
 * Components register their counters here under catalog names; a run returns
 * `totals()` as one flat record. Registering an undocumented name is an error, so the
 * catalog (and the energy table that must cover it) stays complete.
 */
export class CounterRegistry {
  private readonly counters: Counter[] = [];
  /**
   * name -> instances registered under it. Per name rather than one set of joined keys:
   * components register one name for many instances whose strings they reuse across
   * names (a mesh's router names), so each instance string is hashed once.
   */
  private readonly instances = new Map<string, Set<string>>();

  constructor(private readonly catalog: ReadonlyMap<string, CounterDef> = COUNTER_CATALOG) {}

  register(name: string, instance = ''): Counter {
    const def = this.catalog.get(name);
    if (!def) {
      throw new Error(`counter '${name}' is not in the counter catalog (sim/counters/catalog.ts); document it there first`);
    }
    let seen = this.instances.get(name);
    if (!seen) this.instances.set(name, (seen = new Set()));
    if (seen.has(instance)) throw new Error(`counter '${name}' already registered for instance '${instance}'`);
    seen.add(instance);
    const c = new Counter(def, instance);
    this.counters.push(c);
    return c;
  }

  /** name -> sum over instances, for every registered name (sorted for stable output). */
  totals(): CounterRecord {
    const out: CounterRecord = {};
    for (const c of this.counters) out[c.def.name] = (out[c.def.name] ?? 0) + c.value;
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** instance -> value for one counter name. */
  byInstance(name: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.counters) if (c.def.name === name) out[c.instance] = c.value;
    return out;
  }

  /** Every registered counter (for reports that need per-instance detail). */
  all(): readonly Counter[] {
    return this.counters;
  }
}
