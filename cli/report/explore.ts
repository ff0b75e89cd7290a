import type { ModelCard } from '../../sim/model/card.js';
import type { Design } from '../../sim/design/design.js';
import type { TechTable } from '../../sim/tech/table.js';
import type { Constraints } from '../../sim/power/ppa.js';
import { planMapping } from '../../sim/chip/run.js';
import { decodeFlopsPerToken } from '../../sim/model/derive.js';
import { LABEL_WORKLOADS, workloadTraces } from '../../search/workload.js';
import type { RunResult } from '../../search/explore/run.js';
import { bestOverRuns, type ExploreSummary } from '../../search/explore/summary.js';
import { paretoFront } from '../../search/explore/archive.js';
import { esc, meshLoadMap, PALETTE, tick } from './svg.js';

/**
 * The explore command's offline HTML report (docs/explore.md "Report"): a per-node table
 * shaped like the paper's Table 10 with Tessera's simulated numbers, the algorithms side
 * by side over seeds, learning curves, the surrogate's error over time, Pareto fronts of the
 * simulated designs, the chosen parameters across nodes and tile maps of the best designs.
 * Self-contained (inline SVG, no scripts, no network).
 */

export interface ExploreReportInput {
  readonly summary: ExploreSummary;
  readonly results: readonly RunResult[];
  readonly card: ModelCard;
  readonly tech: TechTable;
  readonly workload: string;
  readonly constraints: Constraints;
  readonly extras: Readonly<Record<string, unknown>>;
}

const fmt = (x: number | null | undefined, digits = 4) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : Number(x.toPrecision(digits)).toString());
const W = 460;
const H = 260;
const M = { l: 52, r: 12, t: 24, b: 36 };

function colourOf(algo: string): string {
  return PALETTE[['sac', 'random', 'grid', 'ga'].indexOf(algo) % PALETTE.length] ?? PALETTE[5];
}

/** A line chart: x and y arrays per series (y null = gap). */
function lineChart(title: string, xLabel: string, yLabel: string, series: { name: string; colour: string; x: number[]; y: (number | null)[] }[]): string {
  const xs = series.flatMap((s) => s.x);
  const ys = series.flatMap((s) => s.y.filter((v): v is number => v !== null && Number.isFinite(v)));
  if (!xs.length || !ys.length) return `<p>${esc(title)}: no data</p>`;
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const px = (x: number) => M.l + ((x - x0) / (x1 - x0 || 1)) * (W - M.l - M.r);
  const py = (y: number) => H - M.b - ((y - y0) / (y1 - y0)) * (H - M.t - M.b);
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif"><text x="${W / 2}" y="14" font-size="12" text-anchor="middle">${esc(title)}</text>`;
  s += `<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="#333"/><line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#333"/>`;
  for (let k = 0; k <= 4; k++) {
    const yv = y0 + ((y1 - y0) * k) / 4;
    const xv = x0 + ((x1 - x0) * k) / 4;
    s += `<text x="${M.l - 4}" y="${py(yv) + 3}" font-size="9" text-anchor="end">${tick(yv)}</text><text x="${px(xv)}" y="${H - M.b + 12}" font-size="9" text-anchor="middle">${tick(xv)}</text>`;
  }
  s += `<text x="${W / 2}" y="${H - 6}" font-size="10" text-anchor="middle">${esc(xLabel)}</text><text x="12" y="${H / 2}" font-size="10" text-anchor="middle" transform="rotate(-90 12 ${H / 2})">${esc(yLabel)}</text>`;
  series.forEach((ser, k) => {
    let d = '';
    ser.x.forEach((x, i) => {
      const y = ser.y[i];
      if (y === null || !Number.isFinite(y)) return;
      d += `${d ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`;
    });
    if (d) s += `<path d="${d}" fill="none" stroke="${ser.colour}" stroke-width="1.6"/>`;
    s += `<rect x="${W - M.r - 110}" y="${M.t + 4 + k * 13}" width="9" height="9" fill="${ser.colour}"/><text x="${W - M.r - 97}" y="${M.t + 12 + k * 13}" font-size="10">${esc(ser.name)}</text>`;
  });
  return `${s}</svg>`;
}

