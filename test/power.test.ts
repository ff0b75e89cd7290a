import { COUNTER_CATALOG } from '../sim/counters/catalog.js';
import type { CounterRecord } from '../sim/counters/counter.js';
import { presetDesign } from '../sim/design/presets.js';
import { areaOf, AREA_COMPONENTS } from '../sim/power/area.js';
import { energyOf, powerOf } from '../sim/power/energy.js';
import { CATEGORIES, ENERGY_MAP } from '../sim/power/energyMap.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { oneTile } from './power-helpers.js';
import { MAX_CLOCK_MHZ, PROCESS_NODES_NM, type ProcessNodeNm } from '../sim/tech/nodes.js';
import { InputError } from '../sim/validate/inputError.js';

/** Table values, read directly from the data (not through the model). */
const N = (node: ProcessNodeNm) => Object.fromEntries(Object.entries(DEFAULT_TECH.nodes[`${node}`]).map(([k, v]) => [k, v.value])) as Record<string, number>;
const C = Object.fromEntries(Object.entries(DEFAULT_TECH.common).map(([k, v]) => [k, v.value])) as Record<string, number>;


/**
 * Every catalog counter with a distinct count. Register counters only on vector work so
 * the access width is exactly VLEN.
 */
function syntheticRecord(): CounterRecord {
  const rec: CounterRecord = {};
  let i = 1;
  for (const name of COUNTER_CATALOG.keys()) rec[name] = 1000 * i++;
  rec['tile.scalarInstructions'] = 0;
  rec['tile.controlInstructions'] = 0;
  rec['tile.nocInstructions'] = 0;
  return rec;
}

/** By hand: area (mm2) of the one-tile design's components, from the table and the docs' formulas. */
function handArea(node: ProcessNodeNm) {
  const n = N(node);
  const las = n.logicAreaScale;
  const gate = C.nand2AreaUm2At45nm * las * 1e-6;
  const flop = C.flopAreaUm2At45nm * las * 1e-6;
  const logic =
    2 * C.decodeWayGates * gate + // fetch width 2
    2 * C.dispatchPortGates * gate + // 1 + 1 dispatch ports
    8 * C.reservationStationBits * flop +
    C.scalarCoreGates * gate +
    32 * 32 * flop + // scalar RF, one write port
    32 * (C.fp16MulAreaUm2At45nm + C.fp16AddAreaUm2At45nm) * las * 1e-6 + // 512 / 16 lanes
    32 * 512 * flop * (1 + C.registerPortAreaFactor) + // vector RF, two write ports
    32 * C.sfuLanesPerVectorLane * C.sfuGates * gate;
  // ORION 2.0's router (5 ports, 2 VCs, 4-flit buffers, 256-bit flits), NanGate cells at 45 nm x las
  const buffers = 5 * 2 * 4 * 256 * flop + 5 * 256 * flop; // input VC buffers + one output register per port
  const crossbar = 5 * 256 * 5 * (2 ** 3 - 1) * C.mux2AreaUm2At45nm * las * 1e-6; // a tree of 7 MUX2 per (input, output, bit)
  const rr = (r: number) => r * (6 * C.nand2AreaUm2At45nm + 2 * C.inverterAreaUm2At45nm + C.flopAreaUm2At45nm) * las * 1e-6;
  const allocators = 5 * rr(2) + 5 * rr(4) + 5 * 2 * rr(2) + 5 * 2 * rr(4 * 2); // switch: per input V, per output P-1; VC: per VC V and (P-1)V
  const wiring = 0.5 * crossbar + 0.3 * allocators;
  const sram = ((8 + 64) * 8192 * n.sramBitcellUm2 * 1e-6) / C.sramArrayEfficiency;
  const rom = 1024 * 8192 * n.romBitAreaUm2 * 1e-6; // the ordinary one-bit-per-cell mask ROM
  const tile = logic + buffers + crossbar + allocators + wiring + sram + rom;
  return { coreLogic: logic, logic: logic + buffers + crossbar + allocators, buffers, crossbar, wiring, sram, rom, tile, chip: tile * (1 + C.chipOverheadFraction) };
}

