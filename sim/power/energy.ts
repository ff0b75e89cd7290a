import type { CounterRecord } from '../counters/counter.js';
import type { Design, TileParams } from '../design/design.js';
import { resolveTiles } from '../design/tiles.js';
import { operatingPoint, type OperatingPoint } from '../tech/scaling.js';
import type { TechTable } from '../tech/table.js';
import { InputError } from '../validate/inputError.js';
import { areaOf, type ChipArea, type TileArea } from './area.js';
import { CATEGORIES, ENERGY_MAP, type Category, type EnergyPart, type EventContext } from './energyMap.js';

/**
 * Energy model (docs/power.md "Energy"): dynamic energy = sum over counters of count x
 * energy per unit (ENERGY_MAP, at the node's nominal Vdd) x (V/Vnom)^2; leakage = logic
 * cells and SRAM (IMEM, DMEM) area x leakage density x (V/Vnom)^k x simulated time (wiring
 * area leaks nothing), plus the ROM's leakage in its busy cycles and, unless the design
 * power-gates it, its idle cycles. The routers' buffer flops are clocked every cycle (like
 * the core's flops while it runs: clockTreePjPerMm2Cycle per mm2). Computed after a run
 * from its counters, never inside the simulation.
 */

export interface EnergyOptions {
  /**
   * Per-tile counter records (row-major, one per tile). When given, tile.* counters are
   * taken from them and charged with each tile's own parameters (DMEM and IMEM sizes,
   * VLEN), which also gives per-tile energy; noc.* and kernel.* always come from the chip
   * record. Without them, tile.* counters of the chip record use the mean tile.
   */
  readonly tileCounters?: readonly CounterRecord[];
}

export interface EnergyResult {
  readonly simulatedCycles: number;
  readonly seconds: number;
  readonly vddV: number;
  readonly dynamicFactor: number;
  readonly leakageFactor: number;
  readonly totalPj: number;
  readonly dynamicPj: number;
  readonly leakagePj: number;
  /**
   * Energy spent whatever the chip does (leakage and the routers' always-running clocks):
   * idlePj + activePj = totalPj; activePj is what the counted activity costs.
   */
  readonly idlePj: number;
  readonly activePj: number;
  /** The paper's Table 12 categories; they sum to totalPj. */
  readonly byCategoryPj: Readonly<Record<Category, number>>;
  /** By component (fetchDecode, vectorLanes, dmem, wmem, links, logicLeakage, ...); sums to totalPj. */
  readonly byComponentPj: Readonly<Record<string, number>>;
  /** By counter (zero-energy counters included as 0), plus 'leakage.continuous' and 'clock.routers'. */
  readonly byCounterPj: Readonly<Record<string, number>>;
  /** Per tile (tile.* dynamic energy + the tile's leakage), when tileCounters were given. */
  readonly perTilePj?: readonly number[];
}

/** Reject counter names without an energy entry (the table must cover every counter). */
export function checkCounters(record: CounterRecord, where: string): void {
  for (const name in record) {
    const v = record[name];
    if (!(name in ENERGY_MAP)) throw new InputError(where, name, v, 'counter has no energy entry in sim/power/energyMap.ts', 'add an entry (or an explicit zero with its reason) to ENERGY_MAP');
    if (!Number.isFinite(v) || v < 0) throw new InputError(where, name, v, 'a counter must be a finite count >= 0', 'check the run that produced the record');
  }
}

/** Field-wise mean of the tiles' numeric parameters (for chip-level records); other fields from the first tile. */
function meanTile(tiles: readonly TileParams[]): TileParams {
  const keys = Object.keys(tiles[0]) as (keyof TileParams)[];
  return Object.fromEntries(keys.map((k) => [k, typeof tiles[0][k] === 'number' ? tiles.reduce((s, t) => s + (t[k] as number), 0) / tiles.length : tiles[0][k]])) as unknown as TileParams;
}

function meanArea(tiles: readonly TileArea[], f: (t: TileArea) => number): number {
  return tiles.reduce((s, t) => s + f(t), 0) / tiles.length;
}

function context(op: OperatingPoint, design: Design, area: ChipArea, tile: TileParams, romMm2: number, coreLogicMm2: number): EventContext {
  return {
    op,
    tile,
    activations: design.precision.activations,
    flitBits: design.noc.flitBits,
    linkLengthMm: area.linkLengthMm,
    crossbarSpanMm: area.crossbarSpanMm,
    romMm2,
    romBytes: tile.wmemKiB * 1024,
    romPowerGated: design.power.romPowerGating === 'idle-cycles',
    coreLogicMm2,
  };
}

