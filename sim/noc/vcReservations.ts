import { PORTS } from './mesh.js';

/**
 * The message-level model's reservation tables: what a wormhole router with virtual
 * channels and credits remembers between packets, kept as "free from cycle" times instead
 * of flits (docs/noc.md, "Message-level model"). Times use the model's convention: a
 * packet leaves a router when its head exits the crossbar.
 *
 * - `outVcFree[(r x 5 + port) x V + v]`: earliest cycle a new head may leave router r
 *   through output VC v of `port` (the previous packet's tail left, the VC was released
 *   and re-allocated: tail + 1 + VA).
 * - `inVcFront[(r x 5 + port) x V + v]`: earliest cycle a new head can be at the front of
 *   input VC v of `port` at router r and start route computation (the previous packet's
 *   tail has left that buffer). With one VC this is what serialises back-to-back packets:
 *   route computation and VC allocation of the next head cannot overlap the previous tail.
 * - `outVcCredit[(r x 5 + port) x V + v]`: earliest cycle a new head may leave through output VC
 *   v as far as credits go: the downstream buffer holds the previous packet's last D flits,
 *   and the new head needs the slot of the first of them (flit L - D) back.
 * - `linkBacklog[r x 5 + port]`: the cycle by which the output port would have carried
 *   every flit granted to it so far at one flit per cycle (a fluid queue: packets on
 *   different VCs share the port's bandwidth, interleaved flit by flit).
 * - `injVcFree[t x V + v]`, `injVcCredit[t x V + v]`, `injBacklog[t]`, `niFree[t]`: the same for the injection
 *   channel of tile t's network interface; `niFree` is where a single injection FIFO
 *   may start its next packet (the previous tail has been injected).
 */
export class VcReservations {
  readonly outVcFree: Float64Array;
  readonly outVcCredit: Float64Array;
  readonly inVcFront: Float64Array;
  readonly linkBacklog: Float64Array;
  readonly injVcFree: Float64Array;
  readonly injVcCredit: Float64Array;
  readonly injBacklog: Float64Array;
  readonly niFree: Float64Array;

  constructor(
    routers: number,
    readonly vcs: number,
  ) {
    this.outVcFree = new Float64Array(routers * PORTS * vcs);
    this.outVcCredit = new Float64Array(routers * PORTS * vcs);
    this.inVcFront = new Float64Array(routers * PORTS * vcs);
    this.linkBacklog = new Float64Array(routers * PORTS);
    this.injVcFree = new Float64Array(routers * vcs);
    this.injVcCredit = new Float64Array(routers * vcs);
    this.injBacklog = new Float64Array(routers);
    this.niFree = new Float64Array(routers);
  }

  /** The output VC of port k (= r x 5 + port) a head can use first (free and with a credit; lowest index on ties). */
  earliestOutVc(k: number): number {
    return earliest(this.outVcFree, this.outVcCredit, k * this.vcs, this.vcs);
  }

  /** The injection VC of tile t a head can use first. */
  earliestInjVc(t: number): number {
    return earliest(this.injVcFree, this.injVcCredit, t * this.vcs, this.vcs);
  }

  /** When output VC v of port k can take a new head: free and with a credit. */
  outVcReady(k: number, v: number): number {
    const o = k * this.vcs + v;
    return this.outVcFree[o] > this.outVcCredit[o] ? this.outVcFree[o] : this.outVcCredit[o];
  }

  /** L flits granted to port k from `from` on: returns the cycle the last of them can leave (fluid, one flit per cycle). */
  shareLink(k: number, from: number, flits: number): number {
    const b = Math.max(this.linkBacklog[k], from) + flits;
    this.linkBacklog[k] = b;
    return b - 1;
  }

  /** The same for tile t's injection channel. */
  shareInjection(t: number, from: number, flits: number): number {
    const b = Math.max(this.injBacklog[t], from) + flits;
    this.injBacklog[t] = b;
    return b - 1;
  }
}

/** Index (0..V-1) of the VC from `base` whose later of free and credit times is earliest. */
function earliest(free: Float64Array, credit: Float64Array, base: number, V: number): number {
  let best = 0;
  let bestAt = Math.max(free[base], credit[base]);
  for (let v = 1; v < V; v++) {
    const at = free[base + v] > credit[base + v] ? free[base + v] : credit[base + v];
    if (at < bestAt) {
      bestAt = at;
      best = v;
    }
  }
  return best;
}