/** By hand: total energy (pJ) of the synthetic record on the one-tile design at nominal Vdd. */
function handEnergy(node: ProcessNodeNm, rec: CounterRecord, cycles: number, activations: 'fp16' | 'int8' = 'fp16') {
  const n = N(node);
  const a = handArea(node);
  const imemPerByte = n.sramReadPjPerByte8KiB; // 8 KiB IMEM
  const dmemPerByte = n.sramReadPjPerByte32KiB * (n.sramReadPjPerByte1MiB / n.sramReadPjPerByte32KiB) ** (Math.log(2) / Math.log(32)); // 64 KiB, log-log between 32 KiB and 1 MiB
  const rf = n.registerFilePjPerBit;
  const wire = n.wirePjPerBitMm;
  const link = Math.sqrt(a.tile); // one tile: pitch = sqrt(tile area)
  const xbar = Math.sqrt(1.5 * a.crossbar); // the crossbar's side: its multiplexers and their wiring
  const seconds = cycles / (MAX_CLOCK_MHZ[node] * 1e6);
  const compute =
    rec['tile.instructionsFetched'] * n.fetchDecodePj +
    rec['tile.instructionsIssued'] * 2 * 128 * rf +
    rec['tile.scalarInstructions'] * n.scalarOpPj +
    rec['tile.macs'] * (activations === 'fp16' ? n.macFp16Pj : n.macInt8Pj) +
    rec['tile.vectorAluOps'] * (activations === 'fp16' ? n.vectorAluFp16Pj : n.vectorAluInt8Pj) +
    rec['tile.sfuOps'] * n.sfuOpPj +
    (rec['tile.registerReadBits'] + rec['tile.registerWriteBits']) * rf + // per bit moved; the access counts cost nothing
    rec['tile.busyCycles'] * n.clockTreePjPerMm2Cycle * a.coreLogic;
  const sram = rec['tile.instructionsFetched'] * 4 * imemPerByte + (rec['tile.dmemBytesRead'] + rec['tile.dmemBytesWritten']) * dmemPerByte;
  const rom = (rec['tile.romBytesRead'] + rec['tile.romScaleBytesRead']) * n.romReadPjPerByte; // a 1 MiB ROM: the table's value
  const noc =
    (rec['noc.bufferWrites'] + rec['noc.bufferReads']) * 256 * rf +
    rec['noc.routeComputations'] * n.routeComputePj +
    rec['noc.vcAllocations'] * n.vcAllocPj +
    rec['noc.switchAllocations'] * n.switchAllocPj +
    rec['noc.creditsReturned'] * n.creditPj +
    rec['noc.crossbarTraversals'] * 256 * (wire * xbar + rf) + // the crossbar's wires, then a write into the output register
    rec['noc.linkFlitHops'] * 256 * wire * link +
    rec['noc.dieToDieFlits'] * 256 * C.dieToDiePjPerBit +
    cycles * a.buffers * n.clockTreePjPerMm2Cycle; // the router's buffer flops, clocked every cycle
  const leakage =
    (a.logic * n.logicLeakageMwPerMm2 + a.sram * n.sramLeakageMwPerMm2) * seconds * 1e9 + // mW s -> pJ; the wiring leaks nothing
    rec['tile.romBusyCycles'] * a.rom * n.romLeakageMwPerMm2 * (1 / (MAX_CLOCK_MHZ[node] * 1e6)) * 1e9; // idle cycles power-gated (the default)
  return { compute, sram, rom, noc, leakage, total: compute + sram + rom + noc + leakage };
}

describe('energy table covers the counter catalog', () => {
  test('every catalog counter has an energy entry or an explicit zero with a reason', () => {
    for (const [name, def] of COUNTER_CATALOG) {
      const e = ENERGY_MAP[name];
      expect({ name, has: e !== undefined }).toEqual({ name, has: true });
      if (e.zero !== undefined) expect(e.zero.length).toBeGreaterThan(10);
      else expect(e.parts.length).toBeGreaterThan(0);
      expect(def.name).toBe(name);
    }
  });

  test('no stale entries: every energy entry names a catalog counter', () => {
    for (const name of Object.keys(ENERGY_MAP)) expect({ name, inCatalog: COUNTER_CATALOG.has(name) }).toEqual({ name, inCatalog: true });
  });

  test('a counter without an energy entry is rejected with a one-line message', () => {
    const d = oneTile(7);
    expect(() => energyOf({ 'tile.newThing': 5 }, d, DEFAULT_TECH, 100)).toThrow(InputError);
    expect(() => energyOf({ 'tile.newThing': 5 }, d, DEFAULT_TECH, 100)).toThrow(/tile\.newThing.*no energy entry/);
    expect(() => energyOf({ 'tile.macs': -1 }, d, DEFAULT_TECH, 100)).toThrow(/finite count/);
    expect(() => energyOf({ 'tile.macs': 1 }, d, DEFAULT_TECH, 0)).toThrow(/simulatedCycles/);
  });
});

