import type { LoadPointResult } from '../sim/noc/lab.js';
import { colourScale, esc, meshLoadMap, textWidth, tick } from './report/svg.js';

/**
 * Hand-written SVG for `tessera noc --svg`: a header with the configuration, latency vs
 * offered load, accepted vs offered load, and the load of every router at one load point
 * (flits per cycle leaving it on its four mesh links) with a labelled colour scale.
 * Points above a plot's range sit on its top edge as triangles (their value in the
 * tooltip); saturated points are hollow. Every label stays inside the viewBox (checked by
 * the headless-Chromium render test).
 */

const W = 380;
const H = 300;
const HEADER = 24;
const M = { l: 58, r: 16, t: 52, b: 44 };

function niceMax(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

interface Series {
  readonly pts: readonly [number, number][];
  readonly color: string;
  readonly dash?: boolean;
  readonly sat?: readonly boolean[];
  /** What a point is, for tooltips ("latency", "accepted"). */
  readonly what?: string;
}

function chart(x0: number, title: string, xLabel: string, yLabel: string, series: readonly Series[], xMax: number, yMax: number): string {
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const sx = (x: number) => x0 + M.l + (x / xMax) * pw;
  const sy = (y: number) => HEADER + M.t + ph - (Math.min(y, yMax) / yMax) * ph;
  const top = HEADER + M.t;
  let s = `<text x="${x0 + W / 2}" y="${HEADER + 18}" text-anchor="middle" font-size="13">${esc(title)}</text>`;
  s += `<rect x="${x0 + M.l}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`;
  for (let k = 0; k <= 5; k++) {
    const xv = (xMax * k) / 5;
    const yv = (yMax * k) / 5;
    s += `<text x="${sx(xv).toFixed(1)}" y="${top + ph + 14}" text-anchor="middle" font-size="10">${tick(xv)}</text>`;
    s += `<text x="${x0 + M.l - 4}" y="${(sy(yv) + 3).toFixed(1)}" text-anchor="end" font-size="10">${tick(yv)}</text>`;
    s += `<line x1="${x0 + M.l}" x2="${x0 + M.l + pw}" y1="${sy(yv).toFixed(1)}" y2="${sy(yv).toFixed(1)}" stroke="#eee"/>`;
  }
  s += `<text x="${x0 + M.l + pw / 2}" y="${HEADER + H - 8}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`;
  s += `<text transform="translate(${x0 + 14},${top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(yLabel)}</text>`;
  for (const ser of series) {
    // points with no value (no packet measured) are left out of the line
    const shown = ser.pts.map((p, i) => [p, i] as const).filter(([[, y]]) => !Number.isNaN(y));
    const d = shown.map(([[x, y]], k) => `${k ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(Number.isFinite(y) ? y : yMax).toFixed(1)}`).join('');
    s += `<path d="${d}" fill="none" stroke="${ser.color}" stroke-width="1.5"${ser.dash ? ' stroke-dasharray="4 3"' : ''}/>`;
    if (!ser.what) continue;
    for (const [[x, y], i] of shown) {
      const hollow = ser.sat?.[i];
      const tip = `offered ${x}: ${ser.what} ${Number.isFinite(y) ? tick(y) : 'unbounded (the measured packets did not drain)'}${hollow ? ', saturated' : ''}`;
      if (!(y <= yMax)) {
        // above the axis: a triangle on the top edge pointing up
        const cx = sx(x);
        s += `<path d="M${(cx - 4).toFixed(1)},${top + 7}L${(cx + 4).toFixed(1)},${top + 7}L${cx.toFixed(1)},${top}Z" fill="${hollow ? '#fff' : ser.color}" stroke="${ser.color}"><title>${esc(`${tip} (above the axis)`)}</title></path>`;
      } else {
        s += `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${hollow ? '#fff' : ser.color}" stroke="${ser.color}"><title>${esc(tip)}</title></circle>`;
      }
    }
  }
  return s;
}

/** Per-router load at one load point: flits per cycle leaving each router on its mesh links (ports 1-4). */
function routerLoadPanel(x0: number, rows: number, cols: number, p: LoadPointResult, title: string): string {
  const cycles = Math.max(1, p.simulatedCycles);
  const link = (r: number, c: number, port: number) => (p.linkFlits[(r * cols + c) * 5 + port] ?? 0) / cycles;
  const load = (r: number, c: number) => link(r, c, 1) + link(r, c, 2) + link(r, c, 3) + link(r, c, 4);
  let max = 0;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) max = Math.max(max, load(r, c));
  const gridTop = HEADER + 44;
  const scaleH = 48;
  const cell = Math.min((W - 44) / cols, (H - 44 - scaleH - 8) / rows);
  const gx = x0 + 30 + (W - 44 - cell * cols) / 2;
  let s = `<text x="${x0 + W / 2}" y="${HEADER + 18}" text-anchor="middle" font-size="13">${esc(title)}</text>`;
  s += `<text x="${x0 + W / 2}" y="${HEADER + 31}" text-anchor="middle" font-size="9">rows down, columns across; hover a router for its links</text>`;
  s += meshLoadMap({
    x: gx,
    y: gridTop,
    cell,
    rows,
    cols,
    value: load,
    max,
    title: (r, c) => `router [${r},${c}]: ${tick(load(r, c))} flits/cycle out (N ${tick(link(r, c, 1))}, E ${tick(link(r, c, 2))}, S ${tick(link(r, c, 3))}, W ${tick(link(r, c, 4))})`,
  });
  const scaleW = Math.min(W - 40, 280);
  s += colourScale(x0 + (W - scaleW) / 2, gridTop + rows * cell + 6, scaleW, max, 'router load: flits/cycle out on its links (max 4)');
  return s;
}

