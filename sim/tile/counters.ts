import type { CounterDef } from '../counters/counter.js';

/**
 * Tensor Compute Core activity counters, registered per tile (`tile[r,c]`). Stall
 * counters give each stalled cycle exactly one cause; busy plus stall cycles equal the
 * tile's total cycles. ROM is power-gated when idle, hence the idle count.
 */
export const TILE_COUNTERS: readonly CounterDef[] = [
  { name: 'tile.instructionsFetched', unit: 'instructions', description: 'instructions fetched from IMEM (refills after an IMEM overflow included)' },
  { name: 'tile.instructionsIssued', unit: 'instructions', description: 'instructions issued to an execution unit (all classes)' },
  { name: 'tile.scalarInstructions', unit: 'instructions', description: 'scalar ALU instructions issued' },
  { name: 'tile.vectorInstructions', unit: 'instructions', description: 'vector instructions issued (MAC, add, mul, max, exp, rsqrt, reductions)' },
  { name: 'tile.memoryInstructions', unit: 'instructions', description: 'loads and stores issued (ROM loads, DMEM loads and stores)' },
  { name: 'tile.nocInstructions', unit: 'instructions', description: 'NoC send and receive instructions issued' },
  { name: 'tile.controlInstructions', unit: 'instructions', description: 'loop, branch and barrier instructions issued' },
  { name: 'tile.macs', unit: 'ops', description: 'multiply-accumulates performed by the vector lanes (one per lane-element)' },
  { name: 'tile.vectorAluOps', unit: 'ops', description: 'non-MAC vector element operations (add, mul, max, reductions), one per lane-element' },
  { name: 'tile.sfuOps', unit: 'ops', description: 'special-function element operations (exp, reciprocal square root approximations)' },
  { name: 'tile.registerReads', unit: 'accesses', description: 'register-file operand reads (scalar and vector registers)' },
  { name: 'tile.registerWrites', unit: 'accesses', description: 'register-file write-backs (scalar and vector registers)' },
  { name: 'tile.registerReadBits', unit: 'bits', description: 'bits read from the register files: the active elements of each operand at their width (sim/tile/registerTraffic.ts)' },
  { name: 'tile.registerWriteBits', unit: 'bits', description: 'bits written to the register files: the active elements of each result at their width' },
  { name: 'tile.romBytesRead', unit: 'bytes', description: 'weight bytes read from the WMEM ROM (quantisation scales excluded)' },
  { name: 'tile.romScaleBytesRead', unit: 'bytes', description: 'quantisation-scale bytes read from the WMEM ROM' },
  { name: 'tile.dmemBytesRead', unit: 'bytes', description: 'bytes read from DMEM SRAM (activations and KV cache)' },
  { name: 'tile.dmemBytesWritten', unit: 'bytes', description: 'bytes written to DMEM SRAM (activations and KV cache)' },
  { name: 'tile.kvBytesRead', unit: 'bytes', description: 'KV-cache bytes read (a subset of tile.dmemBytesRead)' },
  { name: 'tile.kvBytesWritten', unit: 'bytes', description: 'KV-cache bytes written (a subset of tile.dmemBytesWritten)' },
  { name: 'tile.busyCycles', unit: 'cycles', description: 'cycles in which the tile issued or completed work (clock not gated)' },
  { name: 'tile.vectorBusyCycles', unit: 'cycles', description: 'cycles the vector unit accepted an instruction' },
  { name: 'tile.romBusyCycles', unit: 'cycles', description: 'cycles the ROM port transferred data' },
  { name: 'tile.romIdleCycles', unit: 'cycles', description: 'cycles the ROM was idle and power-gated (run cycles minus ROM busy cycles)' },
  { name: 'tile.dmemBusyCycles', unit: 'cycles', description: 'cycles a DMEM port transferred data' },
  { name: 'tile.stallFetchCycles', unit: 'cycles', description: 'stalled cycles attributed to instruction fetch (including IMEM refills)' },
  { name: 'tile.stallDispatchCycles', unit: 'cycles', description: 'stalled cycles attributed to dispatch-port limits' },
  { name: 'tile.stallReservationCycles', unit: 'cycles', description: 'stalled cycles attributed to full reservation stations' },
  { name: 'tile.stallRawCycles', unit: 'cycles', description: 'stalled cycles attributed to read-after-write hazards' },
  { name: 'tile.stallRomPortCycles', unit: 'cycles', description: 'stalled cycles attributed to the ROM port' },
  { name: 'tile.stallDmemPortCycles', unit: 'cycles', description: 'stalled cycles attributed to DMEM ports' },
  { name: 'tile.stallWritePortCycles', unit: 'cycles', description: 'stalled cycles attributed to register-file write ports (a ready instruction found no write-back slot)' },
  { name: 'tile.stallNocCycles', unit: 'cycles', description: 'stalled cycles waiting for the network (receive not yet arrived, send queue full)' },
];
