import { MAX_CLOCK_MHZ, PROCESS_NODES_NM, type ProcessNodeNm } from './nodes.js';
import { TechTableSchema, type NodeParam, type CommonParam, type Sourced, type TechTable } from './table.js';
import { sramReadPjPerByte } from './scaling.js';

/**
 * Tessera's built-in technology table. Every value is a citation, a derivation over
 * cited values (the formula is in its `source`), or an assumption flagged `assumed`.
 * Citations come from ../shared/reference/landscape.md section 3 and the paper digest
 * section 7 (docs/power.md lists them with the reasoning). Nothing here is fitted to the
 * paper's result tables: the paper's own numbers disagree with one another.
 */

const REFERENCES: Record<string, string> = {
  paper: 'Ganti & Xu, "From LLM to Silicon: RL-Driven ASIC Architecture Exploration for On-Device AI Inference", arXiv 2604.07526v1 (2026)',
  stillmaker2017: 'A. Stillmaker, B. Baas, "Scaling equations for the accurate prediction of CMOS device performance from 180 nm to 7 nm", Integration 58:74-81 (2017): area factors relative to 45 nm',
  horowitz2014: 'M. Horowitz, "Computing\'s energy problem (and what we can do about it)", ISSCC 2014 paper 1.1, energy and area table (45 nm, 0.9 V)',
  jouppi2021: 'N. Jouppi et al., "Ten Lessons From Three Generations Shaped Google\'s TPUv4i", ISCA 2021, Table 2 (45 nm and 7 nm energies)',
  tsmcN5: 'TSMC N5 vs N7 announcement (press, 2019-2020): 1.8x logic density, +15% speed or -30% power',
  tsmcN3: 'TSMC N3 vs N5 announcement (press, 2021-2022): 1.7x logic density, +10-15% speed or -25-30% power',
  iedmSram: 'High-density 6T SRAM bit cells as reported at IEDM/VLSI: 22 nm 0.092, 16 nm 0.074, 14 nm 0.064, 10 nm 0.042, 7 nm 0.027, 5 nm 0.021, N3B 0.0199 um2 (IEDM 2022 reporting)',
  yin2024: 'Yin et al., 1T multi-level-cell ROM compute-in-memory macro, IEEE JSSC 2024 (doi 10.1109/JSSC.2023.3326955): 65 nm, 3,984 kb/mm2',
  keckler2011: 'S. Keckler et al., "GPUs and the future of parallel computing", IEEE Micro 31(5) 2011: on-chip wire ~0.06-0.08 pJ/bit/mm at 50% toggle',
  nangate45: 'NanGate FreePDK45 Open Cell Library: NAND2_X1 0.798 um2, NOR2_X1 0.798 um2, INV_X1 0.532 um2, MUX2_X1 1.862 um2, DFF_X1 4.522 um2',
  riscv: 'The RISC-V Instruction Set Manual (unprivileged ISA, 32 x registers, 32-bit instructions) and the V extension 1.0 (32 vector registers)',
  orion2: 'A. Kahng, B. Li, L.-S. Peh, K. Samadi, "ORION 2.0: A fast and accurate NoC power and area model for early-stage design space exploration", DATE 2009; its released area model (SIM_router_area.c): register FIFO = ports x VCs x depth x flit bits x DFF; multiplexer-tree crossbar = P_in x W x P_out x 1.5 x (2^ceil(log2 P_in) - 1) x MUX2 (the 1.5 allows for the wiring); round-robin arbiter of r requesters = (6 r NOR2 + 2 r INV + r DFF) x 1.3 (30% spacing)',
  asmlField: 'ASML TWINSCAN NXT (193i) and NXE (EUV) scanners: full exposure field 26 mm x 33 mm = 858 mm2 at the wafer, the largest die one exposure prints (the reticle limit)',
  ucie: 'Universal Chiplet Interconnect Express (UCIe) 1.0 specification targets (D. Das Sharma et al., IEEE Trans. CPMT 12(9) 2022): 2.5D advanced package 0.25 pJ/bit up to 16 GT/s (2D standard package 0.5 pJ/bit), latency target under 2 ns',
};

const s = (value: number, unit: string, source: string, assumed = false): Sourced => (assumed ? { value, unit, source, assumed: true } : { value, unit, source });
const r = (x: number, digits = 4) => Number(x.toPrecision(digits));