export function energyOf(counters: CounterRecord, design: Design, tech: TechTable, simulatedCycles: number, options: EnergyOptions = {}): EnergyResult {
  if (!Number.isFinite(simulatedCycles) || simulatedCycles <= 0) throw new InputError('run', 'simulatedCycles', simulatedCycles, 'a positive number of cycles', 'pass the cycles the run simulated');
  const op = operatingPoint(tech, design.processNodeNm, design.clockMHz);
  const area = areaOf(design, tech);
  const tiles = resolveTiles(design);
  checkCounters(counters, 'counters');
  const perTile = options.tileCounters;
  if (perTile) {
    if (perTile.length !== tiles.length) throw new InputError('tileCounters', '', `${perTile.length} records`, `one record per tile (${tiles.length})`, 'pass the per-tile records in row-major order');
    perTile.forEach((r, i) => checkCounters(r, `tileCounters[${i}]`));
  }
  const seconds = simulatedCycles / (design.clockMHz * 1e6);
  const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  const byComponent: Record<string, number> = {};
  const byCounter: Record<string, number> = {};
  const tilePj = perTile ? tiles.map(() => 0) : undefined;

  const charge = (name: string, count: number, ctx: EventContext, tileIndex?: number, perUnit?: Map<EnergyPart, number>) => {
    const entry = ENERGY_MAP[name];
    byCounter[name] = byCounter[name] ?? 0;
    if (!entry.parts) return;
    for (const p of entry.parts) {
      let unit = perUnit?.get(p);
      if (unit === undefined) {
        unit = p.pjPerUnit(ctx);
        perUnit?.set(p, unit);
      }
      const pj = count * unit * (p.kind === 'dynamic' ? op.dynamicFactor : op.leakageFactor);
      byCategory[p.category] += pj;
      byComponent[p.component] = (byComponent[p.component] ?? 0) + pj;
      byCounter[name] += pj;
      if (tilePj && tileIndex !== undefined) tilePj[tileIndex] += pj;
    }
  };

  const mean = meanTile(tiles);
  const chipCtx = context(op, design, area, mean, meanArea(area.tiles, (t) => t.romMm2), meanArea(area.tiles, (t) => t.coreLogicMm2));
  for (const [name, count] of Object.entries(counters)) {
    if (perTile && name.startsWith('tile.')) continue;
    charge(name, count, chipCtx);
  }
  if (perTile) {
    // tiles with the same parameters and ROM and logic areas have the same context: each
    // part's energy per unit is computed once per distinct context (a pure function of it)
    const shared = new Map<TileParams, Map<string, { ctx: EventContext; perUnit: Map<EnergyPart, number> }>>();
    perTile.forEach((rec, i) => {
      const a = area.tiles[i];
      let byArea = shared.get(tiles[i]);
      if (!byArea) shared.set(tiles[i], (byArea = new Map()));
      const key = `${a.romMm2}/${a.coreLogicMm2}`;
      let c = byArea.get(key);
      if (!c) byArea.set(key, (c = { ctx: context(op, design, area, tiles[i], a.romMm2, a.coreLogicMm2), perUnit: new Map() }));
      for (const name in rec) if (name.startsWith('tile.')) charge(name, rec[name], c.ctx, i, c.perUnit);
    });
  }

  // Continuous leakage of logic cells and SRAM (IMEM, DMEM): mW x s = mJ = 1e9 pJ. Wiring leaks nothing.
  // The routers' buffer flops are clocked every cycle (the router must take a flit in any cycle).
  let leakContinuous = 0;
  let routerClock = 0;
  area.tiles.forEach((t, i) => {
    const logic = t.logicMm2 * op.n.logicLeakageMwPerMm2 * op.leakageFactor * seconds * 1e9;
    const sram = t.sramMm2 * op.n.sramLeakageMwPerMm2 * op.leakageFactor * seconds * 1e9;
    const clock = simulatedCycles * t.routerFlopMm2 * op.n.clockTreePjPerMm2Cycle * op.dynamicFactor;
    byComponent.logicLeakage = (byComponent.logicLeakage ?? 0) + logic;
    byComponent.sramLeakage = (byComponent.sramLeakage ?? 0) + sram;
    byComponent.routerClock = (byComponent.routerClock ?? 0) + clock;
    leakContinuous += logic + sram;
    routerClock += clock;
    if (tilePj) tilePj[i] += logic + sram; // per tile: its own work and leakage (the NoC's energy is the chip's)
  });
  byCategory.leakage += leakContinuous;
  byCategory.noc += routerClock;
  byCounter['leakage.continuous'] = leakContinuous;
  byCounter['clock.routers'] = routerClock;

  const total = CATEGORIES.reduce((s, c) => s + byCategory[c], 0);
  const idle = byCategory.leakage + routerClock;
  return {
    simulatedCycles,
    seconds,
    vddV: op.vddV,
    dynamicFactor: op.dynamicFactor,
    leakageFactor: op.leakageFactor,
    totalPj: total,
    dynamicPj: total - byCategory.leakage,
    leakagePj: byCategory.leakage,
    idlePj: idle,
    activePj: total - idle,
    byCategoryPj: byCategory,
    byComponentPj: byComponent,
    byCounterPj: byCounter,
    perTilePj: tilePj,
  };
}

export interface PowerResult {
  readonly totalW: number;
  readonly dynamicW: number;
  readonly leakageW: number;
  readonly byCategoryW: Readonly<Record<Category, number>>;
  readonly byComponentW: Readonly<Record<string, number>>;
  readonly perTileW?: readonly number[];
}

/** Average power over the simulated time. */
export function powerOf(e: EnergyResult): PowerResult {
  const w = (pj: number) => (pj * 1e-12) / e.seconds;
  const map = <K extends string>(r: Readonly<Record<K, number>>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, w(v as number)])) as Record<K, number>;
  return {
    totalW: w(e.totalPj),
    dynamicW: w(e.dynamicPj),
    leakageW: w(e.leakagePj),
    byCategoryW: map(e.byCategoryPj),
    byComponentW: map(e.byComponentPj),
    perTileW: e.perTilePj?.map(w),
  };
}
