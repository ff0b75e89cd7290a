import type { NocParams } from '../design/design.js';

/**
 * Packetisation and the zero-load latency formula (docs/noc.md).
 *
 * A message of B bytes becomes one packet of L = max(1, ceil((8 B + headerBits) / flitBits))
 * flits: the head flit carries the header (destination, source, tag, length; 32 bits by
 * default) in front of the payload, body and tail flits carry payload only.
 */
export function packetFlits(noc: Pick<NocParams, 'flitBits' | 'headerBits'>, bytes: number): number {
  return Math.max(1, Math.ceil((8 * bytes + noc.headerBits) / noc.flitBits));
}

/** Per-router pipeline delay: route computation + VC allocation + switch allocation + switch traversal. */
export function routerDelayCycles(noc: NocParams): number {
  return noc.routeComputeCycles + noc.vcAllocCycles + noc.switchAllocCycles + noc.switchTraversalCycles;
}

/** Injection channel (network interface -> router) and ejection channel (router -> interface) delays. */
export const INJECTION_CYCLES = 1;
export const EJECTION_CYCLES = 1;

/**
 * Zero-load packet latency (creation to tail ejection) of an L-flit packet over H hops:
 *   T0 = injection + (H + 1) x routerDelay + H x linkTraversal + ejection + (L - 1).
 * Exact for this model when the buffers cover the credit round trip (docs/noc.md).
 */
export function zeroLoadLatencyCycles(noc: NocParams, hops: number, flits: number): number {
  return INJECTION_CYCLES + (hops + 1) * routerDelayCycles(noc) + hops * noc.linkTraversalCycles + EJECTION_CYCLES + (flits - 1);
}
