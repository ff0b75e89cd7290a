import { PORTS } from './mesh.js';
import { BusyCalendar } from './busyCalendar.js';

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
 * Calendars are created on first use (most ports of a large mesh never carry a packet).
 */
export class VcReservations {
  private readonly vcs_: (BusyCalendar | undefined)[];
  private readonly ports_: (BusyCalendar | undefined)[];
  readonly injVcFree: Float64Array;
  private readonly injections: (BusyCalendar | undefined)[];
  readonly niFree: Float64Array;

  constructor(
    routers: number,
    readonly vcCount: number,
    /** earlier reservations each calendar keeps (MessageCalibration.calendarGaps) */
    private readonly gaps: number,
  ) {
    this.vcs_ = new Array<BusyCalendar | undefined>(routers * PORTS * vcCount).fill(undefined);
    this.ports_ = new Array<BusyCalendar | undefined>(routers * PORTS).fill(undefined);
    this.injVcFree = new Float64Array(routers * vcCount);
    this.injections = new Array<BusyCalendar | undefined>(routers).fill(undefined);
    this.niFree = new Float64Array(routers);
  }

  /** Output VC v of port k. */
  vc(k: number, v: number): BusyCalendar {
    const i = k * this.vcCount + v;
    return (this.vcs_[i] ??= new BusyCalendar(this.gaps));
  }

  /** The link of port k. */
  port(k: number): BusyCalendar {
    return (this.ports_[k] ??= new BusyCalendar(this.gaps));
  }

  /**
   * The output VC of port k a head ready at `ready` can take first for at least `hold`
   * cycles (lowest index on ties); sets `fitAt` to the cycle it can leave.
   */
  pickVc(now: number, k: number, ready: number, hold: number): number {
    let best = 0;
    let bestAt = Number.POSITIVE_INFINITY;
    const base = k * this.vcCount;
    for (let v = 0; v < this.vcCount; v++) {
      const cal = this.vcs_[base + v];
      const at = cal === undefined || cal.end() <= ready ? ready : cal.fit(now, ready, hold);
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

  /** The injection channel of tile t. */
  injection(t: number): BusyCalendar {
    return (this.injections[t] ??= new BusyCalendar(this.gaps));
  }
}
