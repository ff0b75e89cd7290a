import { z } from 'zod';
import { PROCESS_NODES_NM, type ProcessNodeNm } from './nodes.js';
import { parseInput, refineIssue } from '../validate/zod.js';

/**
 * The technology table: every number the area, energy and leakage models use, as data.
 * Each value carries its unit and its source: a citation `[ref] where` (the ref id is a
 * key of `references`), or a derivation `= formula` over sourced values. A value that is
 * only assumed says so with `assumed: true` (its source then gives the reasoning), and
 * `assumedCount` reports how many there are. `tessera tech` prints it; `--tech FILE`
 * replaces it with a user's table of the same shape (docs/power.md).
 */

export const SourcedSchema = z.strictObject({
  value: z.number(),
  unit: z.string().min(1),
  source: z.string().min(1).describe('a citation [ref] with table/page, or "= formula" over sourced values'),
  assumed: z.boolean().optional().describe('true when the value is an assumption, not a citation or derivation'),
});
export type Sourced = z.output<typeof SourcedSchema>;

/** Per-node parameters: name -> [unit, lower bound ('positive' or 'nonnegative'), meaning]. */
export const NODE_PARAMS = {
  maxClockMHz: ['MHz', 'positive', 'highest clock at the nominal supply'],
  vddNominalV: ['V', 'positive', 'supply at the maximum clock'],
  vddMinV: ['V', 'positive', 'lowest supply DVFS may use (near-threshold floor)'],
  logicAreaScale: ['x 45 nm', 'positive', 'standard-cell logic area relative to 45 nm'],
  sramBitcellUm2: ['um2', 'positive', 'high-density 6T SRAM bit cell'],
  romBitAreaUm2: ['um2/bit', 'positive', 'weight ROM macro area per stored bit, ordinary one-bit-per-cell mask ROM (periphery included; the default)'],
  romMlcBitAreaUm2: ['um2/bit', 'positive', 'weight ROM macro area per stored bit, multi-level-cell ROM (used when common.romMultiLevelCell = 1)'],
  dynamicEnergyScale: ['x 45 nm', 'positive', 'logic energy per operation at nominal Vdd relative to 45 nm, 0.9 V'],
  macFp16Pj: ['pJ', 'nonnegative', 'one FP16 multiply-accumulate (multiply + add)'],
  macInt8Pj: ['pJ', 'nonnegative', 'one INT8 multiply-accumulate (8b multiply + 32b add)'],
  macInt4Pj: ['pJ', 'nonnegative', 'one INT4 multiply-accumulate'],
  vectorAluFp16Pj: ['pJ', 'nonnegative', 'one FP16 element add/mul/max'],
  vectorAluInt8Pj: ['pJ', 'nonnegative', 'one INT8 element add/max'],
  sfuOpPj: ['pJ', 'nonnegative', 'one special-function element op (exp, rsqrt approximation)'],
  scalarOpPj: ['pJ', 'nonnegative', 'one 32-bit scalar ALU operation'],
  registerFilePjPerBit: ['pJ/bit', 'nonnegative', 'register-file (and flit-buffer) access energy per bit'],
  fetchDecodePj: ['pJ', 'nonnegative', 'fetch-buffer, decode and rename logic per instruction (IMEM read excluded)'],
  clockTreePjPerMm2Cycle: ['pJ/(mm2 cycle)', 'nonnegative', 'clock tree and flop clock pins per mm2 of tile logic per ungated cycle'],
  sramReadPjPerByte8KiB: ['pJ/B', 'nonnegative', 'SRAM read energy per byte, 8 KiB macro'],
  sramReadPjPerByte32KiB: ['pJ/B', 'nonnegative', 'SRAM read energy per byte, 32 KiB macro'],
  sramReadPjPerByte1MiB: ['pJ/B', 'nonnegative', 'SRAM read energy per byte, 1 MiB macro'],
  romReadPjPerByte: ['pJ/B', 'nonnegative', 'weight ROM read energy per byte of a 1 MiB ROM macro (a larger macro costs more: romReadPjPerByteAt in scaling.ts)'],
  routeComputePj: ['pJ', 'nonnegative', 'one route computation (head flit)'],
  vcAllocPj: ['pJ', 'nonnegative', 'one virtual-channel allocation'],
  switchAllocPj: ['pJ', 'nonnegative', 'one switch allocation'],
  creditPj: ['pJ', 'nonnegative', 'one credit returned upstream (counter update + credit wire)'],
  wirePjPerBitMm: ['pJ/(bit mm)', 'nonnegative', 'on-chip wire energy per bit per mm at the toggle rate'],
  logicLeakageMwPerMm2: ['mW/mm2', 'nonnegative', 'logic leakage power density at nominal Vdd'],
  sramLeakageMwPerMm2: ['mW/mm2', 'nonnegative', 'SRAM macro leakage power density at nominal Vdd'],
  romLeakageMwPerMm2: ['mW/mm2', 'nonnegative', 'ROM macro leakage while powered (always, unless the design power-gates idle cycles: power.romPowerGating)'],
} as const;
export type NodeParam = keyof typeof NODE_PARAMS;
export const NODE_PARAM_NAMES = Object.keys(NODE_PARAMS) as NodeParam[];

