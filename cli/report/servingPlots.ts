import { esc } from './html.js';
import type { ServingMetrics } from '../../sim/serving/metrics.js';
import type { ServingResult } from '../../sim/serving/run.js';

/**
 * Plots of a served trace for the HTML report (hand-written SVG, no scripts): latency
 * CDFs (TTFT, ITL, TPOT, end-to-end; log time axis when the values span decades) and
 * time series (queue length, KV occupancy, tokens/s). Every label lies inside its
 * SVG's viewBox.
 */

export interface Series {
  readonly name: string;
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  readonly colour: string;
  /** Draw as steps (piecewise constant) rather than straight segments. */
  readonly step?: boolean;
}

const W = 520;
const H = 260;
const PAD = { left: 58, right: 14, top: 30, bottom: 40 };
export const SERIES_COLOURS = ['#4e79a7', '#e15759', '#59a14f', '#b07aa1'];

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(0);
  if (a >= 100) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(3)).toString();
}

/** About `n` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A line chart with axes, ticks, axis labels and a legend. */
export function lineChart(title: string, xLabel: string, yLabel: string, series: readonly Series[], opts: { logX?: boolean; yMin?: number; yMax?: number } = {}): string {
  const xsAll = series.flatMap((s) => s.xs).filter((x) => Number.isFinite(x) && (!opts.logX || x > 0));
  const ysAll = series.flatMap((s) => s.ys).filter(Number.isFinite);
  if (xsAll.length === 0) return `<figure class="plot"><figcaption>${esc(title)}</figcaption><p>no data</p></figure>`;
  const tx = (x: number) => (opts.logX ? Math.log10(x) : x);
  let x0 = Math.min(...xsAll.map(tx));
  let x1 = Math.max(...xsAll.map(tx));
  if (x1 === x0) {
    x0 -= opts.logX ? 0.5 : Math.abs(x0) * 0.1 + 1;
    x1 += opts.logX ? 0.5 : Math.abs(x1) * 0.1 + 1;
  }
  const y0 = opts.yMin ?? Math.min(0, ...ysAll);
  let y1 = opts.yMax ?? Math.max(...ysAll);
  if (!(y1 > y0)) y1 = y0 + 1;
  const pw = W - PAD.left - PAD.right;
  const ph = H - PAD.top - PAD.bottom;
  const px = (x: number) => PAD.left + ((tx(x) - x0) / (x1 - x0)) * pw;
  const py = (y: number) => PAD.top + ph - ((Math.min(y1, Math.max(y0, y)) - y0) / (y1 - y0)) * ph;
  const xTicks = opts.logX ? niceTicks(Math.ceil(x0), Math.floor(x1), 6).filter(Number.isInteger).map((e) => 10 ** e) : niceTicks(x0, x1, 6);
  const yTicks = niceTicks(y0, y1, 5);
  const grid = [
    ...xTicks.map((v) => `<line x1="${px(v).toFixed(1)}" y1="${PAD.top}" x2="${px(v).toFixed(1)}" y2="${PAD.top + ph}" stroke="#e4e4e4"/><text x="${px(v).toFixed(1)}" y="${PAD.top + ph + 14}" font-size="10" text-anchor="middle">${esc(fmt(v))}</text>`),
    ...yTicks.map((v) => `<line x1="${PAD.left}" y1="${py(v).toFixed(1)}" x2="${PAD.left + pw}" y2="${py(v).toFixed(1)}" stroke="#e4e4e4"/><text x="${PAD.left - 4}" y="${(py(v) + 3).toFixed(1)}" font-size="10" text-anchor="end">${esc(fmt(v))}</text>`),
  ].join('');
  const lines = series
    .map((s) => {
      const pts: string[] = [];
      let prevY: number | undefined;
      s.xs.forEach((x, i) => {
        if (!Number.isFinite(x) || (opts.logX && x <= 0) || !Number.isFinite(s.ys[i])) return;
        const X = px(x).toFixed(1);
        if (s.step && prevY !== undefined) pts.push(`${X},${prevY.toFixed(1)}`);
        prevY = py(s.ys[i]);
        pts.push(`${X},${prevY.toFixed(1)}`);
      });
      return `<polyline fill="none" stroke="${s.colour}" stroke-width="1.6" points="${pts.join(' ')}"><title>${esc(s.name)}</title></polyline>`;
    })
    .join('');
  // a legend only when there is something to tell apart
  const legend = series.length < 2 ? '' : series.map((s, i) => `<rect x="${PAD.left + 8 + i * 120}" y="${PAD.top - 20}" width="10" height="10" fill="${s.colour}"/><text x="${PAD.left + 22 + i * 120}" y="${PAD.top - 11}" font-size="11">${esc(s.name.slice(0, 18))}</text>`).join('');
  const axes = `<rect x="${PAD.left}" y="${PAD.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/><text x="${PAD.left + pw / 2}" y="${H - 6}" font-size="11" text-anchor="middle">${esc(xLabel)}</text><text transform="translate(12,${PAD.top + ph / 2}) rotate(-90)" font-size="11" text-anchor="middle">${esc(yLabel)}</text>`;
  return `<figure class="plot"><figcaption>${esc(title)}</figcaption><svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${grid}${axes}${lines}${legend}</svg></figure>`;
}