export function nocSvg(points: readonly LoadPointResult[], rows: number, cols: number, label: string): string {
  const xMax = niceMax(Math.max(...points.map((p) => p.offeredFlitsPerNodeCycle)));
  const lat = points.map((p) => [p.offeredFlitsPerNodeCycle, p.avgPacketLatencyCycles] as [number, number]);
  const zero = points[0]?.zeroLoadLatencyCycles ?? 1;
  const finite = lat.map(([, y]) => y).filter((y) => Number.isFinite(y));
  // the latency axis stops at 6x zero-load: saturated points beyond it are marked on the edge
  const yMax = niceMax(Math.min(Math.max(...finite, zero), 6 * zero));
  const sat = points.map((p) => p.saturated);
  const acc = points.map((p) => [p.offeredFlitsPerNodeCycle, p.acceptedFlitsPerNodeCycle] as [number, number]);
  const hp = [...points].reverse().find((p) => !p.saturated) ?? points[points.length - 1];
  const header = `tessera noc: ${label}`;
  let body = `<text x="8" y="16" font-size="12">${esc(header.length * 7.2 > 3 * W - 16 ? `${header.slice(0, Math.floor((3 * W - 16) / 7.2) - 3)}...` : header)}</text>`;
  body += chart(0, 'Latency vs offered load', 'offered load (flits/node/cycle)', 'avg packet latency (cycles)', [{ pts: lat, color: '#c0392b', sat, what: 'latency' }], xMax, yMax);
  body += chart(W, 'Accepted vs offered load', 'offered load (flits/node/cycle)', 'accepted (flits/node/cycle)', [
    { pts: [[0, 0], [xMax, xMax]], color: '#aaa', dash: true },
    { pts: acc, color: '#2471a3', sat, what: 'accepted' },
  ], xMax, xMax);
  if (hp) body += routerLoadPanel(2 * W, rows, cols, hp, `Router load at ${tick(hp.offeredFlitsPerNodeCycle)} flits/node/cycle`);
  const note = 'hollow markers: saturated (average latency above 3x zero-load, or the measured packets did not drain); triangles on the top edge: above the axis (value in the tooltip)';
  const width = Math.max(3 * W, Math.ceil(textWidth(note, 10)) + 16);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${HEADER + H + 22}" viewBox="0 0 ${width} ${HEADER + H + 22}" font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>${body}<text x="8" y="${HEADER + H + 14}" font-size="10">${esc(note)}</text></svg>\n`;
}
