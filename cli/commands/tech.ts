import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { table } from '../format.js';
import { checkClockAgainstTable, loadTech, withTechOption } from '../techOption.js';
import { InputError } from '../../sim/validate/inputError.js';
import { loadDesign } from '../load.js';
import { applySingle, withSetOption } from '../overrides.js';
import type { Design } from '../../sim/design/design.js';
import { areaOf, ROUTER_COMPONENTS } from '../../sim/power/area.js';
import { diesReport } from '../../sim/power/report.js';
import { operatingPoint } from '../../sim/tech/scaling.js';
import { PROCESS_NODES_NM, type ProcessNodeNm } from '../../sim/tech/nodes.js';
import { assumedCount, COMMON_PARAM_NAMES, NODE_PARAM_NAMES, type TechTable } from '../../sim/tech/table.js';

export interface TechArgs {
  node?: number;
  json: boolean;
  tech?: string;
  design?: string;
  set?: string[];
}

/** Area of a design under the table: by component, chip totals and the operating point. */
export function designArea(design: Design, tech: TechTable) {
  const op = operatingPoint(tech, design.processNodeNm, design.clockMHz);
  const a = areaOf(design, tech);
  return {
    design: design.name,
    processNodeNm: design.processNodeNm,
    clockMHz: design.clockMHz,
    vddV: op.vddV,
    totalMm2: a.totalMm2,
    tileArrayMm2: a.tileArrayMm2,
    overheadMm2: a.overheadMm2,
    meanTileMm2: a.tileArrayMm2 / a.tiles.length,
    linkLengthMm: a.linkLengthMm,
    routerShareOfTiles: ROUTER_COMPONENTS.reduce((s, k) => s + a.byComponentMm2[k], 0) / a.tileArrayMm2,
    dies: diesReport(a, tech),
    byComponentMm2: a.byComponentMm2,
  };
}

function renderDesignArea(r: ReturnType<typeof designArea>): string {
  let out = `${r.design}: ${r.processNodeNm} nm, ${r.clockMHz} MHz, Vdd ${r.vddV.toFixed(3)} V (DVFS)\n`;
  out += `chip ${fmt(r.totalMm2)} mm2 = tiles ${fmt(r.tileArrayMm2)} + overhead ${fmt(r.overheadMm2)}; mean tile ${fmt(r.meanTileMm2)} mm2, link length ${fmt(r.linkLengthMm)} mm; router ${(100 * r.routerShareOfTiles).toFixed(1)}% of the tiles\n`;
  const d = r.dies;
  out += d.count === 1 ? `one die (reticle limit ${fmt(d.reticleLimitMm2)} mm2)\n\n` : `${d.count} reticle-sized dies (a ${d.dieRows} x ${d.dieCols} grid, largest ${fmt(d.largestDieMm2)} mm2): above the reticle limit of ${fmt(d.reticleLimitMm2)} mm2 (${d.reticleSource})\n\n`;
  out += table(
    (Object.entries(r.byComponentMm2) as [string, number][]).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, fmt(v), `${((100 * v) / r.tileArrayMm2).toFixed(1)}%`]),
    ['component (all tiles)', 'mm2', 'share of tiles'],
  );
  return out;
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 || v === Math.round(v) ? String(Math.round(v)) : Number(v.toPrecision(4)).toString();
}

/** The table as text: every value with its unit and source; assumed values marked. */
export function renderTech(tech: TechTable, nodes: readonly ProcessNodeNm[]): string {
  const { assumed, total } = assumedCount(tech);
  let out = `Technology table "${tech.name}"${tech.description ? `: ${tech.description}` : ''}\n`;
  out += `${total} values, ${assumed} assumed (marked *); the rest cite a reference [id] or derive from cited values (= ...)\n\n`;
  out += 'common (node-independent)\n';
  out += table(
    COMMON_PARAM_NAMES.map((k) => {
      const v = tech.common[k];
      return [k, fmt(v.value), v.unit, `${v.assumed ? '* ' : ''}${v.source}`];
    }),
    ['parameter', 'value', 'unit', 'source'],
  );
  for (const n of nodes) {
    out += `\n${n} nm\n`;
    out += table(
      NODE_PARAM_NAMES.map((k) => {
        const v = tech.nodes[`${n}`][k];
        return [k, fmt(v.value), v.unit, `${v.assumed ? '* ' : ''}${v.source}`];
      }),
      ['parameter', 'value', 'unit', 'source'],
    );
  }
  out += '\nreferences\n';
  for (const [id, cite] of Object.entries(tech.references)) out += `  [${id}] ${cite}\n`;
  return out;
}

export function techCommand(io: Io): CommandModule<object, TechArgs> {
  return {
    command: 'tech',
    describe: 'Print the technology table (area, energy, leakage per process node) with the source of every value',
    builder: (y: Argv) =>
      withSetOption(withTechOption(
        y
          .option('node', { type: 'number', describe: `one process node (${PROCESS_NODES_NM.join(', ')} nm); default all` })
          .option('json', { type: 'boolean', default: false, describe: 'print the table as JSON (the --tech file format)' })
          .option('design', { type: 'string', describe: "instead of the table, print this design's area by component under the table (a file or preset)" }),
      )) as unknown as Argv<TechArgs>,
    handler: (args) => {
      const tech = loadTech(io, args.tech);
      if (args.design !== undefined) {
        const design = applySingle(loadDesign(io, args.design), args.set, args.design, 'tessera tech');
        checkClockAgainstTable(design, tech, args.tech, args.design);
        const r = designArea(design, tech);
        io.stdout(args.json ? `${JSON.stringify({ ...r, resolvedDesign: design }, null, 2)}\n` : renderDesignArea(r));
        return;
      }
      if (args.node !== undefined && !(PROCESS_NODES_NM as readonly number[]).includes(args.node)) {
        throw new InputError('--node', '', args.node, `not a modelled process node (${PROCESS_NODES_NM.join(', ')} nm)`, 'pick one of those nodes');
      }
      const nodes = args.node === undefined ? PROCESS_NODES_NM : [args.node as ProcessNodeNm];
      if (args.json) {
        const out = args.node === undefined ? tech : { ...tech, nodes: { [`${args.node}`]: tech.nodes[`${args.node as ProcessNodeNm}`] } };
        io.stdout(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      io.stdout(renderTech(tech, nodes));
    },
  };
}
