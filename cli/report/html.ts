import type { PowerReport, TileReport } from '../../sim/power/report.js';
import { fmtSi } from '../format.js';
import { colourScale, esc, heatColour, meshLoadMap, PALETTE, tick } from './svg.js';
import { areaText, energyPerTokenText, reticleWarning } from './physical.js';

/**
 * A self-contained HTML PPA report: inline CSS and hand-written SVG only (no scripts,
 * fonts, images or URLs), so it opens offline. Per-tile heatmaps (WMEM, FETCH, VLEN,
 * utilisation, power), power and area breakdown bars, and the NoC link-load heatmap.
 */

export { esc, heatColour } from './svg.js';

const CATEGORY_COLOURS: Record<string, string> = { compute: PALETTE[0], sram: PALETTE[1], rom: PALETTE[2], noc: PALETTE[3], leakage: PALETTE[8] };

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
  // one distinct colour per legend entry: beyond the palette, the smallest parts become "other"
  let shown: (readonly [string, number])[] = parts.filter(([, v]) => v > 0);
  if (!colours && shown.length > PALETTE.length) {
    const sorted = [...shown].sort((p, q) => q[1] - p[1]);
    const kept = sorted.slice(0, PALETTE.length - 1);
    shown = [...kept, [`other (${sorted.length - kept.length})`, sorted.slice(kept.length).reduce((a, [, v]) => a + v, 0)]];
  }
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

/**
 * NoC load map: one square per router coloured by the flits per cycle it sends on its mesh
 * links (the sum of its outgoing links), with row and column numbers and a labelled colour
 * scale; each router's tooltip gives its four links. Readable on a 41x42 mesh, where one
 * bar per link was a moire pattern.
 */
export function linkHeatmap(report: PowerReport): string {
  const { rows, cols } = report.design;
  const cycles = Math.max(1, report.simulatedCycles);
  const out = Array.from({ length: rows * cols }, () => [0, 0, 0, 0]);
  const dir = (dr: number, dc: number) => (dr < 0 ? 0 : dc > 0 ? 1 : dr > 0 ? 2 : 3);
  for (const l of report.links) out[l.from[0] * cols + l.from[1]][dir(l.to[0] - l.from[0], l.to[1] - l.from[1])] += l.flits / cycles;
  const load = (r: number, c: number) => out[r * cols + c].reduce((a, b) => a + b, 0);
  const max = Math.max(0, ...out.map((o) => o.reduce((a, b) => a + b, 0)));
  const cell = Math.max(4, Math.min(36, Math.floor(480 / Math.max(rows, cols))));
  const left = 22;
  const top = 14;
  const w = Math.max(left + cols * cell + 4, 300);
  const grid = meshLoadMap({
    x: left,
    y: top,
    cell,
    rows,
    cols,
    value: load,
    max,
    title: (r, c) => {
      const [n, e, so, we] = out[r * cols + c];
      return `router [${r},${c}]: ${tick(load(r, c))} flits/cycle out (N ${tick(n)}, E ${tick(e)}, S ${tick(so)}, W ${tick(we)})`;
    },
  });
  const scaleY = top + rows * cell + 8;
  const body = report.links.length ? `${grid}${colourScale(left, scaleY, Math.min(260, w - left - 8), max, 'router load: flits/cycle sent on its links')}` : `<text x="0" y="${top + 10}" font-size="10">no link loads recorded</text>`;
  const h = report.links.length ? scaleY + 40 : top + 20;
  return `<figure class="heat"><figcaption>NoC load by router (rows down, columns across)</figcaption><svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="NoC load by router">${body}</svg></figure>`;
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
    ['energy per token', energyPerTokenText(m)],
    ['area', areaText(report)],
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
${reticleWarning(report) ? `<p class="warning"><strong>${esc(reticleWarning(report)!)}</strong></p>` : ''}
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
