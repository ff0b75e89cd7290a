import type { TileParams } from '../design/design.js';
import type { OperatingPoint } from '../tech/scaling.js';
import { romReadPjPerByteAt, sramReadPjPerByte } from '../tech/scaling.js';

/**
 * The single table that turns every activity counter into energy: counter name -> the
 * energy of one counted unit, split into the paper's Table 12 categories (compute, SRAM,
 * ROM, NoC, leakage) and a component, or an explicit zero with the reason. A test
 * iterates the counter catalog (sim/counters/catalog.ts) and fails on any counter
 * missing here; energyOf rejects a record holding a counter without an entry.
 */

export const CATEGORIES = ['compute', 'sram', 'rom', 'noc', 'leakage'] as const;
export type Category = (typeof CATEGORIES)[number];

/** Everything a per-event energy depends on (one tile's parameters, or the chip's for noc.*). */
export interface EventContext {
  readonly op: OperatingPoint;
  readonly tile: TileParams;
  readonly activations: 'fp16' | 'int8';
  readonly flitBits: number;
  readonly linkLengthMm: number;
  /** Distance a bit crosses in a router's crossbar (mm): the crossbar's side. */
  readonly crossbarSpanMm: number;
  /** ROM area of the tile(s) whose ROM cycles are counted (mm2). */
  readonly romMm2: number;
  /** The tile's weight ROM macro size (bytes): its read energy grows with it. */
  readonly romBytes: number;
  /** The design power-gates the ROM in its idle cycles (power.romPowerGating = 'idle-cycles'). */
  readonly romPowerGated: boolean;
  /** Core logic area without the router (mm2): the area the clock tree serves. */
  readonly coreLogicMm2: number;
}

export interface EnergyPart {
  readonly category: Category;
  /** Component the energy is charged to (reports show energy and power by component). */
  readonly component: string;
  /** 'dynamic' parts scale with (V/Vnom)^2, 'leakage' parts with (V/Vnom)^k. */
  readonly kind: 'dynamic' | 'leakage';
  /** Energy of one counted unit at nominal Vdd, in pJ. */
  readonly pjPerUnit: (ctx: EventContext) => number;
}

export type EnergyEntry = { readonly parts: readonly EnergyPart[]; readonly zero?: undefined } | { readonly zero: string; readonly parts?: undefined };

const dyn = (category: Category, component: string, pjPerUnit: (ctx: EventContext) => number): EnergyPart => ({ category, component, kind: 'dynamic', pjPerUnit });
/** ROM leakage per cycle while powered, x `on` (1 powered, 0 gated): area x density / f. */
const romLeakage = (on: (ctx: EventContext) => number): EnergyPart => ({ category: 'leakage', component: 'romLeakage', kind: 'leakage', pjPerUnit: (x) => (on(x) * x.romMm2 * x.op.n.romLeakageMwPerMm2 * 1e3) / x.op.clockMHz });
const KIB = 1024;

