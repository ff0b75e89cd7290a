import type { ProcessNodeNm } from './nodes.js';
import { commonValues, nodeValues, type CommonValues, type NodeValues, type TechTable } from './table.js';
import { InputError } from '../validate/inputError.js';

/**
 * Scaling helpers over the technology table: supply voltage under DVFS, the voltage
 * factors for dynamic energy and leakage, and SRAM energy by macro size.
 */

/**
 * Supply voltage at a clock (DVFS): linear between the floor vddMinV at 0 MHz and
 * vddNominalV at maxClockMHz, V(f) = Vmin + (Vnom - Vmin) f / fmax (an assumed,
 * documented model; docs/power.md). A clock above the node's maximum is rejected.
 */
export function vddAtClock(n: NodeValues, clockMHz: number, node: ProcessNodeNm, tableName = 'technology table'): number {
  if (!(clockMHz > 0) || clockMHz > n.maxClockMHz) {
    throw new InputError('design', 'clockMHz', clockMHz, `above the ${node} nm maximum of ${n.maxClockMHz} MHz in ${tableName} (nodes.${node}.maxClockMHz), or not positive`, `use a clock in (0, ${n.maxClockMHz}] MHz, a smaller node, or a table that allows the clock`);
  }
  return n.vddMinV + ((n.vddNominalV - n.vddMinV) * clockMHz) / n.maxClockMHz;
}

/** The technology at one node and clock: table values plus the DVFS factors. */
export interface OperatingPoint {
  readonly node: ProcessNodeNm;
  readonly clockMHz: number;
  readonly vddV: number;
  /** Dynamic energy factor (V / Vnominal)^2 applied to every per-event energy (C V^2). */
  readonly dynamicFactor: number;
  /** Leakage power factor (V / Vnominal)^k, k = common.leakageVddExponent. */
  readonly leakageFactor: number;
  readonly n: NodeValues;
  readonly c: CommonValues;
}

export function operatingPoint(tech: TechTable, node: ProcessNodeNm, clockMHz: number): OperatingPoint {
  const n = nodeValues(tech, node);
  const c = commonValues(tech);
  const vddV = vddAtClock(n, clockMHz, node, `technology table "${tech.name}"`);
  const ratio = vddV / n.vddNominalV;
  return { node, clockMHz, vddV, dynamicFactor: ratio * ratio, leakageFactor: ratio ** c.leakageVddExponent, n, c };
}

const KIB = 1024;
const MIB = 1024 * KIB;
/**
 * SRAM read energy per byte for a macro of `bytes`: log-log interpolation between the
 * table's 8 KiB, 32 KiB and 1 MiB points, held constant outside that range.
 */
export function sramReadPjPerByte(n: Pick<NodeValues, 'sramReadPjPerByte8KiB' | 'sramReadPjPerByte32KiB' | 'sramReadPjPerByte1MiB'>, bytes: number): number {
  const pts: [number, number][] = [
    [8 * KIB, n.sramReadPjPerByte8KiB],
    [32 * KIB, n.sramReadPjPerByte32KiB],
    [MIB, n.sramReadPjPerByte1MiB],
  ];
  if (bytes <= pts[0][0]) return pts[0][1];
  if (bytes >= pts[2][0]) return pts[2][1];
  const [[x0, y0], [x1, y1]] = bytes <= pts[1][0] ? [pts[0], pts[1]] : [pts[1], pts[2]];
  if (y0 <= 0 || y1 <= 0) return y0 + ((y1 - y0) * (bytes - x0)) / (x1 - x0);
  const t = Math.log(bytes / x0) / Math.log(x1 / x0);
  return y0 * (y1 / y0) ** t;
}

/** Weight ROM area per bit of the cell type the table selects (common.romMultiLevelCell). */
export function romBitAreaUm2(n: NodeValues, c: CommonValues): number {
  return c.romMultiLevelCell === 1 ? n.romMlcBitAreaUm2 : n.romBitAreaUm2;
}

/**
 * ROM read energy per byte for a ROM macro of `romBytes` (docs/power.md "ROM"):
 * - up to 1 MiB, the table's 1 MiB value scaled like the SRAM read energy of the SRAM macro
 *   of the same area: romReadPjPerByte x E_sram(N a) / E_sram(1 MiB a), a = ROM area per bit
 *   / SRAM macro area per bit;
 * - above 1 MiB the macro is 1 MiB banks on an H-tree fed from its centre: each byte also
 *   crosses the extra distance to its bank, half the growth of the macro's side,
 *   8 x wirePjPerBitMm x (side(N) - side(1 MiB)) / 2.
 */
export function romReadPjPerByteAt(n: NodeValues, c: CommonValues, romBytes: number): number {
  const bitUm2 = romBitAreaUm2(n, c);
  if (romBytes > MIB) {
    const sideMm = (bytes: number) => Math.sqrt(bytes * 8 * bitUm2 * 1e-6);
    return n.romReadPjPerByte + (8 * n.wirePjPerBitMm * (sideMm(romBytes) - sideMm(MIB))) / 2;
  }
  const a = bitUm2 / (n.sramBitcellUm2 / c.sramArrayEfficiency);
  const ref = sramReadPjPerByte(n, MIB * a);
  return ref > 0 ? (n.romReadPjPerByte * sramReadPjPerByte(n, romBytes * a)) / ref : n.romReadPjPerByte;
}