/** Node-independent parameters (areas at 45 nm scale with logicAreaScale). */
export const COMMON_PARAMS = {
  nand2AreaUm2At45nm: ['um2', 'positive', 'NAND2 gate (gate-equivalent) area at 45 nm'],
  flopAreaUm2At45nm: ['um2', 'positive', 'D flip-flop area at 45 nm (register files, buffers, RS entries)'],
  fp16MulAreaUm2At45nm: ['um2', 'positive', 'FP16 multiplier area at 45 nm'],
  fp16AddAreaUm2At45nm: ['um2', 'positive', 'FP16 adder area at 45 nm'],
  decodeWayGates: ['gates', 'positive', 'fetch/decode logic per unit of fetch width'],
  dispatchPortGates: ['gates', 'positive', 'issue/dispatch logic per dispatch port'],
  scalarCoreGates: ['gates', 'positive', 'scalar integer pipeline (ALU, load/store, control, CSRs)'],
  reservationStationBits: ['bits', 'positive', 'bits per reservation-station entry'],
  sfuLanesPerVectorLane: ['ratio', 'nonnegative', 'special-function units per FP16 vector lane'],
  sfuGates: ['gates', 'nonnegative', 'one special-function unit'],
  vectorRegisters: ['registers', 'positive', 'architectural vector registers'],
  scalarRegisters: ['registers', 'positive', 'architectural scalar registers (32-bit)'],
  registerPortAreaFactor: ['ratio', 'nonnegative', 'extra register-file area per write port beyond the first'],
  routerPorts: ['ports', 'positive', 'router ports in a 2D mesh (N, E, S, W, local)'],
  mux2AreaUm2At45nm: ['um2', 'positive', '2:1 multiplexer cell area at 45 nm (crossbar and buffer read-out)'],
  inverterAreaUm2At45nm: ['um2', 'positive', 'inverter cell area at 45 nm (arbiters)'],
  crossbarWiringFactor: ['ratio', 'positive', 'multiplexer-tree crossbar area / its multiplexer cell area (the rest is wiring between the cells)'],
  arbiterSpacingFactor: ['ratio', 'positive', 'arbiter area / its cell area (the rest is spacing and wiring)'],
  sramArrayEfficiency: ['ratio', 'positive', 'bit-cell area / SRAM macro area (periphery overhead)'],
  sramWriteToReadEnergy: ['ratio', 'nonnegative', 'SRAM write energy / read energy per byte'],
  leakageVddExponent: ['exponent', 'nonnegative', 'leakage power ~ (V / Vnominal)^k under DVFS'],
  chipOverheadFraction: ['ratio', 'nonnegative', 'chip area beyond the tiles (I/O ring, clock, power grid) / tile area'],
  instructionBytes: ['bytes', 'positive', 'bytes read from IMEM per fetched instruction'],
  romMultiLevelCell: ['0 or 1', 'nonnegative', 'weight ROM cell: 0 = ordinary one-bit-per-cell mask ROM (romBitAreaUm2), 1 = multi-level cell (romMlcBitAreaUm2)'],
  reticleLimitMm2: ['mm2', 'positive', 'largest die one lithography exposure field allows (the reticle limit)'],
  dieToDiePjPerBit: ['pJ/bit', 'nonnegative', 'energy per bit crossing a die-to-die link (designs larger than one reticle)'],
  dieToDieLatencyNs: ['ns', 'nonnegative', 'latency a die-to-die link adds to a message crossing it'],
} as const;
export type CommonParam = keyof typeof COMMON_PARAMS;
export const COMMON_PARAM_NAMES = Object.keys(COMMON_PARAMS) as CommonParam[];

/**
 * Upper bounds that catch typos and impossible values, not design limits: fractions stay
 * at most 1, supplies under 5 V, clocks under 100 GHz, and any other value under 1e6 in its
 * unit (a 1e6 pJ MAC or a 1e6 um2 bit cell is a slip of the exponent).
 */
const UPPER_BOUNDS: Readonly<Record<string, number>> = {
  sramArrayEfficiency: 1,
  romMultiLevelCell: 1,
  vddNominalV: 5,
  vddMinV: 5,
  maxClockMHz: 100_000,
};
const ANY_VALUE_MAX = 1e6;

function paramSchema(name: string, unit: string, bound: 'positive' | 'nonnegative', what: string) {
  const max = UPPER_BOUNDS[name] ?? ANY_VALUE_MAX;
  const value =
    bound === 'positive'
      ? z.number().positive(`${name} must be > 0`).max(max).finite().describe(what)
      : z.number().min(0, `${name} must be >= 0 (an energy, area or power cannot be negative)`).max(max).finite().describe(what);
  return SourcedSchema.extend({ value, unit: z.string().min(1).describe(`unit, normally "${unit}"`) });
}