// --- Cited anchor values (inputs to the derivations below) -------------------------
/** Horowitz ISSCC 2014, 45 nm, 0.9 V (pJ). */
const H = { fp16Mul: 1.1, fp16Add: 0.4, int8Mul: 0.2, int8Add: 0.03, int32Add: 0.1, sram8KiB64b: 10, sram32KiB64b: 20, sram1MiB64b: 100 };
/** Jouppi ISCA 2021 Table 2, 7 nm (pJ). */
const J7 = { int8Mul: 0.07, sram8KiB64b: 7.5, sram32KiB64b: 8.5, sram1MiB64b: 14 };
/** Stillmaker & Baas area factors vs 45 nm. */
const STILL = { 32: 0.46, 20: 0.21, 16: 0.19, 14: 0.17, 10: 0.1, 7: 0.059 };
const SRAM_CELL = { 22: 0.092, 16: 0.074, 14: 0.064, 10: 0.042, 7: 0.027, 5: 0.021, 3: 0.0199 };

function logicAreaScale(n: ProcessNodeNm): Sourced {
  const k = Math.log(STILL[32] / STILL[20]) / Math.log(32 / 20);
  switch (n) {
    case 7:
    case 10:
    case 14:
      return s(STILL[n], 'x 45 nm', `[stillmaker2017] area factor ${n} nm`);
    case 22:
      return s(r(STILL[20] * (22 / 20) ** k), 'x 45 nm', `= 0.21 x (22/20)^k, k = ln(0.46/0.21)/ln(32/20) = ${k.toFixed(3)} (log-log interpolation of [stillmaker2017] 32 and 20 nm)`);
    case 28:
      return s(r(STILL[32] * (28 / 32) ** k), 'x 45 nm', `= 0.46 x (28/32)^k, k = ${k.toFixed(3)} (log-log interpolation of [stillmaker2017] 32 and 20 nm)`);
    case 5:
      return s(r(STILL[7] / 1.8), 'x 45 nm', '= 0.059 / 1.8 ([stillmaker2017] 7 nm, [tsmcN5] 1.8x logic density)');
    case 3:
      return s(r(STILL[7] / 1.8 / 1.7), 'x 45 nm', '= 0.059 / 1.8 / 1.7 ([stillmaker2017] 7 nm, [tsmcN5] 1.8x, [tsmcN3] 1.7x logic density)');
  }
}

function sramBitcell(n: ProcessNodeNm): Sourced {
  if (n === 28) {
    const k = Math.log(SRAM_CELL[22] / SRAM_CELL[16]) / Math.log(22 / 16);
    return s(r(SRAM_CELL[22] * (28 / 22) ** k), 'um2', `= 0.092 x (28/22)^k, k = ln(0.092/0.074)/ln(22/16) = ${k.toFixed(3)} (extrapolating [iedmSram] 22 and 16 nm)`);
  }
  return s(SRAM_CELL[n], 'um2', `[iedmSram] ${n === 3 ? 'N3B' : `${n} nm`} HD bit cell`);
}

/** Energy scale vs 45 nm at nominal Vdd: 7 nm from Jouppi's INT8 multiply, others interpolated or from foundry claims. */
const E7 = J7.int8Mul / H.int8Mul;
const EK = Math.log(E7) / Math.log(7 / 45);
function energyScaleValue(n: ProcessNodeNm): number {
  if (n === 5) return E7 * 0.7;
  if (n === 3) return E7 * 0.7 * 0.725;
  return (n / 45) ** EK;
}
function energyScale(n: ProcessNodeNm): Sourced {
  if (n === 7) return s(r(E7), 'x 45 nm', '= 0.07 / 0.2: INT8 multiply at 7 nm [jouppi2021] over 45 nm [horowitz2014]');
  if (n === 5) return s(r(energyScaleValue(5)), 'x 45 nm', '= 0.35 x 0.70 (7 nm scale, [tsmcN5] -30% power at iso-speed)');
  if (n === 3) return s(r(energyScaleValue(3)), 'x 45 nm', '= 0.35 x 0.70 x 0.725 ([tsmcN5] -30%, [tsmcN3] -25..30% power, midpoint)');
  return s(r(energyScaleValue(n)), 'x 45 nm', `= (${n}/45)^${EK.toFixed(4)}: log-log interpolation between 45 nm (1.0, [horowitz2014]) and 7 nm (0.35, [jouppi2021])`);
}

