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
/**
 * SRAM read energy per byte for a macro of `bytes`: log-log interpolation between the
 * table's 8 KiB, 32 KiB and 1 MiB points, held constant outside that range.
 */
export function sramReadPjPerByte(n: NodeValues, bytes: number): number {
  const pts: [number, number][] = [
    [8 * KIB, n.sramReadPjPerByte8KiB],
    [32 * KIB, n.sramReadPjPerByte32KiB],
    [1024 * KIB, n.sramReadPjPerByte1MiB],
  ];
  if (bytes <= pts[0][0]) return pts[0][1];
  if (bytes >= pts[2][0]) return pts[2][1];
  const [[x0, y0], [x1, y1]] = bytes <= pts[1][0] ? [pts[0], pts[1]] : [pts[1], pts[2]];
  if (y0 <= 0 || y1 <= 0) return y0 + ((y1 - y0) * (bytes - x0)) / (x1 - x0);
  const t = Math.log(bytes / x0) / Math.log(x1 / x0);
  return y0 * (y1 / y0) ** t;
}
