import type { Design, TileParams } from '../design/design.js';
import { resolveTiles } from '../design/tiles.js';
import { operatingPoint, romBitAreaUm2 } from '../tech/scaling.js';
import { commonValues, nodeValues, type CommonValues, type NodeValues, type TechTable } from '../tech/table.js';
import { dieLayout, type DieLayout } from './dies.js';
import { routerAreaUm2At45nm } from './routerArea.js';

/**
 * Area model (docs/power.md "Area"): each tile is a Tensor Compute Core (fetch/decode,
 * dispatch ports, reservation stations, scalar pipeline and register file, FP16 vector
 * lanes and vector register file, special-function units), its memories (IMEM and DMEM
 * SRAM, WMEM ROM) and its router (VC buffers, crossbar, allocators: ORION 2.0's area model,
 * sim/power/routerArea.ts). Logic is sized at 45 nm (gate counts x NAND2 area, Horowitz's
 * FP16 units) and scaled by logicAreaScale; SRAM by bit cell / array efficiency; ROM by its
 * macro density. The chip adds chipOverheadFraction; tile pitch = sqrt(tile area) gives the
 * length of each mesh link. A chip larger than the reticle is cut into dies (dies.ts).
 */

export const AREA_COMPONENTS = [
  'fetchDecode',
  'dispatch',
  'reservationStations',
  'scalarCore',
  'scalarRegisterFile',
  'vectorLanes',
  'vectorRegisterFile',
  'sfu',
  'imem',
  'dmem',
  'wmem',
  'routerBuffers',
  'routerCrossbar',
  'routerAllocators',
  'routerWiring',
] as const;
export type AreaComponent = (typeof AREA_COMPONENTS)[number];

/**
 * What each component is made of: logic cells (leak as logic; the core's carry the clock
 * tree), SRAM or ROM macros, or wiring and spacing between cells (no transistors: no leakage).
 */
export type AreaClass = 'logic' | 'sram' | 'rom' | 'wire';
export const AREA_CLASS: Readonly<Record<AreaComponent, AreaClass>> = {
  fetchDecode: 'logic',
  dispatch: 'logic',
  reservationStations: 'logic',
  scalarCore: 'logic',
  scalarRegisterFile: 'logic',
  vectorLanes: 'logic',
  vectorRegisterFile: 'logic',
  sfu: 'logic',
  imem: 'sram',
  dmem: 'sram',
  wmem: 'rom',
  routerBuffers: 'logic',
  routerCrossbar: 'logic',
  routerAllocators: 'logic',
  routerWiring: 'wire',
};

/** Router components: excluded from the core's clock-tree area (the router's flops are charged their own clock). */
export const ROUTER_COMPONENTS: readonly AreaComponent[] = ['routerBuffers', 'routerCrossbar', 'routerAllocators', 'routerWiring'];

export interface TileArea {
  readonly byComponentMm2: Readonly<Record<AreaComponent, number>>;
  /** Logic cells (transistors): what leaks as logic. */
  readonly logicMm2: number;
  /** Core logic without the router (the clock tree's area). */
  readonly coreLogicMm2: number;
  /** The router's buffer flops (clocked every cycle: energy.ts). */
  readonly routerFlopMm2: number;
  readonly sramMm2: number;
  readonly romMm2: number;
  /** Wiring and spacing between cells (no transistors). */
  readonly wireMm2: number;
  readonly totalMm2: number;
  /** sqrt(totalMm2): the tile is taken as square. */
  readonly pitchMm: number;
}

export interface ChipArea {
  readonly tiles: readonly TileArea[];
  readonly byComponentMm2: Readonly<Record<AreaComponent, number>>;
  readonly tileArrayMm2: number;
  readonly overheadMm2: number;
  readonly totalMm2: number;
  /** Mean link length = sqrt(mean tile area) (mm). */
  readonly linkLengthMm: number;
  /** Distance a bit crosses in the crossbar (mm): the side of the (square) crossbar of the mean tile. */
  readonly crossbarSpanMm: number;
  /** How the chip is cut into reticle-sized dies (one die when it fits the reticle). */
  readonly dies: DieLayout;
}

const UM2 = 1e-6; // mm2 per um2
const BITS_PER_KIB = 8192;

