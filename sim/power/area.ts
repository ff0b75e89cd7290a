import type { Design, TileParams } from '../design/design.js';
import { resolveTiles } from '../design/tiles.js';
import { operatingPoint } from '../tech/scaling.js';
import { commonValues, nodeValues, type CommonValues, type NodeValues, type TechTable } from '../tech/table.js';

/**
 * Area model (docs/power.md "Area"): each tile is a Tensor Compute Core (fetch/decode,
 * dispatch ports, reservation stations, scalar pipeline and register file, FP16 vector
 * lanes and vector register file, special-function units), its memories (IMEM and DMEM
 * SRAM, WMEM ROM) and its router (VC buffers, crossbar, allocators). Logic is sized at
 * 45 nm (gate counts x NAND2 area, Horowitz's FP16 units) and scaled by logicAreaScale;
 * SRAM by bit cell / array efficiency; ROM by its macro density; the crossbar by wire
 * pitch. The chip adds chipOverheadFraction; tile pitch = sqrt(tile area) gives the
 * length of each mesh link.
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
] as const;
export type AreaComponent = (typeof AREA_COMPONENTS)[number];

/** Which components are logic (leak as logic, carry the clock tree), SRAM, or ROM. */
export const AREA_CLASS: Readonly<Record<AreaComponent, 'logic' | 'sram' | 'rom'>> = {
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
};

/** Router components: excluded from the core's clock-tree area (router energy is per event). */
export const ROUTER_COMPONENTS: readonly AreaComponent[] = ['routerBuffers', 'routerCrossbar', 'routerAllocators'];

export interface TileArea {
  readonly byComponentMm2: Readonly<Record<AreaComponent, number>>;
  readonly logicMm2: number;
  /** Core logic without the router (the clock tree's area). */
  readonly coreLogicMm2: number;
  readonly sramMm2: number;
  readonly romMm2: number;
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
  /** Crossbar traversal length (mm) = side of the crossbar = ports x flitBits x wire pitch. */
  readonly crossbarSpanMm: number;
}

const UM2 = 1e-6; // mm2 per um2
const BITS_PER_KIB = 8192;

/** Area of one tile at node values `n` (mm2 per component). */
export function tileAreaOf(t: TileParams, flitBits: number, virtualChannels: number, bufferDepthFlits: number, n: NodeValues, c: CommonValues): TileArea {
  const las = n.logicAreaScale;
  const gate = c.nand2AreaUm2At45nm * las * UM2;
  const flop = c.flopAreaUm2At45nm * las * UM2;
  const lanes = t.vlenBits / 16;
  const ports = c.routerPorts;
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
    wmem: t.wmemKiB * BITS_PER_KIB * n.romBitAreaUm2 * UM2,
    routerBuffers: ports * virtualChannels * bufferDepthFlits * flitBits * flop,
    routerCrossbar: (ports * flitBits * n.wirePitchUm * 1e-3) ** 2,
    routerAllocators: ports * virtualChannels * c.allocatorGatesPerVc * gate,
  };
  let logic = 0;
  let sram = 0;
  let rom = 0;
  for (const k of AREA_COMPONENTS) {
    if (AREA_CLASS[k] === 'logic') logic += a[k];
    else if (AREA_CLASS[k] === 'sram') sram += a[k];
    else rom += a[k];
  }
  const coreLogic = logic - ROUTER_COMPONENTS.reduce((s, k) => s + a[k], 0);
  const total = logic + sram + rom;
  return { byComponentMm2: a, logicMm2: logic, coreLogicMm2: coreLogic, sramMm2: sram, romMm2: rom, totalMm2: total, pitchMm: Math.sqrt(total) };
}

/** Area of every tile and of the chip. The clock is checked against the node maximum. */
export function areaOf(design: Design, tech: TechTable): ChipArea {
  operatingPoint(tech, design.processNodeNm, design.clockMHz); // rejects a clock above the node maximum
  const n = nodeValues(tech, design.processNodeNm);
  const c = commonValues(tech);
  const { flitBits, virtualChannels, bufferDepthFlits } = design.noc;
  const tiles = resolveTiles(design).map((t) => tileAreaOf(t, flitBits, virtualChannels, bufferDepthFlits, n, c));
  const by = Object.fromEntries(AREA_COMPONENTS.map((k) => [k, tiles.reduce((s, t) => s + t.byComponentMm2[k], 0)])) as Record<AreaComponent, number>;
  const arr = tiles.reduce((s, t) => s + t.totalMm2, 0);
  const overhead = arr * c.chipOverheadFraction;
  return {
    tiles,
    byComponentMm2: by,
    tileArrayMm2: arr,
    overheadMm2: overhead,
    totalMm2: arr + overhead,
    linkLengthMm: Math.sqrt(arr / tiles.length),
    crossbarSpanMm: c.routerPorts * flitBits * n.wirePitchUm * 1e-3,
  };
}

/** Length (mm) of the link between neighbouring tiles i and j: the mean of their pitches. */
export function linkLengthMm(area: ChipArea, i: number, j: number): number {
  return (area.tiles[i].pitchMm + area.tiles[j].pitchMm) / 2;
}