/** SRAM read energy per byte for a macro size, per node. */
function sramPerByte(n: ProcessNodeNm, size: '8KiB' | '32KiB' | '1MiB'): Sourced {
  const key = size === '8KiB' ? 'sram8KiB64b' : size === '32KiB' ? 'sram32KiB64b' : 'sram1MiB64b';
  const e7 = J7[key] / 8;
  const e45 = H[key] / 8;
  if (n === 7) return s(r(e7), 'pJ/B', `= ${J7[key]} pJ / 8 B: ${size} 64-bit read at 7 nm [jouppi2021]`);
  if (n === 5 || n === 3) {
    const f5 = Math.sqrt(SRAM_CELL[5] / SRAM_CELL[7]);
    const f3 = f5 * Math.sqrt(SRAM_CELL[3] / SRAM_CELL[5]);
    const f = n === 5 ? f5 : f3;
    return s(r(e7 * f), 'pJ/B', `= ${r(e7)} x sqrt(cell(${n})/cell(7)) = x ${f.toFixed(3)}: 7 nm [jouppi2021] scaled by bit-line length ~ sqrt of the [iedmSram] bit cell (assumed model)`, true);
  }
  const t = Math.log(n / 7) / Math.log(45 / 7);
  return s(r(e7 * (e45 / e7) ** t), 'pJ/B', `= ${r(e7)} x (${r(e45)}/${r(e7)})^(ln(${n}/7)/ln(45/7)): log-log interpolation between 7 nm [jouppi2021] and 45 nm [horowitz2014] (${H[key]} pJ per 64 bits)`);
}

const VDD_NOMINAL: Record<ProcessNodeNm, Sourced> = {
  3: s(0.55, 'V', '[paper] section 7: Vdd 0.55 V at 3 nm'),
  5: s(0.65, 'V', 'assumed: the [paper] gives 0.65 V at 6 nm; applied to 5 nm', true),
  7: s(0.7, 'V', 'assumed: typical N7 core supply (0.65-0.75 V)', true),
  10: s(0.75, 'V', 'assumed: typical 10 nm FinFET core supply', true),
  14: s(0.8, 'V', 'assumed: typical 14/16 nm FinFET core supply', true),
  22: s(0.85, 'V', 'assumed: typical 22 nm core supply', true),
  28: s(0.9, 'V', 'assumed: typical 28 nm HPC core supply', true),
};
const VDD_MIN: Record<ProcessNodeNm, number> = { 3: 0.4, 5: 0.45, 7: 0.45, 10: 0.5, 14: 0.5, 22: 0.6, 28: 0.6 };
/**
 * Leakage (assumed, no cited per-node table): per gate, per SRAM bit and per ROM bit it is
 * taken to scale like dynamic energy per operation (both follow device width and Vdd),
 * anchored at 28 nm: 2 mW/mm2 of logic, 0.5 mW/mm2 of SRAM or ROM macro. Density (per
 * mm2) therefore rises as nodes shrink while a given circuit leaks less.
 */
const LEAK28 = { logic: 2, sram: 0.5, rom: 0.5 };
/** 65 nm 1T multi-level-cell ROM macro [yin2024]: 1 mm2 / 3,984 kb. */
const ROM65_UM2_PER_BIT = 1e6 / 3984e3;
const AREA65 = (65 / 45) ** 2;

/**
 * ROM macro area per bit (assumed model over cited values): Yin's 65 nm multi-level-cell
 * macro scaled like logic down to 7 nm; below 7 nm like the SRAM bit cell, because memory
 * arrays are limited by the contacted-poly and metal pitches, which shrank far less than
 * logic density from N7 to N3. The ordinary one-bit-per-cell mask ROM is twice that.
 */
