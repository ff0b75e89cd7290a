import { EVAL_TARGETS, type EvalReport } from './evaluate.js';

/**
 * The eval report as offline HTML: one parity plot (SVG, log-log except the PPA score)
 * per target, simulated value on x, prediction on y with its 90% interval as a vertical
 * bar, the y = x line, points coloured by node; the metrics table beside it.
 */

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const NODE_COLOURS: Record<number, string> = { 3: '#1f77b4', 5: '#ff7f0e', 7: '#2ca02c', 10: '#d62728', 14: '#9467bd', 22: '#8c564b', 28: '#e377c2' };

function parity(r: EvalReport, target: string): string {
  const W = 340;
  const M = 44;
  const log = target !== 'ppaScore';
  const pts = r.points.map((p) => ({ node: p.node, x: p.truth[target], y: p.pred[target].value, lo: p.pred[target].lo, hi: p.pred[target].hi })).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!log || (p.x > 0 && p.y > 0)));
  if (!pts.length) return `<p>${esc(target)}: no points</p>`;
  const t = (v: number) => (log ? Math.log10(Math.max(v, 1e-30)) : v);
  const vals = pts.flatMap((p) => [t(p.x), t(p.y)]);
  let lo = Math.min(...vals);
  let hi = Math.max(...vals);
  if (hi - lo < 1e-9) {
    lo -= 1;
    hi += 1;
  }
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const sx = (v: number) => M + ((t(v) - lo) / (hi - lo)) * (W - 2 * M);
  const sy = (v: number) => W - M - ((Math.min(hi, Math.max(lo, t(v))) - lo) / (hi - lo)) * (W - 2 * M);
  const ticks = [lo + pad, (lo + hi) / 2, hi - pad].map((v) => ({ v, label: log ? (10 ** v).toPrecision(3) : v.toFixed(3) }));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${W}" viewBox="0 0 ${W} ${W}" font-family="sans-serif" font-size="10">`,
    `<rect x="${M}" y="${M}" width="${W - 2 * M}" height="${W - 2 * M}" fill="#fafafa" stroke="#999"/>`,
    `<line x1="${M}" y1="${W - M}" x2="${W - M}" y2="${M}" stroke="#888" stroke-dasharray="4 3"/>`,
    ...ticks.map((k) => `<text x="${M + ((k.v - lo) / (hi - lo)) * (W - 2 * M)}" y="${W - M + 14}" text-anchor="middle">${k.label}</text><text x="${M - 4}" y="${W - M - ((k.v - lo) / (hi - lo)) * (W - 2 * M) + 3}" text-anchor="end">${k.label}</text>`),
    `<text x="${W / 2}" y="${W - 8}" text-anchor="middle">simulated ${esc(target)}${log ? ' (log)' : ''}</text>`,
    `<text x="12" y="${W / 2}" text-anchor="middle" transform="rotate(-90 12 ${W / 2})">predicted</text>`,
    `<text x="${W / 2}" y="${M - 12}" text-anchor="middle" font-size="12" font-weight="bold">${esc(target)}</text>`,
    ...pts.map((p) => {
      const c = NODE_COLOURS[p.node] ?? '#333';
      return `<line x1="${sx(p.x).toFixed(1)}" x2="${sx(p.x).toFixed(1)}" y1="${sy(p.lo).toFixed(1)}" y2="${sy(p.hi).toFixed(1)}" stroke="${c}" stroke-opacity="0.25"/><circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="2" fill="${c}" fill-opacity="0.7"/>`;
    }),
    '</svg>',
  ];
  return parts.join('');
}

export function renderParityHtml(r: EvalReport, title: string): string {
  const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const rows = EVAL_TARGETS.map((t) => {
    const s = r.overall.targets[t.name];
    return `<tr><th>${esc(t.name)}</th><td>${s.n}</td><td>${f(s.mape, 2)}</td><td>${f(s.r2)}</td><td>${f(s.kendallTau)}</td><td>${f(s.top10Recall, 2)}</td><td>${f(s.intervalCoverage, 2)}</td></tr>`;
  }).join('');
  const q = r.overall.feasibility;
  const legend = Object.entries(NODE_COLOURS)
    .filter(([n]) => r.points.some((p) => String(p.node) === n))
    .map(([n, c]) => `<span style="color:${c}">&#9679; ${n} nm</span>`)
    .join(' ');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{text-align:left}.plots{display:flex;flex-wrap:wrap;gap:8px}</style></head><body>
<h1>${esc(title)}</h1>
<p>${esc(r.model.family)} surrogate, trained on ${r.model.trainedOn} labels (simulator ${esc(r.model.simulatorVersion)}), judged on ${r.labels} held-out labels (${r.mappingFeasible} mapping-feasible). Bars: 90% intervals. ${legend}</p>
<table><tr><th>target</th><th>n</th><th>MAPE %</th><th>R2 (log)</th><th>Kendall tau</th><th>top-10% recall</th><th>90% coverage</th></tr>${rows}</table>
<p>Feasibility under power &le; ${r.budgets.powerW.toPrecision(4)} W and area &le; ${r.budgets.areaMm2.toPrecision(4)} mm2 (${f(100 * r.budgets.violatingShare, 1)}% of mapping-feasible designs violate them): accuracy ${f(100 * q.accuracy, 1)}%, balanced accuracy ${f(100 * q.balancedAccuracy, 1)}%, AUC ${f(q.auc)}.</p>
<div class="plots">${EVAL_TARGETS.map((t) => parity(r, t.name)).join('')}</div>
</body></html>
`;
}