/** Scatter of simulated designs, power vs tokens/s on log axes, the Pareto front outlined. */
function paretoChart(node: number, results: readonly RunResult[]): string {
  const pts = results.flatMap((r) => r.simulated.filter((s) => s.node === node && s.simulated.feasible && s.simulated.tokensPerSecond > 0 && s.simulated.powerW > 0).map((s) => ({ algo: r.algo, t: s.simulated.tokensPerSecond, p: s.simulated.powerW, a: s.simulated.areaMm2 })));
  if (!pts.length) return `<p>${node} nm: no feasible simulated design</p>`;
  const front = new Set(paretoFront(pts.map((q) => [q.t, -q.p])));
  const lx = pts.map((q) => Math.log10(q.p));
  const ly = pts.map((q) => Math.log10(q.t));
  const [x0, x1] = [Math.min(...lx) - 0.05, Math.max(...lx) + 0.05];
  const [y0, y1] = [Math.min(...ly) - 0.05, Math.max(...ly) + 0.05];
  const px = (x: number) => M.l + ((x - x0) / (x1 - x0)) * (W - M.l - M.r);
  const py = (y: number) => H - M.b - ((y - y0) / (y1 - y0)) * (H - M.t - M.b);
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif"><text x="${W / 2}" y="14" font-size="12" text-anchor="middle">${node} nm: simulated designs (front: tokens/s vs power)</text>`;
  s += `<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="#333"/><line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#333"/>`;
  for (let k = 0; k <= 4; k++) {
    const xv = x0 + ((x1 - x0) * k) / 4;
    const yv = y0 + ((y1 - y0) * k) / 4;
    s += `<text x="${px(xv)}" y="${H - M.b + 12}" font-size="9" text-anchor="middle">${tick(10 ** xv)}</text><text x="${M.l - 4}" y="${py(yv) + 3}" font-size="9" text-anchor="end">${tick(10 ** yv)}</text>`;
  }
  s += `<text x="${W / 2}" y="${H - 6}" font-size="10" text-anchor="middle">power (W, log)</text><text x="12" y="${H / 2}" font-size="10" text-anchor="middle" transform="rotate(-90 12 ${H / 2})">tokens/s (log)</text>`;
  pts.forEach((q, i) => {
    s += `<circle cx="${px(lx[i]).toFixed(1)}" cy="${py(ly[i]).toFixed(1)}" r="${front.has(i) ? 4 : 2.5}" fill="${colourOf(q.algo)}" ${front.has(i) ? 'stroke="#000" stroke-width="1"' : 'fill-opacity="0.6"'}><title>${esc(`${q.algo}: ${tick(q.t)} tok/s, ${tick(q.p)} W, ${tick(q.a)} mm2`)}</title></circle>`;
  });
  const algos = [...new Set(pts.map((q) => q.algo))];
  algos.forEach((a, k) => (s += `<rect x="${W - M.r - 70}" y="${M.t + 4 + k * 13}" width="9" height="9" fill="${colourOf(a)}"/><text x="${W - M.r - 57}" y="${M.t + 12 + k * 13}" font-size="10">${esc(a)}</text>`));
  return `${s}</svg>`;
}

/** Tile map of a design: each tile coloured by its pipeline region, its weights in the tooltip. */
function tileMap(design: Design, card: ModelCard, workload: string, title: string): string {
  const w = LABEL_WORKLOADS[workload];
  const { design: sized, mapping } = planMapping(card, design, workloadTraces(w, design).decode);
  const { rows, cols } = sized.mesh;
  const cell = Math.max(3, Math.min(16, Math.floor(360 / Math.max(rows, cols))));
  const region = new Int32Array(rows * cols);
  mapping.regions.forEach((r, k) => r.tiles.forEach((t) => (region[t] = k)));
  const body = meshLoadMap({
    x: 24,
    y: 36,
    cell,
    rows,
    cols,
    value: (r, c) => region[r * cols + c] + 1,
    max: mapping.regions.length,
    title: (r, c) => {
      const t = mapping.tiles[r * cols + c];
      return `tile (${r}, ${c}): region ${region[r * cols + c]} of ${mapping.regions.length}, ROM ${(t.romBytes / 1024).toFixed(0)} of ${(t.romCapacityBytes / 1024).toFixed(0)} KiB, DMEM ${(t.dmemCapacityBytes / 1024).toFixed(0)} KiB`;
    },
  });
  const h = 36 + rows * cell + 12;
  const width = Math.max(260, 24 + cols * cell + 12);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" font-family="sans-serif"><text x="4" y="14" font-size="12">${esc(title)}</text><text x="4" y="27" font-size="9">colour: pipeline region (${mapping.regions.length}); hover a tile for its weights</text>${body}</svg>`;
}