/** Log scale when the positive values span more than two decades. */
export function wantsLog(sorted: readonly number[]): boolean {
  let lo = Number.POSITIVE_INFINITY;
  for (let i = 0; i < sorted.length; i++) if (sorted[i] > 0) {
    lo = sorted[i];
    break;
  }
  const hi = sorted.length ? sorted[sorted.length - 1] : 0;
  return lo > 0 && hi / lo > 100;
}

/** The serving section of the HTML report: latency CDFs and time series. */
export function servingPlots(m: ServingMetrics, ts: NonNullable<ServingResult['timeSeries']>): string {
  const cdf = (name: string, d: ServingMetrics['ttftMs'], colour: string): Series => ({ name, xs: d.quantiles as number[], ys: d.quantiles.map((_, k) => k / 200), colour, step: true });
  const cdfChart = (title: string, d: ServingMetrics['ttftMs'], colour: string) => lineChart(`${title} CDF (p50 ${fmt(d.p50)}, p99 ${fmt(d.p99)} ms)`, `${title} (ms${wantsLog(d.quantiles) ? ', log scale' : ''})`, 'share of values', [cdf(title, d, colour)], { logX: wantsLog(d.quantiles), yMin: 0, yMax: 1 });
  const t = ts.startSeconds;
  const unitT = t.length && t[t.length - 1] > 600 ? 60 : 1;
  const xs = t.map((s) => s / unitT);
  const xLabel = `time since the first arrival (${unitT === 60 ? 'min' : 's'})`;
  const seriesOf = (name: string, ys: readonly number[], colour: string): Series => ({ name, xs, ys: ys as number[], colour, step: true });
  return [
    cdfChart('TTFT', m.ttftMs, SERIES_COLOURS[0]),
    cdfChart('ITL', m.itlMs, SERIES_COLOURS[1]),
    cdfChart('TPOT', m.tpotMs, SERIES_COLOURS[2]),
    cdfChart('End-to-end latency', m.e2eMs, SERIES_COLOURS[3]),
    lineChart('Waiting requests', xLabel, 'requests', [seriesOf('mean', ts.queueMean, SERIES_COLOURS[0]), seriesOf('max', ts.queueMax, SERIES_COLOURS[1])], { yMin: 0 }),
    lineChart('KV cache occupancy', xLabel, 'share of capacity', [seriesOf('mean', ts.kvOccupancyMean, SERIES_COLOURS[0]), seriesOf('max', ts.kvOccupancyMax, SERIES_COLOURS[1])], { yMin: 0, yMax: 1 }),
    lineChart('Generated tokens per second', xLabel, 'tokens/s', [seriesOf('tokens/s', ts.tokensPerSecond, SERIES_COLOURS[2])], { yMin: 0 }),
    lineChart('Sequences running', xLabel, 'sequences', [seriesOf('mean', ts.runningMean, SERIES_COLOURS[3])], { yMin: 0 }),
  ].join('');
}
