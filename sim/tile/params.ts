import type { TileParams } from '../design/design.js';
import { PRECISION_BITS, type Precision } from '../units/precision.js';
import { InputError } from '../validate/inputError.js';
import { parseInput } from '../validate/zod.js';
import { TileParamsSchema } from '../design/design.js';
import { Op, type Instr } from './isa.js';

/** Design precision block as the tile uses it. */
export interface TilePrecision {
  readonly weights: Precision;
  readonly activations: 'fp16' | 'int8';
  readonly kvCache: Precision;
}

/**
 * Timing parameters of one tile, resolved from the design's tile block (docs/tile.md):
 * both fidelities read only these.
 */
export interface TileTiming {
  readonly tile: TileParams;
  readonly precision: TilePrecision;
  /** lanes = VLEN / activation bits (W4A16 dequantises into FP16 lanes) */
  readonly lanes: number;
  readonly vlenBytes: number;
  readonly romBytesPerCycle: number;
  readonly dmemBytesPerCycle: number;
  readonly dmemPorts: number;
  readonly romLatencyCycles: number;
  readonly dmemLatencyCycles: number;
  readonly fetchWidth: number;
  readonly reservationStations: number;
  readonly scalarAlus: number;
  readonly vectorUnits: number;
  readonly inOrder: boolean;
  readonly dmemBytes: number;
  readonly imemBytes: number;
  /** latency of each op code except memory (memory ops: see latencyOf) */
  readonly opLatency: Int32Array;
}

/** Vector instructions accepted by the (single, pipelined) vector unit per cycle. */
export const VECTOR_UNITS = 1;

const TIMING_CACHE = new WeakMap<TileParams, Map<string, TileTiming>>();

/** Resolve (and validate) a tile's timing; cached per tile-parameter object and precision. */
export function resolveTiming(tileIn: TileParams, precision: TilePrecision): TileTiming {
  const key = `${precision.weights}/${precision.activations}/${precision.kvCache}`;
  let byPrecision = TIMING_CACHE.get(tileIn);
  const hit = byPrecision?.get(key);
  if (hit) return hit;
  const t = computeTiming(tileIn, precision);
  if (!byPrecision) TIMING_CACHE.set(tileIn, (byPrecision = new Map()));
  byPrecision.set(key, t);
  return t;
}

function computeTiming(tileIn: TileParams, precision: TilePrecision): TileTiming {
  // Re-validate: callers may hand over hand-built objects (one-line error, never a wrong result).
  const tile = parseInput(TileParamsSchema, tileIn, 'tile parameters');
  const actBits = PRECISION_BITS[precision.activations];
  const vlenBytes = tile.vlenBits / 8;
  const lanes = tile.vlenBits / actBits;
  const L = tile.vectorLatencyCycles;
  const opLatency = new Int32Array(16);
  opLatency[Op.SALU] = 1;
  opLatency[Op.LOOP] = 1;
  opLatency[Op.BARRIER] = 0;
  opLatency[Op.VMAC] = L.mac;
  opLatency[Op.VADD] = L.add;
  opLatency[Op.VMUL] = L.mul;
  opLatency[Op.VMAX] = L.max;
  opLatency[Op.VEXP] = L.exp;
  opLatency[Op.VRSQRT] = L.rsqrt;
  // reduction tree: one cycle per level of log2(lanes) plus one to write the scalar
  opLatency[Op.VRED] = 1 + Math.ceil(Math.log2(lanes));
  opLatency[Op.SEND] = 1;
  opLatency[Op.RECV] = 1;
  return {
    tile,
    precision: { weights: precision.weights, activations: precision.activations, kvCache: precision.kvCache },
    lanes,
    vlenBytes,
    romBytesPerCycle: tile.romBytesPerCycle || vlenBytes,
    dmemBytesPerCycle: tile.dmemBytesPerCycle || vlenBytes,
    dmemPorts: tile.dmemPorts,
    romLatencyCycles: tile.romLatencyCycles,
    dmemLatencyCycles: tile.dmemLatencyCycles,
    fetchWidth: tile.fetchWidth,
    reservationStations: tile.reservationStations,
    scalarAlus: tile.scalarDispatchPorts,
    vectorUnits: VECTOR_UNITS,
    inOrder: tile.scheduling === 'in-order',
    dmemBytes: tile.dmemKiB * 1024,
    imemBytes: tile.imemKiB * 1024,
    opLatency,
  };
}

/** Cycles an access holds its port (ROM or one DMEM port). */
export function occupancyOf(t: TileTiming, i: Instr): number {
  if (i.op === Op.LDROM) return Math.max(1, Math.ceil((i.bytes + i.scaleBytes) / t.romBytesPerCycle));
  if (i.op === Op.LDDMEM || i.op === Op.STDMEM) return Math.max(1, Math.ceil(i.bytes / t.dmemBytesPerCycle));
  return 0;
}

/**
 * Issue-to-result latency: ROM and DMEM loads deliver the last beat `latency` cycles
 * after it leaves the port (occupancy + latency - 1); a store completes when its last
 * beat is written.
 */
export function latencyOf(t: TileTiming, i: Instr): number {
  switch (i.op) {
    case Op.LDROM:
      return occupancyOf(t, i) + t.romLatencyCycles - 1;
    case Op.LDDMEM:
      return occupancyOf(t, i) + t.dmemLatencyCycles - 1;
    case Op.STDMEM:
      return occupancyOf(t, i);
    default:
      return t.opLatency[i.op];
  }
}

/** One-line error for a kernel that does not fit the tile. */
export function checkFits(t: TileTiming, kernel: string, dmemBytesNeeded: number): void {
  if (dmemBytesNeeded > t.dmemBytes) {
    throw new InputError(`kernel ${kernel}`, 'DMEM bytes needed', dmemBytesNeeded, `more than the tile's ${t.tile.dmemKiB} KiB (${t.dmemBytes} bytes) of DMEM`, 'use a smaller slice (fewer rows, columns, tokens or context) or a larger tile.dmemKiB');
  }
}

/** One-line error for weights that do not fit in the tile's weight ROM. */
export function checkRomFits(t: TileTiming, kernel: string, romBytesNeeded: number): void {
  const have = t.tile.wmemKiB * 1024;
  if (romBytesNeeded > have) {
    throw new InputError(`kernel ${kernel}`, 'weight ROM bytes needed', romBytesNeeded, `more than the tile's ${t.tile.wmemKiB} KiB (${have} bytes) of WMEM`, 'give the tile a smaller slice of the weights or a larger tile.wmemKiB');
  }
}
