import type { CommonValues } from '../tech/table.js';

/**
 * Router area at 45 nm (um2) by ORION 2.0's released area model (Kahng et al., DATE 2009;
 * SIM_router_area.c), with NanGate 45 nm cells (the technology table's `common` values):
 *
 *   buffers    = P x V x D x W x DFF                                  (register FIFOs)
 *   output     = P x W x DFF      (the pipeline register between switch and link traversal)
 *   crossbar   = P_in x W x P_out x (2^ceil(log2 P_in) - 1) x MUX2    (multiplexer trees)
 *   allocators = sum over arbiters of r x (6 NOR2 + 2 INV + 1 DFF)    (round-robin, r requesters)
 *   wiring     = (crossbarWiringFactor - 1) x crossbar + (arbiterSpacingFactor - 1) x allocators
 *
 * Separable allocators as ORION counts them: switch allocation has one V-input arbiter per
 * input port and one (P-1)-input arbiter per output port; with V > 1, VC allocation has
 * V-input arbiters per input VC and (P-1)V-input arbiters per output VC. The crossbar grows
 * linearly with the flit width W (the matrix form, (P W pitch)^2, grows with its square).
 * NOR2 is taken at the NAND2 area (both 0.798 um2 in NanGate 45 nm).
 *
 * The output register is not in ORION's default router: the simulated router pipeline has
 * switch traversal and link traversal as separate stages (noc.switchTraversalCycles,
 * noc.linkTraversalCycles >= 1, as in Peh & Dally's pipeline and BookSim2's router), so each
 * output port latches one flit between them: W flops per output port.
 */
export interface RouterAreaUm2 {
  readonly buffers: number;
  /** One flit register per output port (switch traversal -> link traversal). */
  readonly outputRegisters: number;
  readonly crossbar: number;
  readonly allocators: number;
  /** Wiring and spacing between cells: the crossbar's and the arbiters'. */
  readonly wiring: number;
  readonly crossbarWiring: number;
}

/** Round-robin arbiter of `requesters` inputs (ORION RR_ARBITER), cells only. */
function arbiterUm2(requesters: number, c: CommonValues): number {
  return requesters * (6 * c.nand2AreaUm2At45nm + 2 * c.inverterAreaUm2At45nm + c.flopAreaUm2At45nm);
}

export function routerAreaUm2At45nm(ports: number, flitBits: number, virtualChannels: number, bufferDepthFlits: number, c: CommonValues): RouterAreaUm2 {
  const P = ports;
  const V = virtualChannels;
  const muxPerTree = 2 ** Math.ceil(Math.log2(P)) - 1;
  const buffers = P * V * bufferDepthFlits * flitBits * c.flopAreaUm2At45nm;
  const outputRegisters = P * flitBits * c.flopAreaUm2At45nm;
  const crossbar = P * flitBits * P * muxPerTree * c.mux2AreaUm2At45nm;
  const switchAlloc = P * arbiterUm2(V, c) + P * arbiterUm2(P - 1, c);
  const vcAlloc = V > 1 ? P * V * arbiterUm2(V, c) + P * V * arbiterUm2((P - 1) * V, c) : 0;
  const allocators = switchAlloc + vcAlloc;
  const crossbarWiring = (c.crossbarWiringFactor - 1) * crossbar;
  return { buffers, outputRegisters, crossbar, allocators, crossbarWiring, wiring: crossbarWiring + (c.arbiterSpacingFactor - 1) * allocators };
}
