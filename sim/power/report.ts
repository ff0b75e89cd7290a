import type { CounterRecord } from '../counters/counter.js';
import type { Design } from '../design/design.js';
import { resolveTiles } from '../design/tiles.js';
import type { TechTable } from '../tech/table.js';
import { InputError } from '../validate/inputError.js';
import { areaOf, AREA_COMPONENTS, ROUTER_COMPONENTS, type AreaComponent, type ChipArea } from './area.js';
import { energyOf, powerOf } from './energy.js';
import type { Category } from './energyMap.js';
import { metrics, type Metrics } from './metrics.js';
import { ppaScore, type Constraints, type PpaResult, type Weights } from './ppa.js';
import type { WorkloadReference } from './reference.js';

/**
 * Everything a PPA report shows, as plain JSON-able data: the inputs of one run in,
 * area, energy, power, metrics, PPA score, per-tile values and NoC link loads out.
 * cli/report renders it as a terminal table, JSON or an offline HTML page.
 */

/** Flits carried by one directed mesh link. */
export interface LinkLoad {
  readonly from: readonly [number, number];
  readonly to: readonly [number, number];
  readonly flits: number;
}

export interface ReportInput {
  readonly design: Design;
  readonly tech: TechTable;
  readonly counters: CounterRecord;
  readonly simulatedCycles: number;
  readonly tokens: number;
  readonly tileCounters?: readonly CounterRecord[];
  readonly linkLoads?: readonly LinkLoad[];
  readonly ttftMs?: readonly number[];
  readonly itlMs?: readonly number[];
  readonly reference: WorkloadReference;
  readonly weights?: Weights;
  readonly constraints?: Constraints;
  readonly mappingFeasible?: boolean;
  /** What was simulated, in words (shown at the top of the report). */
  readonly title?: string;
}

export interface TileReport {
  readonly row: number;
  readonly col: number;
  readonly wmemKiB: number;
  readonly dmemKiB: number;
  readonly fetchWidth: number;
  readonly vlenBits: number;
  /** busyCycles / simulated cycles (null without per-tile counters). */
  readonly utilisation: number | null;
  readonly powerW: number | null;
  readonly areaMm2: number;
}

export interface PowerReport {
  readonly title: string;
  readonly design: { readonly name: string; readonly processNodeNm: number; readonly clockMHz: number; readonly rows: number; readonly cols: number; readonly flitBits: number };
  readonly techName: string;
  readonly vddV: number;
  readonly simulatedCycles: number;
  readonly metrics: Metrics;
  readonly power: { readonly totalW: number; readonly byCategoryW: Readonly<Record<Category, number>>; readonly byComponentW: Readonly<Record<string, number>> };
  readonly energyPj: { readonly total: number; readonly byCategory: Readonly<Record<Category, number>> };
  readonly area: {
    readonly totalMm2: number;
    readonly tileArrayMm2: number;
    readonly overheadMm2: number;
    readonly byComponentMm2: Readonly<Record<AreaComponent, number>>;
    readonly linkLengthMm: number;
    /** Router (buffers, crossbar, allocators, their wiring) / tile array. */
    readonly routerShareOfTiles: number;
    readonly dies: DiesReport;
  };
  readonly ppa: PpaResult;
  readonly tiles: readonly TileReport[];
  readonly links: readonly LinkLoad[];
}

/** How many reticle-sized dies the chip needs, with the limit and its source. */
export interface DiesReport {
  readonly count: number;
  readonly dieRows: number;
  readonly dieCols: number;
  readonly largestDieMm2: number;
  readonly reticleLimitMm2: number;
  /** The technology table's source of the limit, with the citation spelled out. */
  readonly reticleSource: string;
  /** False when even one tile per die exceeds the reticle. */
  readonly fits: boolean;
}

/** The dies of an area under a table: the layout plus the reticle limit's source. */
export function diesReport(area: ChipArea, tech: TechTable): DiesReport {
  const d = area.dies;
  const v = tech.common.reticleLimitMm2;
  const cited = [...v.source.matchAll(/\[([a-z][A-Za-z0-9]*)\]/g)].map((m) => tech.references[m[1]]).filter(Boolean);
  return { count: d.count, dieRows: d.dieRows, dieCols: d.dieCols, largestDieMm2: d.largestDieMm2, reticleLimitMm2: d.reticleLimitMm2, reticleSource: [v.source, ...cited].join('; '), fits: d.fits };
}

export function powerReport(input: ReportInput): PowerReport {
  const { design, tech } = input;
  const area = areaOf(design, tech);
  const energy = energyOf(input.counters, design, tech, input.simulatedCycles, { tileCounters: input.tileCounters });
  const power = powerOf(energy);
  const m = metrics(energy, area, { counters: input.counters, tokens: input.tokens, ttftMs: input.ttftMs, itlMs: input.itlMs });
  const ppa = ppaScore(m, input.reference, { weights: input.weights, constraints: input.constraints, mappingFeasible: input.mappingFeasible, dies: { count: area.dies.count, reticleLimitMm2: area.dies.reticleLimitMm2 } });
  const { rows, cols } = design.mesh;
  for (const l of input.linkLoads ?? []) {
    const [r0, c0] = l.from;
    const [r1, c1] = l.to;
    const inside = (r: number, c: number) => r >= 0 && r < rows && c >= 0 && c < cols;
    if (!inside(r0, c0) || !inside(r1, c1) || Math.abs(r0 - r1) + Math.abs(c0 - c1) !== 1 || !(l.flits >= 0)) {
      throw new InputError('linkLoads', `[${r0},${c0}]->[${r1},${c1}]`, l.flits, 'a link between neighbouring tiles inside the mesh, with flits >= 0', 'check the link list');
    }
  }
  const tiles = resolveTiles(design).map((t, i) => ({
    row: Math.floor(i / cols),
    col: i % cols,
    wmemKiB: t.wmemKiB,
    dmemKiB: t.dmemKiB,
    fetchWidth: t.fetchWidth,
    vlenBits: t.vlenBits,
    utilisation: input.tileCounters ? (input.tileCounters[i]['tile.busyCycles'] ?? 0) / input.simulatedCycles : null,
    powerW: power.perTileW ? power.perTileW[i] : null,
    areaMm2: area.tiles[i].totalMm2,
  }));
  return {
    title: input.title ?? `${design.name}: ${design.mesh.rows}x${design.mesh.cols} at ${design.processNodeNm} nm, ${design.clockMHz} MHz`,
    design: { name: design.name, processNodeNm: design.processNodeNm, clockMHz: design.clockMHz, rows, cols, flitBits: design.noc.flitBits },
    techName: tech.name,
    vddV: energy.vddV,
    simulatedCycles: input.simulatedCycles,
    metrics: m,
    power: { totalW: power.totalW, byCategoryW: power.byCategoryW, byComponentW: power.byComponentW },
    energyPj: { total: energy.totalPj, byCategory: energy.byCategoryPj },
    area: {
      totalMm2: area.totalMm2,
      tileArrayMm2: area.tileArrayMm2,
      overheadMm2: area.overheadMm2,
      byComponentMm2: Object.fromEntries(AREA_COMPONENTS.map((k) => [k, area.byComponentMm2[k]])) as Record<AreaComponent, number>,
      linkLengthMm: area.linkLengthMm,
      routerShareOfTiles: ROUTER_COMPONENTS.reduce((s, k) => s + area.byComponentMm2[k], 0) / area.tileArrayMm2,
      dies: diesReport(area, tech),
    },
    ppa,
    tiles,
    links: input.linkLoads ?? [],
  };
}