function romMlcValue(n: ProcessNodeNm): number {
  const logicScaled = (m: ProcessNodeNm) => ROM65_UM2_PER_BIT * (logicAreaScale(m).value / AREA65);
  return n >= 7 ? logicScaled(n) : logicScaled(7) * (SRAM_CELL[n as 3 | 5] / SRAM_CELL[7]);
}
function romMlcBitArea(n: ProcessNodeNm): Sourced {
  if (n >= 7) return s(r(romMlcValue(n)), 'um2/bit', `= (1e6 um2 / 3,984 kb) [yin2024] 65 nm 1T multi-level-cell macro x logicAreaScale(${n}) / (65/45)^2: scaled like logic, 65 nm taken at classical (65/45)^2 (assumed)`, true);
  return s(r(romMlcValue(n)), 'um2/bit', `= romMlcBitAreaUm2(7 nm) ${r(romMlcValue(7))} x SRAM cell ${SRAM_CELL[n as 3 | 5]} / ${SRAM_CELL[7]} [iedmSram]: below 7 nm memory arrays shrink like the SRAM bit cell, not like logic (assumed)`, true);
}
function romBitArea(n: ProcessNodeNm): Sourced {
  return s(r(2 * romMlcValue(n)), 'um2/bit', `= 2 x romMlcBitAreaUm2 ${r(romMlcValue(n))}: ordinary one-bit-per-cell mask ROM; [yin2024]'s 1T multi-level cell packs more than one bit into each transistor, so the ordinary cell is taken at twice its area per bit, periphery included (assumed; no per-node mask-ROM density was found in the sources)`, true);
}

const MIB = 1 << 20;
/**
 * ROM read energy per byte of a 1 MiB ordinary ROM macro: the SRAM read energy per byte of
 * the SRAM macro with the same area (bit-line and word-line lengths, decoders and the
 * macro's wires follow its physical size; assumed), interpolated in the node's cited SRAM
 * points. romReadPjPerByteAt (scaling.ts) grows it with the macro's size the same way.
 */
function romRead(n: ProcessNodeNm, sram: { sramReadPjPerByte8KiB: number; sramReadPjPerByte32KiB: number; sramReadPjPerByte1MiB: number }): Sourced {
  const macroBit = sramBitcell(n).value / commonEntry().sramArrayEfficiency.value;
  const eq = (MIB * romBitArea(n).value) / macroBit;
  const v = sramReadPjPerByte(sram as never, eq);
  return s(r(v), 'pJ/B', `= SRAM read energy at the equal-area SRAM size: 1 MiB x romBitAreaUm2 ${romBitArea(n).value} / (SRAM cell ${sramBitcell(n).value} / sramArrayEfficiency ${commonEntry().sramArrayEfficiency.value}) = ${(eq / 1024).toFixed(0)} KiB on the node's SRAM points (assumed model: a ROM read costs what an SRAM array of the same size costs; the [paper] quotes ~0.5 pJ/bit = 4 pJ/B at 3 nm)`, true);
}

const S28 = energyScaleValue(28);
const LAS28 = logicAreaScale(28).value;
const CELL28 = sramBitcell(28).value;
const ROM28 = r(2 * romMlcValue(28));

