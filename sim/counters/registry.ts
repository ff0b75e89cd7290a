import { Counter, type CounterDef, type CounterRecord } from './counter.js';
import { COUNTER_CATALOG } from './catalog.js';

/**
 * Components register their counters here under catalog names; a run returns
 * `totals()` as one flat record. Registering an undocumented name is an error, so the
 * catalog (and the energy table that must cover it) stays complete.
 */
/**
 * Counters of one name held in one array, one per instance (`registerEach`): a mesh's
 * thousands of routers cost one Float64Array instead of an object each.
 */
interface CounterArray {
  readonly def: CounterDef;
  readonly instances: readonly string[];
  readonly values: Float64Array;
}

export class CounterRegistry {
  /** In registration order (totals add in this order). */
  private readonly counters: (Counter | CounterArray)[] = [];
  /**
   * name -> instances registered under it. Per name rather than one set of joined keys:
   * components register one name for many instances whose strings they reuse across
   * names (a mesh's router names), so each instance string is hashed once.
   */
  private readonly instances = new Map<string, Set<string>>();

  constructor(private readonly catalog: ReadonlyMap<string, CounterDef> = COUNTER_CATALOG) {}

  register(name: string, instance = ''): Counter {
    const def = this.claim(name, [instance]);
    const c = new Counter(def, instance);
    this.counters.push(c);
    return c;
  }

  /**
   * One counter of `name` per instance, held in the returned array (hot paths do
   * `values[i] += n`): the same as `register` for each instance, in order, without an
   * object per counter.
   */
  registerEach(name: string, instances: readonly string[]): Float64Array {
    const def = this.claim(name, instances);
    const values = new Float64Array(instances.length);
    this.counters.push({ def, instances, values });
    return values;
  }

  /** The catalog entry of `name`, after checking that none of `instances` has it yet. */
  private claim(name: string, instances: readonly string[]): CounterDef {
    const def = this.catalog.get(name);
    if (!def) {
      throw new Error(`counter '${name}' is not in the counter catalog (sim/counters/catalog.ts); document it there first`);
    }
    let seen = this.instances.get(name);
    if (!seen) this.instances.set(name, (seen = new Set()));
    for (const instance of instances) {
      if (seen.has(instance)) throw new Error(`counter '${name}' already registered for instance '${instance}'`);
      seen.add(instance);
    }
    return def;
  }

  /** name -> sum over instances, for every registered name (sorted for stable output). */
  totals(): CounterRecord {
    const out: CounterRecord = {};
    for (const c of this.counters) {
      const name = c.def.name;
      if (c instanceof Counter) out[name] = (out[name] ?? 0) + c.value;
      else for (let i = 0; i < c.values.length; i++) out[name] = (out[name] ?? 0) + c.values[i];
    }
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** instance -> value for one counter name. */
  byInstance(name: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.counters) {
      if (c.def.name !== name) continue;
      if (c instanceof Counter) out[c.instance] = c.value;
      else c.instances.forEach((instance, i) => (out[instance] = c.values[i]));
    }
    return out;
  }

  /** Every registered counter (for reports that need per-instance detail); those held in arrays as copies of their current values. */
  all(): readonly Counter[] {
    return this.counters.flatMap((c) =>
      c instanceof Counter
        ? [c]
        : c.instances.map((instance, i) => {
            const copy = new Counter(c.def, instance);
            copy.value = c.values[i];
            return copy;
          }),
    );
  }
}