describe('hand-checked tile at 7 nm and 28 nm', () => {
  for (const node of [7, 28] as const) {
    test(`${node} nm: area by hand equals the model`, () => {
      const h = handArea(node);
      const a = areaOf(oneTile(node), DEFAULT_TECH);
      expect(a.tiles[0].totalMm2).toBeCloseTo(h.tile, 12);
      expect(a.tiles[0].logicMm2).toBeCloseTo(h.logic, 12);
      expect(a.tiles[0].sramMm2).toBeCloseTo(h.sram, 12);
      expect(a.tiles[0].romMm2).toBeCloseTo(h.rom, 12);
      expect(a.totalMm2).toBeCloseTo(h.chip, 12);
      expect(a.linkLengthMm).toBeCloseTo(Math.sqrt(h.tile), 12);
    });

    test(`${node} nm: energy and power by hand equal the model, category by category`, () => {
      const rec = syntheticRecord();
      const cycles = 5_000_000;
      const h = handEnergy(node, rec, cycles);
      const e = energyOf(rec, oneTile(node), DEFAULT_TECH, cycles);
      expect(e.dynamicFactor).toBeCloseTo(1, 12);
      expect(e.leakageFactor).toBeCloseTo(1, 12);
      for (const c of CATEGORIES) expect({ c, rel: Math.abs(e.byCategoryPj[c] - h[c]) / h[c] < 1e-9 }).toEqual({ c, rel: true });
      expect(e.totalPj / h.total).toBeCloseTo(1, 10);
      const p = powerOf(e);
      expect(p.totalW / ((h.total * 1e-12) / (cycles / (MAX_CLOCK_MHZ[node] * 1e6)))).toBeCloseTo(1, 10);
    });
  }

  test('28 nm at 100 MHz by hand: Vdd from the DVFS line, dynamic x (V/Vnom)^2, leakage x (V/Vnom)^2 over the longer time', () => {
    const n = N(28);
    const v = n.vddMinV + ((n.vddNominalV - n.vddMinV) * 100) / n.maxClockMHz;
    const f = (v / n.vddNominalV) ** 2; // leakageVddExponent = 2 in the built-in table
    expect(C.leakageVddExponent).toBe(2);
    const rec = syntheticRecord();
    const cycles = 1_000_000;
    const nominal = handEnergy(28, rec, cycles);
    const e = energyOf(rec, oneTile(28, { clockMHz: 100 }), DEFAULT_TECH, cycles);
    expect(e.vddV).toBeCloseTo(v, 12);
    expect(e.dynamicPj / ((nominal.total - nominal.leakage) * f)).toBeCloseTo(1, 10);
    // Leakage: continuous part lasts 250/100 times longer; the ROM's busy-cycle part per cycle is 250/100 larger too.
    expect(e.leakagePj / (nominal.leakage * f * (250 / 100))).toBeCloseTo(1, 10);
  });

  test('INT8 activations use the INT8 MAC and ALU energies', () => {
    const rec = syntheticRecord();
    const d = oneTile(7, { precision: { weights: 'int8', activations: 'int8', kvCache: 'int8' } });
    const e = energyOf(rec, d, DEFAULT_TECH, 1e6);
    const h = handEnergy(7, rec, 1e6, 'int8');
    expect(e.byCategoryPj.compute / h.compute).toBeCloseTo(1, 10);
  });
});