function nodeEntry(n: ProcessNodeNm): Record<NodeParam, Sourced> {
  const S = energyScaleValue(n);
  const Sr = r(S);
  const las = logicAreaScale(n).value;
  const vdd = VDD_NOMINAL[n].value;
  const sram8 = sramPerByte(n, '8KiB');
  const sram32 = sramPerByte(n, '32KiB');
  const sram1M = sramPerByte(n, '1MiB');
  const rfPerBit = ((0.5 * H.sram8KiB64b) / 64) * S;
  return {
    maxClockMHz: s(MAX_CLOCK_MHZ[n], 'MHz', `[paper] section 2 "Clock": high-performance clock at ${n} nm`),
    vddNominalV: VDD_NOMINAL[n],
    vddMinV: s(VDD_MIN[n], 'V', `assumed: near-threshold DVFS floor (${n >= 22 ? 'planar' : 'FinFET/GAA'})`, true),
    logicAreaScale: logicAreaScale(n),
    sramBitcellUm2: sramBitcell(n),
    romBitAreaUm2: romBitArea(n),
    romMlcBitAreaUm2: romMlcBitArea(n),
    dynamicEnergyScale: energyScale(n),
    macFp16Pj: s(r((H.fp16Mul + H.fp16Add) * S), 'pJ', `= (1.1 + 0.4) pJ FP16 mul + add at 45 nm [horowitz2014] x dynamicEnergyScale ${Sr}`),
    macInt8Pj: s(r((H.int8Mul + H.int32Add) * S), 'pJ', `= (0.2 + 0.1) pJ INT8 mul + 32-bit accumulate add at 45 nm [horowitz2014] x ${Sr}`),
    macInt4Pj: s(r((H.int8Mul * (4 / 8) ** 2 + H.int32Add) * S), 'pJ', `= (0.2 x (4/8)^2 + 0.1) pJ at 45 nm [horowitz2014] x ${Sr}: array-multiplier energy ~ bits^2 (assumed)`, true),
    vectorAluFp16Pj: s(r(H.fp16Add * S), 'pJ', `= 0.4 pJ FP16 add at 45 nm [horowitz2014] x ${Sr}`),
    vectorAluInt8Pj: s(r(H.int8Add * S), 'pJ', `= 0.03 pJ INT8 add at 45 nm [horowitz2014] x ${Sr}`),
    sfuOpPj: s(r(4 * (H.fp16Mul + H.fp16Add) * S), 'pJ', `= 4 FP16 FMAs (a polynomial approximation; assumed) x 1.5 pJ at 45 nm [horowitz2014] x ${Sr}`, true),
    scalarOpPj: s(r(H.int32Add * S), 'pJ', `= 0.1 pJ 32-bit add at 45 nm [horowitz2014] x ${Sr}`),
    registerFilePjPerBit: s(r(rfPerBit), 'pJ/bit', `= 0.5 x (10 pJ / 64 bits) 8 KiB SRAM read at 45 nm [horowitz2014] x ${Sr}: a latch-based register file costs about half an 8 KiB SRAM per bit at 45 nm (assumed) and, built from standard cells, scales like logic; charged per bit of the active elements an instruction reads or writes`, true),
    fetchDecodePj: s(r(10 * H.int32Add * S), 'pJ', `= 10 x 0.1 pJ 32-bit-add equivalents at 45 nm [horowitz2014] x ${Sr} (decode logic size assumed)`, true),
    clockTreePjPerMm2Cycle: s(r((5 * S) / las), 'pJ/(mm2 cycle)', `= 5 pJ per mm2 of 45 nm logic per cycle (assumed) x ${Sr} / logicAreaScale ${las}`, true),
    sramReadPjPerByte8KiB: sram8,
    sramReadPjPerByte32KiB: sram32,
    sramReadPjPerByte1MiB: sram1M,
    romReadPjPerByte: romRead(n, { sramReadPjPerByte8KiB: sram8.value, sramReadPjPerByte32KiB: sram32.value, sramReadPjPerByte1MiB: sram1M.value }),
    routeComputePj: s(r(0.5 * S), 'pJ', `= 0.5 pJ at 45 nm (assumed: a small table lookup) x ${Sr}`, true),
    vcAllocPj: s(r(1.0 * S), 'pJ', `= 1.0 pJ at 45 nm (assumed: two-stage separable allocator) x ${Sr}`, true),
    switchAllocPj: s(r(0.5 * S), 'pJ', `= 0.5 pJ at 45 nm (assumed: round-robin arbiters) x ${Sr}`, true),
    creditPj: s(r(0.2 * S), 'pJ', `= 0.2 pJ at 45 nm (assumed: credit counter update and a few wire bits) x ${Sr}`, true),
    wirePjPerBitMm: s(r(0.5 * 0.2 * vdd * vdd), 'pJ/(bit mm)', `= 0.5 toggle x 0.2 pF/mm x Vdd^2 (${vdd} V); 0.2 pF/mm assumed, cross-checked with [keckler2011]`, true),
    logicLeakageMwPerMm2: s(r((LEAK28.logic * (S / S28)) / (las / LAS28)), 'mW/mm2', `= 2 mW/mm2 at 28 nm (assumed) x (dynamicEnergyScale ${Sr} / ${r(S28)}) / (logicAreaScale ${las} / ${LAS28}): leakage per gate scales like energy per operation (assumed)`, true),
    sramLeakageMwPerMm2: s(r((LEAK28.sram * (S / S28)) / (sramBitcell(n).value / CELL28)), 'mW/mm2', `= 0.5 mW/mm2 at 28 nm (assumed) x (${Sr} / ${r(S28)}) / (bit cell ${sramBitcell(n).value} / ${CELL28}): leakage per bit scales like energy per operation (assumed)`, true),
    romLeakageMwPerMm2: s(r((LEAK28.rom * (S / S28)) / (romBitArea(n).value / ROM28)), 'mW/mm2', `= 0.5 mW/mm2 at 28 nm (assumed) x (${Sr} / ${r(S28)}) / (ROM bit ${romBitArea(n).value} / ${ROM28} um2): leakage per bit scales like energy per operation (assumed); while powered: in busy cycles, and in idle ones unless the design power-gates them (power.romPowerGating; [paper] section 2 gates the ROM with sleep transistors)`, true),
  };
}

