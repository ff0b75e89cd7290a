import type { PowerReport, TileReport } from '../../sim/power/report.js';
import { fmtSi } from '../format.js';

/**
 * A self-contained HTML PPA report: inline CSS and hand-written SVG only (no scripts,
 * fonts, images or URLs), so it opens offline. Per-tile heatmaps (WMEM, FETCH, VLEN,
 * utilisation, power), power and area breakdown bars, and the NoC link-load heatmap.
 */

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Sequential colour scale (dark blue -> teal -> yellow), t in [0, 1]. */
export function heatColour(t: number): string {
  const stops = [
    [0.267, 0.005, 0.329],
    [0.229, 0.322, 0.545],
    [0.128, 0.567, 0.551],
    [0.369, 0.789, 0.383],
    [0.993, 0.906, 0.144],
  ];
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((a, k) => Math.round(255 * (a + (stops[i + 1][k] - a) * f)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

const CATEGORY_COLOURS: Record<string, string> = { compute: '#4e79a7', sram: '#f28e2b', rom: '#e15759', noc: '#76b7b2', leakage: '#9c755f' };
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#86bcb6', '#d37295', '#fabfd2', '#8cd17d', '#499894', '#79706e'];

function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return Number(v.toPrecision(4)).toString();
}

/** One heatmap of a per-tile value. */
export function tileHeatmap(title: string, report: PowerReport, value: (t: TileReport) => number | null, unit: string): string {
  const { rows, cols } = report.design;
  const cell = Math.max(4, Math.min(36, Math.floor(240 / Math.max(rows, cols))));
  const w = cols * cell;
  const h = rows * cell;
  const vals = report.tiles.map(value);
  const known = vals.filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = known.length ? Math.min(...known) : 0;
  const hi = known.length ? Math.max(...known) : 0;
  const rects = report.tiles
    .map((t, i) => {
      const v = vals[i];
      const fill = v === null ? '#dddddd' : heatColour(hi > lo ? (v - lo) / (hi - lo) : 0.5);
      return `<rect x="${t.col * cell}" y="${t.row * cell}" width="${cell}" height="${cell}" fill="${fill}" stroke="#ffffff" stroke-width="${cell > 8 ? 1 : 0}"><title>tile[${t.row},${t.col}] ${esc(title)}: ${v === null ? 'n/a' : `${num(v)} ${esc(unit)}`}</title></rect>`;
    })
    .join('');
  const legend = Array.from({ length: 10 }, (_, k) => `<rect x="${k * 12}" y="0" width="12" height="8" fill="${heatColour(k / 9)}"/>`).join('');
  const range = known.length ? `${num(lo)} - ${num(hi)} ${unit}` : 'no per-tile data';
  const width = Math.max(w, 180);
  return `<figure class="heat"><figcaption>${esc(title)}</figcaption><svg width="${width}" height="${h + 38}" viewBox="0 0 ${width} ${h + 38}" role="img" aria-label="${esc(title)} heatmap">${rects}<g transform="translate(0,${h + 6})">${legend}<text x="0" y="22" font-size="10">${esc(range)}</text></g></svg></figure>`;
}

/** A horizontal stacked bar with a legend: parts in one unit. */
export function stackedBar(title: string, parts: readonly (readonly [string, number])[], unit: string, colours?: Record<string, string>): string {
  const total = parts.reduce((s, [, v]) => s + Math.max(0, v), 0);
  const width = 520;
  let x = 0;
  const shown = parts.filter(([, v]) => v > 0);
  const segs = shown
    .map(([k, v], i) => {
      const wv = total > 0 ? (v / total) * width : 0;
      const seg = `<rect x="${x.toFixed(2)}" y="0" width="${wv.toFixed(2)}" height="22" fill="${colours?.[k] ?? PALETTE[i % PALETTE.length]}"><title>${esc(k)}: ${num(v)} ${esc(unit)} (${total > 0 ? ((100 * v) / total).toFixed(1) : '0'}%)</title></rect>`;
      x += wv;
      return seg;
    })
    .join('');
  const legend = shown
    .map(([k, v], i) => {
      const y = 34 + i * 16;
      return `<rect x="0" y="${y - 9}" width="10" height="10" fill="${colours?.[k] ?? PALETTE[i % PALETTE.length]}"/><text x="16" y="${y}" font-size="11">${esc(k)}</text><text x="200" y="${y}" font-size="11">${num(v)} ${esc(unit)}</text><text x="320" y="${y}" font-size="11">${total > 0 ? ((100 * v) / total).toFixed(1) : '0'}%</text>`;
    })
    .join('');
  const h = 34 + shown.length * 16;
  return `<figure class="bar"><figcaption>${esc(title)} (total ${num(total)} ${esc(unit)})</figcaption><svg width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" role="img" aria-label="${esc(title)}">${segs}${legend}</svg></figure>`;
}

/** NoC link-load heatmap: tiles as squares, each directed link as a coloured bar between them. */
export function linkHeatmap(report: PowerReport): string {
  const { rows, cols } = report.design;
  const pitch = Math.max(10, Math.min(48, Math.floor(480 / Math.max(rows, cols))));
  const tile = pitch * (pitch < 20 ? 0.4 : 0.55);
  const w = cols * pitch;
  const h = rows * pitch;
  const max = Math.max(0, ...report.links.map((l) => l.flits));
  const tiles = report.tiles.map((t) => `<rect x="${(t.col * pitch + (pitch - tile) / 2).toFixed(1)}" y="${(t.row * pitch + (pitch - tile) / 2).toFixed(1)}" width="${tile.toFixed(1)}" height="${tile.toFixed(1)}" fill="#eeeeee" stroke="#999999" stroke-width="0.5"/>`).join('');
  const thick = Math.max(1.5, (pitch - tile) * 0.4);
  const links = report.links
    .map((l) => {
      const [r0, c0] = l.from;
      const [r1, c1] = l.to;
      const cx0 = c0 * pitch + pitch / 2;
      const cy0 = r0 * pitch + pitch / 2;
      const cx1 = c1 * pitch + pitch / 2;
      const cy1 = r1 * pitch + pitch / 2;
      // Offset the two directions of a link to either side of the centre line.
      const horizontal = r0 === r1;
      const sign = (horizontal ? c1 > c0 : r1 > r0) ? -1 : 1;
      const off = sign * thick * 0.6;
      const x = horizontal ? Math.min(cx0, cx1) + tile / 2 : cx0 + off - thick / 2;
      const y = horizontal ? cy0 + off - thick / 2 : Math.min(cy0, cy1) + tile / 2;
      const lw = horizontal ? pitch - tile : thick;
      const lh = horizontal ? thick : pitch - tile;
      return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${lw.toFixed(1)}" height="${lh.toFixed(1)}" fill="${heatColour(max > 0 ? l.flits / max : 0)}"><title>[${r0},${c0}] -&gt; [${r1},${c1}]: ${num(l.flits)} flits</title></rect>`;
    })
    .join('');
  const note = report.links.length ? `max ${num(max)} flits per link` : 'no link loads given';
  return `<figure class="heat"><figcaption>NoC link load (flits)</figcaption><svg width="${Math.max(w, 160)}" height="${h + 20}" viewBox="0 0 ${Math.max(w, 160)} ${h + 20}" role="img" aria-label="NoC link load heatmap">${tiles}${links}<text x="0" y="${h + 14}" font-size="10">${esc(note)}</text></svg></figure>`;
}

export function renderHtml(report: PowerReport): string {
  const m = report.metrics;
  const p = report.ppa;
  const kv: [string, string][] = [
    ['node / clock / Vdd', `${report.design.processNodeNm} nm / ${report.design.clockMHz} MHz / ${report.vddV.toFixed(3)} V`],
    ['mesh', `${report.design.rows} x ${report.design.cols}, ${report.design.flitBits}-bit flits`],
    ['simulated', `${report.simulatedCycles.toLocaleString('en-US')} cycles (${num(m.seconds)} s), ${m.tokens} tokens`],
    ['tokens/s', num(m.tokensPerSecond)],
    ['power', `${num(m.powerW)} W (${num(m.powerDensityWPerMm2)} W/mm2)`],
    ['energy per token', `${num(m.energyPerTokenJ)} J`],
    ['area', `${num(m.areaMm2)} mm2`],
    ['throughput density', `${num(m.topsPerMm2)} TOPS/mm2 (${fmtSi(m.opsPerSecond, 'op/s')})`],
    ...(m.ttftMs ? ([['TTFT p50 / p99', `${num(m.ttftMs.p50)} / ${num(m.ttftMs.p99)} ms`]] as [string, string][]) : []),
    ...(m.itlMs ? ([['inter-token p50 / p99', `${num(m.itlMs.p50)} / ${num(m.itlMs.p99)} ms`]] as [string, string][]) : []),
    ['PPA score (higher is better)', `${num(p.score)} ${p.feasible ? '(feasible)' : `(infeasible: ${p.reasons.join('; ')})`}; objective ${num(p.objective)}; weights perf ${p.weights.perf} / power ${p.weights.power} / area ${p.weights.area}`],
    ['reference', `${p.reference.workload}: ${num(p.reference.tokensPerSecond)} tok/s, ${num(p.reference.powerW)} W, ${num(p.reference.areaMm2)} mm2 (${p.reference.source})`],
    ['technology table', report.techName],
  ];
  const rows = kv.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('');
  const cat = Object.entries(report.power.byCategoryW) as [string, number][];
  const comp = (Object.entries(report.power.byComponentW) as [string, number][]).sort((a, b) => b[1] - a[1]);
  const area = (Object.entries(report.area.byComponentMm2) as [string, number][]).concat([['chip overhead', report.area.overheadMm2]]).sort((a, b) => b[1] - a[1]);
  const heat = [
    tileHeatmap('WMEM (KiB)', report, (t) => t.wmemKiB, 'KiB'),
    tileHeatmap('FETCH width', report, (t) => t.fetchWidth, 'instr'),
    tileHeatmap('VLEN (bits)', report, (t) => t.vlenBits, 'bits'),
    tileHeatmap('Utilisation (busy / cycles)', report, (t) => t.utilisation, ''),
    tileHeatmap('Tile power (W)', report, (t) => t.powerW, 'W'),
  ].join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Tessera PPA report: ${esc(report.title)}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:24px 0 8px}
table{border-collapse:collapse}th{text-align:left;padding:2px 16px 2px 0;font-weight:600;vertical-align:top}td{padding:2px 0}
figure{margin:0 24px 16px 0;display:inline-block;vertical-align:top}figcaption{font-weight:600;margin-bottom:4px}
svg text{font-family:system-ui,sans-serif;fill:#222}
</style></head><body>
<h1>Tessera PPA report: ${esc(report.title)}</h1>
<table>${rows}</table>
<h2>Power</h2>
${stackedBar('Power by category (paper Table 12)', cat, 'W', CATEGORY_COLOURS)}
${stackedBar('Power by component', comp, 'W')}
<h2>Area</h2>
${stackedBar('Area by component', area, 'mm2')}
<h2>Tiles</h2>
${heat}
<h2>Network on chip</h2>
${linkHeatmap(report)}
</body></html>
`;
}
