import { PORTS } from './mesh.js';
import { CalendarTable } from './busyCalendar.js';

/**
 * The message-level model's reservation tables: what a wormhole router with virtual
 * channels and credits remembers between packets, as busy time instead of flits
 * (docs/noc.md, "Message-level model"). Times use the model's convention: a packet leaves a
 * router when its head exits the crossbar.
 *
 * - `vc(k, v)`, k = r x 5 + port: when output VC v of that port is taken. A packet holds it
 *   from its head's exit until a next head could use it: the tail has left and the VC was
 *   re-allocated (tail + 1 + VA), the tail has left the buffer downstream (a head reaches the
 *   front of an input VC only then, and then pays RC + VA), and the downstream slot of the
 *   packet's flit L - D is free again (credits span packets).
 * - `port(k)`: the cycles the port's link carries a flit: packets on different VCs share
 *   its one flit per cycle, interleaved.
 * - per tile interface: `injection(t)`, the cycles its injection channel carries a flit;
 *   `injVcFree[t x V + v]` (the same three conditions for the injection VC, a "free from"
 *   cycle because an interface starts its packets in order) and `niFree[t]` (a single
 *   injection FIFO starts its next packet after the previous tail).
 *
 * The first three are calendars of one table (`calendars`), addressed by the indices these
 * methods return.
 */
export class VcReservations {
  readonly calendars: CalendarTable;
  readonly injVcFree: Float64Array;
  readonly niFree: Float64Array;
  private readonly portBase: number;
  private readonly injectionBase: number;

  constructor(
    routers: number,
    readonly vcCount: number,
    /** earlier reservations each calendar keeps (MessageCalibration.calendarGaps) */
    gaps: number,
  ) {
    this.portBase = routers * PORTS * vcCount;
    this.injectionBase = this.portBase + routers * PORTS;
    this.calendars = new CalendarTable(this.injectionBase + routers, gaps);
    this.injVcFree = new Float64Array(routers * vcCount);
    this.niFree = new Float64Array(routers);
  }

  /** Calendar of output VC v of port k. */
  vc(k: number, v: number): number {
    return k * this.vcCount + v;
  }

  /** Calendar of the link of port k. */
  port(k: number): number {
    return this.portBase + k;
  }

  /** Calendar of the injection channel of tile t. */
  injection(t: number): number {
    return this.injectionBase + t;
  }

  /**
   * The output VC of port k a head ready at `ready` can take first for at least `hold`
   * cycles (lowest index on ties); sets `fitAt` to the cycle it can leave.
   */
  pickVc(now: number, k: number, ready: number, hold: number): number {
    const cals = this.calendars;
    let best = 0;
    let bestAt = Number.POSITIVE_INFINITY;
    const base = k * this.vcCount;
    for (let v = 0; v < this.vcCount; v++) {
      const c = base + v;
      const at = cals.end(c) <= ready ? ready : cals.fit(c, now, ready, hold);
      if (at < bestAt) {
        bestAt = at;
        best = v;
        if (at === ready) break;
      }
    }
    this.fitAt = bestAt;
    return best;
  }

  /** Departure cycle found by the last `pickVc`. */
  fitAt = 0;

  /** The injection VC of tile t that frees first. */
  earliestInjVc(t: number): number {
    const V = this.vcCount;
    const base = t * V;
    const free = this.injVcFree;
    let best = 0;
    for (let v = 1; v < V; v++) if (free[base + v] < free[base + best]) best = v;
    return best;
  }
}