function commonEntry(): Record<CommonParam, Sourced> {
  return {
    nand2AreaUm2At45nm: s(0.798, 'um2', '[nangate45] NAND2_X1'),
    flopAreaUm2At45nm: s(4.522, 'um2', '[nangate45] DFF_X1'),
    fp16MulAreaUm2At45nm: s(1640, 'um2', '[horowitz2014] area table, 16-bit FP multiply'),
    fp16AddAreaUm2At45nm: s(1360, 'um2', '[horowitz2014] area table, 16-bit FP add'),
    decodeWayGates: s(8000, 'gates', 'assumed: RISC-V decoder plus fetch-buffer slice per fetch slot', true),
    dispatchPortGates: s(3000, 'gates', 'assumed: issue select and operand routing per dispatch port', true),
    scalarCoreGates: s(40000, 'gates', 'assumed: a small in-order RV32 integer pipeline (20-50 kGE class)', true),
    reservationStationBits: s(128, 'bits', 'assumed: opcode, two 32-bit operands or tags, destination and status', true),
    sfuLanesPerVectorLane: s(0.25, 'ratio', 'assumed: one special-function unit per four FP16 lanes', true),
    sfuGates: s(8000, 'gates', 'assumed: table-plus-polynomial exp/rsqrt unit (FP16)', true),
    vectorRegisters: s(32, 'registers', '[riscv] V extension: 32 vector registers'),
    scalarRegisters: s(32, 'registers', '[riscv] 32 integer registers'),
    registerPortAreaFactor: s(0.3, 'ratio', 'assumed: each extra write port adds ~30% register-file area (wordline and bitline per port)', true),
    routerPorts: s(5, 'ports', '= 4 mesh neighbours + 1 local port (2D mesh, [paper] section 2)'),
    mux2AreaUm2At45nm: s(1.862, 'um2', '[nangate45] MUX2_X1'),
    inverterAreaUm2At45nm: s(0.532, 'um2', '[nangate45] INV_X1'),
    crossbarWiringFactor: s(1.5, 'ratio', '[orion2] multiplexer-tree crossbar: area = 1.5 x its MUX2 cells'),
    arbiterSpacingFactor: s(1.3, 'ratio', '[orion2] round-robin arbiter: area = 1.3 x its cells (30% spacing)'),
    sramArrayEfficiency: s(0.7, 'ratio', 'assumed: compiled SRAM macros reach 60-80% array efficiency', true),
    sramWriteToReadEnergy: s(1.0, 'ratio', 'assumed: writes cost about a read ([horowitz2014] and [jouppi2021] quote reads only)', true),
    leakageVddExponent: s(2, 'exponent', 'assumed: P = V x I_leak and I_leak falls with V through DIBL, giving about V^2 over the DVFS range', true),
    chipOverheadFraction: s(0.1, 'ratio', 'assumed: I/O ring, clock generation and power grid add 10% to the tile array', true),
    instructionBytes: s(4, 'bytes', '[riscv] 32-bit base instruction encoding'),
    romMultiLevelCell: s(0, '0 or 1', '= 0: the ordinary one-bit-per-cell mask ROM (romBitAreaUm2) is the default; 1 selects the [yin2024] multi-level-cell density (romMlcBitAreaUm2)'),
    reticleLimitMm2: s(858, 'mm2', '[asmlField] 26 mm x 33 mm exposure field'),
    dieToDiePjPerBit: s(0.25, 'pJ/bit', '[ucie] 2.5D advanced package, up to 16 GT/s'),
    dieToDieLatencyNs: s(2, 'ns', '[ucie] latency target (under 2 ns)'),
  };
}

function build(): TechTable {
  const raw = {
    kind: 'tech' as const,
    schemaVersion: 1 as const,
    name: 'tessera-default',
    description: 'Built-in technology table: citations from landscape.md section 3 and the paper digest section 7; assumed values flagged',
    references: REFERENCES,
    common: commonEntry(),
    nodes: Object.fromEntries(PROCESS_NODES_NM.map((n) => [String(n), nodeEntry(n)])),
  };
  const parsed = TechTableSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`built-in technology table invalid: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

export const DEFAULT_TECH: TechTable = build();