/** Area of one tile at node values `n` (mm2 per component). */
export function tileAreaOf(t: TileParams, flitBits: number, virtualChannels: number, bufferDepthFlits: number, n: NodeValues, c: CommonValues, router = routerAreaUm2At45nm(c.routerPorts, flitBits, virtualChannels, bufferDepthFlits, c)): TileArea {
  const las = n.logicAreaScale;
  const gate = c.nand2AreaUm2At45nm * las * UM2;
  const flop = c.flopAreaUm2At45nm * las * UM2;
  const lanes = t.vlenBits / 16;
  const a: Record<AreaComponent, number> = {
    fetchDecode: t.fetchWidth * c.decodeWayGates * gate,
    dispatch: (t.scalarDispatchPorts + t.vectorDispatchPorts) * c.dispatchPortGates * gate,
    reservationStations: t.reservationStations * c.reservationStationBits * flop,
    scalarCore: c.scalarCoreGates * gate,
    scalarRegisterFile: c.scalarRegisters * 32 * flop * (1 + c.registerPortAreaFactor * (t.scalarWritePorts - 1)),
    vectorLanes: lanes * (c.fp16MulAreaUm2At45nm + c.fp16AddAreaUm2At45nm) * las * UM2,
    vectorRegisterFile: c.vectorRegisters * t.vlenBits * flop * (1 + c.registerPortAreaFactor * (t.vectorWritePorts - 1)),
    sfu: lanes * c.sfuLanesPerVectorLane * c.sfuGates * gate,
    imem: (t.imemKiB * BITS_PER_KIB * n.sramBitcellUm2 * UM2) / c.sramArrayEfficiency,
    dmem: (t.dmemKiB * BITS_PER_KIB * n.sramBitcellUm2 * UM2) / c.sramArrayEfficiency,
    wmem: t.wmemKiB * BITS_PER_KIB * romBitAreaUm2(n, c) * UM2,
    routerBuffers: (router.buffers + router.outputRegisters) * las * UM2, // the router's flops: input VC buffers and output registers
    routerCrossbar: router.crossbar * las * UM2,
    routerAllocators: router.allocators * las * UM2,
    routerWiring: router.wiring * las * UM2,
  };
  const by: Record<AreaClass, number> = { logic: 0, sram: 0, rom: 0, wire: 0 };
  for (const k of AREA_COMPONENTS) by[AREA_CLASS[k]] += a[k];
  const routerLogic = ROUTER_COMPONENTS.reduce((s, k) => s + (AREA_CLASS[k] === 'logic' ? a[k] : 0), 0);
  const total = by.logic + by.sram + by.rom + by.wire;
  return {
    byComponentMm2: a,
    logicMm2: by.logic,
    coreLogicMm2: by.logic - routerLogic,
    routerFlopMm2: a.routerBuffers,
    sramMm2: by.sram,
    romMm2: by.rom,
    wireMm2: by.wire,
    totalMm2: total,
    pitchMm: Math.sqrt(total),
  };
}

/** Area of every tile and of the chip. The clock is checked against the node maximum. */
export function areaOf(design: Design, tech: TechTable): ChipArea {
  operatingPoint(tech, design.processNodeNm, design.clockMHz); // rejects a clock above the node maximum
  const n = nodeValues(tech, design.processNodeNm);
  const c = commonValues(tech);
  const { flitBits, virtualChannels, bufferDepthFlits } = design.noc;
  const router = routerAreaUm2At45nm(c.routerPorts, flitBits, virtualChannels, bufferDepthFlits, c);
  const seen = new Map<TileParams, TileArea>(); // tiles without overrides share one parameter object
  const tiles = resolveTiles(design).map((t) => {
    let a = seen.get(t);
    if (!a) seen.set(t, (a = tileAreaOf(t, flitBits, virtualChannels, bufferDepthFlits, n, c, router)));
    return a;
  });
  const by = Object.fromEntries(AREA_COMPONENTS.map((k) => [k, tiles.reduce((s, t) => s + t.byComponentMm2[k], 0)])) as Record<AreaComponent, number>;
  const arr = tiles.reduce((s, t) => s + t.totalMm2, 0);
  const overhead = arr * c.chipOverheadFraction;
  const meanCrossbarMm2 = (by.routerCrossbar + by.routerWiring * (router.wiring > 0 ? router.crossbarWiring / router.wiring : 0)) / tiles.length;
  return {
    tiles,
    byComponentMm2: by,
    tileArrayMm2: arr,
    overheadMm2: overhead,
    totalMm2: arr + overhead,
    linkLengthMm: Math.sqrt(arr / tiles.length),
    crossbarSpanMm: Math.sqrt(meanCrossbarMm2),
    dies: dieLayout(design.mesh.rows, design.mesh.cols, tiles.map((t) => t.totalMm2 * (1 + c.chipOverheadFraction)), c.reticleLimitMm2),
  };
}

/** Length (mm) of the link between neighbouring tiles i and j: the mean of their pitches. */
export function linkLengthMm(area: ChipArea, i: number, j: number): number {
  return (area.tiles[i].pitchMm + area.tiles[j].pitchMm) / 2;
}