function paramsObject<T extends Record<string, readonly [string, 'positive' | 'nonnegative', string]>>(params: T) {
  return z.strictObject(Object.fromEntries(Object.entries(params).map(([k, [unit, bound, what]]) => [k, paramSchema(k, unit, bound, what)])) as { [K in keyof T]: ReturnType<typeof paramSchema> });
}

export const NodeTechSchema = paramsObject(NODE_PARAMS).superRefine((n, ctx) => {
  if (n.vddMinV.value > n.vddNominalV.value) refineIssue(ctx, ['vddMinV', 'value'], `must not exceed vddNominalV (${n.vddNominalV.value} V)`, 'lower vddMinV or raise vddNominalV');
});
export const CommonTechSchema = paramsObject(COMMON_PARAMS).superRefine((c, ctx) => {
  if (c.romMultiLevelCell.value !== 0 && c.romMultiLevelCell.value !== 1) refineIssue(ctx, ['romMultiLevelCell', 'value'], 'must be 0 (ordinary one-bit-per-cell mask ROM) or 1 (multi-level cell)', 'use 0 or 1');
  for (const k of ['crossbarWiringFactor', 'arbiterSpacingFactor'] as const) {
    if (c[k].value < 1) refineIssue(ctx, [k, 'value'], 'must be at least 1 (area including wiring / cell area)', 'use 1 for no wiring allowance');
  }
});

export const TechTableSchema = z
  .strictObject({
    kind: z.literal('tech'),
    schemaVersion: z.literal(1),
    name: z.string().min(1),
    description: z.string().optional(),
    references: z.record(z.string().regex(/^[a-z][A-Za-z0-9]*$/), z.string().min(1)).describe('citation id -> full citation'),
    common: CommonTechSchema,
    nodes: z.strictObject(Object.fromEntries(PROCESS_NODES_NM.map((n) => [String(n), NodeTechSchema])) as Record<`${ProcessNodeNm}`, typeof NodeTechSchema>),
  })
  .superRefine((t, ctx) => {
    // Every [ref] cited must exist; every value needs a citation, a derivation or an assumption flag.
    const check = (path: (string | number)[], v: Sourced) => {
      const refs = [...v.source.matchAll(/\[([a-z][A-Za-z0-9]*)\]/g)].map((m) => m[1]);
      for (const r of refs) if (!(r in t.references)) refineIssue(ctx, [...path, 'source'], `cites [${r}], which is not in "references"`, `add "${r}" to references or fix the citation`);
      if (!v.assumed && refs.length === 0 && !v.source.trimStart().startsWith('=')) {
        refineIssue(ctx, [...path, 'source'], 'a source must cite a reference as [id], give a derivation starting with "=", or the value must be flagged "assumed": true', 'add a citation or set "assumed": true');
      }
    };
    for (const k of COMMON_PARAM_NAMES) check(['common', k], t.common[k]);
    for (const n of PROCESS_NODES_NM) for (const k of NODE_PARAM_NAMES) check(['nodes', String(n), k], t.nodes[`${n}`][k]);
  });

export type TechTable = z.output<typeof TechTableSchema>;
export type NodeTech = z.output<typeof NodeTechSchema>;
export type CommonTech = z.output<typeof CommonTechSchema>;

/** A node's parameters as plain numbers. */
export type NodeValues = Record<NodeParam, number>;
export type CommonValues = Record<CommonParam, number>;

export function nodeValues(tech: TechTable, node: ProcessNodeNm): NodeValues {
  const n = tech.nodes[`${node}`];
  return Object.fromEntries(NODE_PARAM_NAMES.map((k) => [k, n[k].value])) as NodeValues;
}

export function commonValues(tech: TechTable): CommonValues {
  return Object.fromEntries(COMMON_PARAM_NAMES.map((k) => [k, tech.common[k].value])) as CommonValues;
}

/** Every value of the table with its path, for listings and source checks. */
export function allValues(tech: TechTable): { path: string; node: ProcessNodeNm | null; param: string; v: Sourced }[] {
  const out: { path: string; node: ProcessNodeNm | null; param: string; v: Sourced }[] = [];
  for (const k of COMMON_PARAM_NAMES) out.push({ path: `common.${k}`, node: null, param: k, v: tech.common[k] });
  for (const n of PROCESS_NODES_NM) for (const k of NODE_PARAM_NAMES) out.push({ path: `nodes.${n}.${k}`, node: n, param: k, v: tech.nodes[`${n}`][k] });
  return out;
}

/** How many values are only assumed (flagged), and how many there are in all. */
export function assumedCount(tech: TechTable): { assumed: number; total: number } {
  const all = allValues(tech);
  return { assumed: all.filter((e) => e.v.assumed).length, total: all.length };
}

/** Validate a user's technology table (one-line InputError naming the field on failure). */
export function parseTechTable(input: unknown, file = 'tech'): TechTable {
  return parseInput(TechTableSchema, input, file);
}