describe('energy accounting', () => {
  const rec = syntheticRecord();
  const design = presetDesign('hetero-6x6-5nm')!;
  test('categories, components and counters each add up to the total', () => {
    const e = energyOf(rec, design, DEFAULT_TECH, 2_000_000);
    const sum = (o: Readonly<Record<string, number>>) => Object.values(o).reduce((s, v) => s + v, 0);
    expect(sum(e.byCategoryPj) / e.totalPj).toBeCloseTo(1, 12);
    expect(sum(e.byComponentPj) / e.totalPj).toBeCloseTo(1, 12);
    expect(sum(e.byCounterPj) / e.totalPj).toBeCloseTo(1, 12);
    expect((e.dynamicPj + e.leakagePj) / e.totalPj).toBeCloseTo(1, 12);
    for (const [name, entry] of Object.entries(ENERGY_MAP)) if (entry.zero !== undefined) expect(e.byCounterPj[name]).toBe(0);
  });

  test('per-tile records: tiles plus the NoC add up to the chip, and per-tile parameters are used', () => {
    const tiles = 36;
    const tileRecs = Array.from({ length: tiles }, (_, i) => ({ 'tile.dmemBytesRead': 1000 * (i + 1), 'tile.busyCycles': 500 * (i + 1), 'tile.macs': 10_000 }));
    const chip: CounterRecord = { 'noc.linkFlitHops': 12345, 'noc.bufferWrites': 999 };
    const e = energyOf(chip, design, DEFAULT_TECH, 1_000_000, { tileCounters: tileRecs });
    const tileSum = e.perTilePj!.reduce((s, v) => s + v, 0);
    expect((tileSum + e.byCategoryPj.noc) / e.totalPj).toBeCloseTo(1, 12);
    // The centre tiles (DMEM 512 KiB) pay more per DMEM byte than the 256 KiB edge tiles.
    const centre = 2 * 6 + 2;
    const edge = 0;
    const perByte = (i: number) => energyOf({}, design, DEFAULT_TECH, 1_000_000, { tileCounters: tileRecs.map((_r, j): CounterRecord => (j === i ? { 'tile.dmemBytesRead': 1e6 } : {})) }).byComponentPj.dmem;
    expect(perByte(centre)).toBeGreaterThan(perByte(edge));
    expect(() => energyOf(chip, design, DEFAULT_TECH, 1e6, { tileCounters: tileRecs.slice(1) })).toThrow(/one record per tile/);
  });

  test('the ROM leaks only while busy: idle (power-gated) cycles cost nothing', () => {
    const d = oneTile(3);
    const idle = energyOf({ 'tile.romIdleCycles': 1e6 }, d, DEFAULT_TECH, 1e6);
    const busy = energyOf({ 'tile.romBusyCycles': 1e6 }, d, DEFAULT_TECH, 1e6);
    const none = energyOf({}, d, DEFAULT_TECH, 1e6);
    expect(idle.totalPj).toBe(none.totalPj);
    expect(busy.byComponentPj.romLeakage).toBeGreaterThan(0);
    expect(busy.totalPj - none.totalPj).toBeCloseTo(busy.byComponentPj.romLeakage, 6);
  });

  test('lowering the clock lowers Vdd: per-event energy and leakage power fall; at 10 MHz leakage dominates', () => {
    const rec1 = { 'tile.macs': 1e6, 'tile.romBytesRead': 1e6 };
    const fast = oneTile(3);
    const slow = oneTile(3, { clockMHz: 10 });
    const ef = energyOf(rec1, fast, DEFAULT_TECH, 1e6);
    const es = energyOf(rec1, slow, DEFAULT_TECH, 1e6);
    expect(es.dynamicPj).toBeLessThan(ef.dynamicPj);
    expect(es.dynamicPj / ef.dynamicPj).toBeCloseTo(es.dynamicFactor, 12);
    expect(powerOf(es).leakageW).toBeLessThan(powerOf(ef).leakageW);
    // Same work per cycle at 10 MHz: leakage takes a larger share than at 1 GHz.
    expect(es.leakagePj / es.totalPj).toBeGreaterThan(ef.leakagePj / ef.totalPj);
  });
});

describe('node scaling, every component, all seven nodes (each at its nominal Vdd)', () => {
  const nodes = [...PROCESS_NODES_NM].sort((a, b) => a - b);
  const rec = { ...syntheticRecord(), 'tile.scalarInstructions': 777, 'tile.controlInstructions': 55 };
  const runs = nodes.map((n) => {
    const d = oneTile(n);
    return { n, area: areaOf(d, DEFAULT_TECH), e: energyOf(rec, d, DEFAULT_TECH, 1_000_000) };
  });

  test('every area component grows with the feature size', () => {
    for (const k of AREA_COMPONENTS) {
      const xs = runs.map((r) => r.area.byComponentMm2[k]);
      expect({ k, increasing: xs.every((x, i) => i === 0 || x > xs[i - 1]) }).toEqual({ k, increasing: true });
    }
  });

  test('the energy of every non-zero counter grows with the feature size', () => {
    for (const [name, entry] of Object.entries(ENERGY_MAP)) {
      if (entry.zero !== undefined || entry.parts.every((p) => p.kind === 'leakage')) continue;
      if (name === 'noc.dieToDieFlits') continue; // a die-to-die PHY's energy per bit is node-independent ([ucie])
      const xs = runs.map((r) => r.e.byCounterPj[name]);
      expect({ name, increasing: xs.every((x, i) => i === 0 || x > xs[i - 1]) }).toEqual({ name, increasing: true });
    }
  });

  test('leakage energy of a fixed circuit over a fixed cycle count grows with the feature size (logic, SRAM, ROM)', () => {
    // Same cycles: compare per-cycle leakage energy (time differs with the clock, so normalise it).
    for (const k of ['logicLeakage', 'sramLeakage', 'romLeakage']) {
      const xs = runs.map((r) => r.e.byComponentPj[k] / r.e.seconds);
      expect({ k, increasing: xs.every((x, i) => i === 0 || x > xs[i - 1]) }).toEqual({ k, increasing: true });
    }
  });
});