export const ENERGY_MAP: Readonly<Record<string, EnergyEntry>> = {
  // --- kernel -------------------------------------------------------------------
  'kernel.eventsDispatched': { zero: 'simulator bookkeeping, not hardware activity' },

  // --- NoC (per router / network interface) ---------------------------------------
  'noc.packetsInjected': { zero: 'a packet costs its flits (buffer, crossbar, link) and its route computation and VC allocation, all counted separately' },
  'noc.flitsInjected': { zero: "the injecting network interface writes the flit into the local router's input buffer: counted in noc.bufferWrites" },
  'noc.flitsEjected': { zero: 'ejection is a crossbar traversal to the local port: counted in noc.crossbarTraversals' },
  'noc.flitsReplicated': { zero: 'each multicast copy traverses the crossbar and links: counted in noc.crossbarTraversals and noc.linkFlitHops' },
  'noc.bufferWrites': { parts: [dyn('noc', 'routerBuffers', (x) => x.flitBits * x.op.n.registerFilePjPerBit)] },
  'noc.bufferReads': { parts: [dyn('noc', 'routerBuffers', (x) => x.flitBits * x.op.n.registerFilePjPerBit)] },
  'noc.routeComputations': { parts: [dyn('noc', 'routerAllocators', (x) => x.op.n.routeComputePj)] },
  'noc.vcAllocations': { parts: [dyn('noc', 'routerAllocators', (x) => x.op.n.vcAllocPj)] },
  'noc.switchAllocations': { parts: [dyn('noc', 'routerAllocators', (x) => x.op.n.switchAllocPj)] },
  // Crossbar: each bit crosses the (multiplexer-tree) crossbar once: about its side of wire.
  // The crossbar output is latched in the output port's register (sim/power/routerArea.ts): one flit write.
  'noc.crossbarTraversals': {
    parts: [dyn('noc', 'routerCrossbar', (x) => x.flitBits * x.op.n.wirePjPerBitMm * x.crossbarSpanMm), dyn('noc', 'routerBuffers', (x) => x.flitBits * x.op.n.registerFilePjPerBit)],
  },
  // Die-to-die link: each bit pays the die-to-die PHY energy (designs larger than the reticle).
  'noc.dieToDieFlits': { parts: [dyn('noc', 'dieToDie', (x) => x.flitBits * x.op.c.dieToDiePjPerBit)] },
  // Link: each bit crosses one tile pitch of wire.
  'noc.linkFlitHops': { parts: [dyn('noc', 'links', (x) => x.flitBits * x.op.n.wirePjPerBitMm * x.linkLengthMm)] },
  'noc.creditsReturned': { parts: [dyn('noc', 'routerAllocators', (x) => x.op.n.creditPj)] },

  // --- Tensor Compute Core ------------------------------------------------------
  // Fetch: decode logic (compute) plus one IMEM read of an instruction (SRAM).
  'tile.instructionsFetched': {
    parts: [dyn('compute', 'fetchDecode', (x) => x.op.n.fetchDecodePj), dyn('sram', 'imem', (x) => x.op.c.instructionBytes * sramReadPjPerByte(x.op.n, x.tile.imemKiB * KIB))],
  },
  // Issue: write and later read one reservation-station entry.
  'tile.instructionsIssued': { parts: [dyn('compute', 'dispatch', (x) => 2 * x.op.c.reservationStationBits * x.op.n.registerFilePjPerBit)] },
  'tile.scalarInstructions': { parts: [dyn('compute', 'scalarCore', (x) => x.op.n.scalarOpPj)] },
  'tile.vectorInstructions': { zero: 'a vector instruction costs its element operations (tile.macs, tile.vectorAluOps, tile.sfuOps) and register accesses, counted separately' },
  'tile.memoryInstructions': { zero: 'loads and stores cost their bytes (tile.romBytesRead, tile.dmemBytes*) and register accesses, counted separately' },
  'tile.nocInstructions': { zero: 'sends and receives cost their flits in the noc.* counters' },
  'tile.controlInstructions': { zero: 'loop and branch work is fetch, issue and scalar-pipeline activity, counted in tile.instructionsFetched/Issued' },
  'tile.macs': { parts: [dyn('compute', 'vectorLanes', (x) => (x.activations === 'int8' ? x.op.n.macInt8Pj : x.op.n.macFp16Pj))] },
  'tile.vectorAluOps': { parts: [dyn('compute', 'vectorLanes', (x) => (x.activations === 'int8' ? x.op.n.vectorAluInt8Pj : x.op.n.vectorAluFp16Pj))] },
  'tile.sfuOps': { parts: [dyn('compute', 'sfu', (x) => x.op.n.sfuOpPj)] },
  'tile.registerReads': { zero: 'operand reads are charged per bit of their active elements in tile.registerReadBits' },
  'tile.registerWrites': { zero: 'write-backs are charged per bit of their active elements in tile.registerWriteBits' },
  // Register files: per bit of the elements an instruction actually reads or writes (sim/tile/registerTraffic.ts).
  'tile.registerReadBits': { parts: [dyn('compute', 'registerFiles', (x) => x.op.n.registerFilePjPerBit)] },
  'tile.registerWriteBits': { parts: [dyn('compute', 'registerFiles', (x) => x.op.n.registerFilePjPerBit)] },
  'tile.romBytesRead': { parts: [dyn('rom', 'wmem', (x) => romReadPjPerByteAt(x.op.n, x.op.c, x.romBytes))] },
  'tile.romScaleBytesRead': { parts: [dyn('rom', 'wmem', (x) => romReadPjPerByteAt(x.op.n, x.op.c, x.romBytes))] },
  'tile.dmemBytesRead': { parts: [dyn('sram', 'dmem', (x) => sramReadPjPerByte(x.op.n, x.tile.dmemKiB * KIB))] },
  'tile.dmemBytesWritten': { parts: [dyn('sram', 'dmem', (x) => x.op.c.sramWriteToReadEnergy * sramReadPjPerByte(x.op.n, x.tile.dmemKiB * KIB))] },
  'tile.kvBytesRead': { zero: 'a subset of tile.dmemBytesRead, charged there' },
  'tile.kvBytesWritten': { zero: 'a subset of tile.dmemBytesWritten, charged there' },
  // Clock tree: ungated cycles x core logic area x energy per mm2 per cycle.
  'tile.busyCycles': { parts: [dyn('compute', 'clockTree', (x) => x.op.n.clockTreePjPerMm2Cycle * x.coreLogicMm2)] },
  'tile.vectorBusyCycles': { zero: 'vector-lane energy is per element op (tile.macs, tile.vectorAluOps); the clock is charged in tile.busyCycles' },
  // ROM leakage while powered: P = area x density, per cycle = P / f (mW x us = nJ -> pJ x 1e3).
  'tile.romBusyCycles': { parts: [romLeakage(() => 1)] },
  // Idle ROM cycles leak too, unless the design power-gates them (sleep transistors on Vdd, paper section 2).
  'tile.romIdleCycles': { parts: [romLeakage((x) => (x.romPowerGated ? 0 : 1))] },
  'tile.dmemBusyCycles': { zero: 'DMEM energy is per byte (tile.dmemBytes*); its leakage is charged continuously from its area' },
  'tile.stallFetchCycles': { zero: 'stall cycles are a breakdown of tile cycles; the clock is gated while stalled and leakage is charged over all cycles' },
  'tile.stallDispatchCycles': { zero: 'stall breakdown (see tile.stallFetchCycles)' },
  'tile.stallReservationCycles': { zero: 'stall breakdown (see tile.stallFetchCycles)' },
  'tile.stallRawCycles': { zero: 'stall breakdown (see tile.stallFetchCycles)' },
  'tile.stallRomPortCycles': { zero: 'stall breakdown (see tile.stallFetchCycles)' },
  'tile.stallDmemPortCycles': { zero: 'stall breakdown (see tile.stallFetchCycles)' },
  'tile.stallWritePortCycles': { zero: 'stall breakdown (see tile.stallFetchCycles)' },
  'tile.stallNocCycles': { zero: 'stall breakdown (see tile.stallFetchCycles)' },
};