const PARAMS: [string, (d: Design) => string][] = [
  ['mesh', (d) => `${d.mesh.rows}x${d.mesh.cols}`],
  ['MHz', (d) => String(d.clockMHz)],
  ['VLEN', (d) => String(d.tile.vlenBits)],
  ['FETCH', (d) => String(d.tile.fetchWidth)],
  ['STANUM', (d) => String(d.tile.reservationStations)],
  ['WMEM KiB', (d) => String(d.tile.wmemKiB)],
  ['DMEM KiB', (d) => String(d.tile.dmemKiB)],
  ['flit bits', (d) => String(d.noc.flitBits)],
  ['VCs', (d) => String(d.noc.virtualChannels)],
  ['W/A/KV', (d) => `${d.precision.weights}/${d.precision.activations}/${d.precision.kvCache}`],
  ['batching', (d) => (d.serving.batching === 'single' ? 'single' : `cont. ${d.serving.maxBatch} x${d.serving.microBatches}`)],
  ['stages', (d) => String(d.mapping.pipelineStages)],
  ['KV window', (d) => String(d.mapping.kvWindowTokens || 'all')],
  ['hetero', (d) => (d.mapping.heterogeneousTiles ? 'yes' : 'no')],
];

export function renderExploreReport(o: ExploreReportInput): string {
  const s = o.summary;
  const flopsPerToken = decodeFlopsPerToken(o.card, LABEL_WORKLOADS[o.workload].decode.contextTokens);
  const parts: string[] = [];
  parts.push(`<h1>tessera explore: ${esc(s.model)}</h1>`);
  parts.push(`<p>Nodes ${s.nodes.join(', ')} nm; algorithms ${s.algorithms.join(', ')}; seeds ${s.seeds.join(', ')}. Per node and algorithm: ${s.budget.episodesPerNode} episodes of ${s.budget.episodeSteps} steps (${s.budget.episodesPerNode * s.budget.episodeSteps} surrogate evaluations), at most ${s.budget.simBudgetPerNode} simulator calls (${s.budget.segments} spot checks of ${s.budget.spotTop} best + ${s.budget.spotUncertain} most uncertain designs, ${s.budget.finalPerNode} final). Constraints: ${esc(JSON.stringify(o.constraints))}. Every figure below is simulated unless marked predicted.</p>`);

  // Table 10 shape
  let t = '<h2>Best design per node (simulated; the paper\'s Table 10 columns)</h2><table><tr><th>node (nm)</th><th>mesh</th><th>tiles</th><th>MHz</th><th>mW</th><th>GOp/s</th><th>mm2</th><th>dies</th><th>PPA score</th><th>1 - score</th><th>tok/s</th><th>feasible</th><th>found by</th></tr>';
  for (const node of s.nodes) {
    const b = bestOverRuns(o.results, node);
    if (!b) {
      t += `<tr><td>${node}</td><td colspan="12">no simulated design</td></tr>`;
      continue;
    }
    const r = b.s.simulated;
    const d = b.design;
    t += `<tr><td>${node}</td><td>${d.mesh.rows}x${d.mesh.cols}</td><td>${d.mesh.rows * d.mesh.cols}</td><td>${d.clockMHz}</td><td>${fmt(r.powerW * 1000, 5)}</td><td>${fmt((r.tokensPerSecond * flopsPerToken) / 1e9, 5)}</td><td>${fmt(r.areaMm2, 5)}</td><td>${r.dies}</td><td>${fmt(r.score)}</td><td>${r.feasible ? fmt(1 - r.score) : '-'}</td><td>${fmt(r.tokensPerSecond, 5)}</td><td>${r.feasible ? 'yes' : esc(r.reasons.join('; '))}</td><td>${esc(b.runId)}</td></tr>`;
  }
  parts.push(`${t}</table><p>GOp/s = tokens/s x ${tick(flopsPerToken / 1e9)} GFLOP per decode token (${o.workload}). PPA score: higher is better, (0, 1) when feasible; the paper's lower-is-better column is 1 - score.</p>`);

  // algorithms
  let a = '<h2>Algorithms: best simulated PPA score (mean +- sd over seeds)</h2><table><tr><th>node</th>';
  for (const algo of s.algorithms) a += `<th>${esc(algo)}</th>`;
  a += '<th>SAC - baseline: mean difference [bootstrap 95% CI]</th></tr>';
  for (const node of s.nodes) {
    a += `<tr><td>${node} nm</td>`;
    for (const algo of s.algorithms) {
      const e = s.perNode[node][algo];
      a += `<td>${fmt(e.meanBestScore)} +- ${fmt(e.sdBestScore, 2)} (best ${fmt(e.bestSimulatedPpaScore)}; ${fmt(e.simulatorCalls, 4)} sims, ${fmt(e.surrogateCalls, 6)} surrogate calls)</td>`;
    }
    a += `<td>${(s.comparisons[node] ?? []).map((c) => `vs ${c.against}: ${fmt(c.meanDifference)} ${c.ci95 ? `[${fmt(c.ci95[0])}, ${fmt(c.ci95[1])}]` : '(one seed)'}`).join('<br>')}</td></tr>`;
  }
  parts.push(`${a}</table>`);

  // parameters across nodes
  let p = '<h2>Chosen parameters across nodes (best design per node)</h2><table><tr><th>node</th>';
  for (const [name] of PARAMS) p += `<th>${esc(name)}</th>`;
  p += '</tr>';
  for (const node of s.nodes) {
    const b = bestOverRuns(o.results, node);
    if (b) p += `<tr><td>${node} nm</td>${PARAMS.map(([, f]) => `<td>${esc(f(b.design))}</td>`).join('')}</tr>`;
  }
  parts.push(`${p}</table>`);

  // curves
  const curves: string[] = [];
  const errors: string[] = [];
  for (const node of s.nodes) {
    const series = s.algorithms.map((algo) => {
      const runs = o.results.filter((r) => r.algo === algo);
      const segs = [...new Set(runs.flatMap((r) => r.curves.filter((c) => c.node === node).map((c) => c.segment)))].sort((x, y) => x - y);
      const y = segs.map((g) => {
        const vals = runs.flatMap((r) => r.curves.filter((c) => c.node === node && c.segment === g && c.bestSimulatedScore !== null).map((c) => c.bestSimulatedScore!));
        return vals.length ? vals.reduce((u, v) => u + v, 0) / vals.length : null;
      });
      const x = segs.map((g) => ((g + 1) * s.budget.stepsPerSegment));
      return { name: algo, colour: colourOf(algo), x, y };
    });
    curves.push(lineChart(`${node} nm: best simulated PPA score (mean over seeds)`, 'surrogate evaluations', 'PPA score', series));
    const err = s.algorithms.map((algo) => {
      const runs = o.results.filter((r) => r.algo === algo);
      const segs = [...new Set(runs.flatMap((r) => r.spotLog.filter((l) => l.node === node).map((l) => l.segment)))].sort((x, y) => x - y);
      const y = segs.map((g) => {
        const vals = runs.flatMap((r) => r.spotLog.filter((l) => l.node === node && l.segment === g && l.mapeTokens !== null).map((l) => l.mapeTokens!));
        return vals.length ? vals.reduce((u, v) => u + v, 0) / vals.length : null;
      });
      return { name: algo, colour: colourOf(algo), x: segs.map((g) => g + 1), y };
    });
    errors.push(lineChart(`${node} nm: surrogate tokens/s error on spot-checked designs`, 'spot check (last: final simulations)', 'MAPE (%)', err));
  }
  const sacReturns = s.nodes.map((node) => {
    const runs = o.results.filter((r) => r.algo === 'sac');
    if (!runs.length) return '';
    const segs = [...new Set(runs.flatMap((r) => r.curves.filter((c) => c.node === node).map((c) => c.segment)))].sort((x, y) => x - y);
    return lineChart(`${node} nm: SAC mean episode return`, 'segment', 'return', runs.map((r, k) => ({ name: r.runId, colour: PALETTE[k % PALETTE.length], x: segs.map((g) => g + 1), y: segs.map((g) => r.curves.find((c) => c.node === node && c.segment === g)?.meanEpisodeValue ?? null) })));
  });
  parts.push(`<h2>Learning curves</h2><div class="grid">${curves.join('')}${sacReturns.join('')}</div>`);
  parts.push(`<h2>Surrogate error over time</h2><p>The surrogate's tokens/s prediction, logged before each design's first simulation, against the simulation (fine-tuned after every spot check).</p><div class="grid">${errors.join('')}</div>`);
  parts.push(`<h2>Pareto fronts of the simulated designs</h2><div class="grid">${s.nodes.map((n) => paretoChart(n, o.results)).join('')}</div>`);
  const maps = s.nodes.flatMap((node) => {
    const b = bestOverRuns(o.results, node);
    return b ? [tileMap(b.design, o.card, o.workload, `${node} nm: ${b.design.mesh.rows}x${b.design.mesh.cols} (${b.runId})`)] : [];
  });
  parts.push(`<h2>Tile maps of the best designs</h2><div class="grid">${maps.join('')}</div>`);
  parts.push(`<h2>Run details</h2><pre>${esc(JSON.stringify(o.extras, null, 2))}</pre>`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>tessera explore ${esc(s.model)}</title><style>body{font-family:sans-serif;margin:24px;max-width:1400px}table{border-collapse:collapse;font-size:12px;margin-bottom:12px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}.grid{display:flex;flex-wrap:wrap;gap:12px}pre{font-size:11px;background:#f7f7f7;padding:8px}</style></head><body>${parts.join('\n')}</body></html>\n`;
}
