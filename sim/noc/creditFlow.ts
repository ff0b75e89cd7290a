import type { NocParams } from '../design/design.js';
import { INJECTION_CYCLES } from './packet.js';

/**
 * Credit-based flow control as the message-level model sees it (docs/noc.md, "Message-level
 * model"). The flit model (sim/noc/flitNetwork.ts) is the reference these equations are
 * read from and checked against (test/noc-message.test.ts, test/noc-credit-flow.test.ts).
 *
 * A VC with a downstream buffer of D flits may have D flits in flight on its credit loop.
 * A flit granted switch allocation upstream at cycle s is written downstream at
 * s + SA + ST + LT, can win switch allocation there in that cycle, and its credit is back
 * upstream at s + SA + ST + LT + 1 + creditReturn. So the credit round trip of a link is
 *   R_link = SA + ST + LT + 1 + CR
 * and of the injection channel (interface -> router, written INJECTION_CYCLES later)
 *   R_inj = INJECTION_CYCLES + 1 + CR.
 * One VC then carries at most D / R flits per cycle (Dally & Towles, section 13.3).
 */

/** Credit round trip of a router-to-router link, cycles. */
export function linkCreditRoundTripCycles(noc: NocParams): number {
  return noc.switchAllocCycles + noc.switchTraversalCycles + noc.linkTraversalCycles + 1 + noc.creditReturnCycles;
}

/** Credit round trip of the injection channel (network interface -> local input VC), cycles. */
export function injectionCreditRoundTripCycles(noc: NocParams): number {
  return INJECTION_CYCLES + 1 + noc.creditReturnCycles;
}

/**
 * Cycles from the head flit to the tail flit of an L-flit packet crossing a VC with D
 * buffer slots and credit round trip R, with nothing else in the way: flit i leaves at
 *   R x floor(i / D) + (i mod D)
 * (D flits back to back, then a wait for the first credit), so the tail leaves at
 *   span = L - 1                                  if D >= R,
 *          R x floor((L - 1) / D) + (L - 1) mod D   otherwise.
 * Exact for the flit model on an idle path (test/noc-credit-flow.test.ts).
 */
export function spanCycles(flits: number, depth: number, roundTrip: number): number {
  const last = flits - 1;
  if (depth >= roundTrip) return last;
  return roundTrip * Math.floor(last / depth) + (last % depth);
}

/** Average cycles per flit on a VC with D slots and credit round trip R: max(1, R / D). */
export function cyclesPerFlit(depth: number, roundTrip: number): number {
  return Math.max(1, roundTrip / depth);
}
