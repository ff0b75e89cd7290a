/**
 * Activity counters (Garnet-style): every component counts what it does, under a name
 * documented in the counter catalog; energy is computed afterwards as count x energy per
 * event at the process node (never inside the simulation).
 */

/** A documented counter name. */
export interface CounterDef {
  /** Dotted name, `<component>.<quantity>`, e.g. `noc.flitsInjected`. */
  readonly name: string;
  /** What one unit of the count is: `events`, `flits`, `bytes`, `cycles`, `ops`, ... */
  readonly unit: string;
  readonly description: string;
}

/** One component instance's count of one quantity. Hot paths do `c.value += n`. */
export class Counter {
  value = 0;
  constructor(
    readonly def: CounterDef,
    /** Which instance counts, e.g. `router[3,4]`; "" for a singleton. */
    readonly instance: string,
  ) {}
}

/** Flat record returned by a run: counter name -> total over all instances. */
export type CounterRecord = Record<string, number>;
