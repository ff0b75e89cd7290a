import type { LoadPointResult } from '../sim/noc/lab.js';

/**
 * Hand-written SVG for `tessera noc --svg`: latency vs offered load, accepted vs offered
 * load, and a link-load heatmap of one load point (each arrow a router output link,
 * coloured by flits per cycle).
 */

const W = 360;
const H = 260;
const M = { l: 56, r: 14, t: 28, b: 42 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

function niceMax(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function chart(x0: number, title: string, xLabel: string, yLabel: string, series: { pts: [number, number][]; color: string; dash?: boolean; sat?: boolean[] }[], xMax: number, yMax: number): string {
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const sx = (x: number) => x0 + M.l + (x / xMax) * pw;
  const sy = (y: number) => M.t + ph - (Math.min(y, yMax) / yMax) * ph;
  let s = `<text x="${x0 + W / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>`;
  s += `<rect x="${x0 + M.l}" y="${M.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`;
  for (let k = 0; k <= 5; k++) {
    const xv = (xMax * k) / 5;
    const yv = (yMax * k) / 5;
    s += `<text x="${sx(xv)}" y="${M.t + ph + 14}" text-anchor="middle" font-size="10">${+xv.toFixed(3)}</text>`;
    s += `<text x="${x0 + M.l - 4}" y="${sy(yv) + 3}" text-anchor="end" font-size="10">${+yv.toFixed(3)}</text>`;
    s += `<line x1="${x0 + M.l}" x2="${x0 + M.l + pw}" y1="${sy(yv)}" y2="${sy(yv)}" stroke="#eee"/>`;
  }
  s += `<text x="${x0 + M.l + pw / 2}" y="${H - 8}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`;
  s += `<text transform="translate(${x0 + 14},${M.t + ph / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(yLabel)}</text>`;
  for (const ser of series) {
    const d = ser.pts.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    s += `<path d="${d}" fill="none" stroke="${ser.color}" stroke-width="1.5"${ser.dash ? ' stroke-dasharray="4 3"' : ''}/>`;
    ser.pts.forEach(([x, y], i) => {
      s += `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${ser.sat?.[i] ? '#fff' : ser.color}" stroke="${ser.color}"/>`;
    });
  }
  return s;
}

/** Colour for utilisation u in [0, 1]: white -> orange -> dark red. */
function heat(u: number): string {
  const t = Math.max(0, Math.min(1, u));
  const r = Math.round(255 - 100 * Math.max(0, t - 0.5) * 2);
  const g = Math.round(245 - 215 * t);
  const b = Math.round(235 - 215 * Math.min(1, t * 1.5));
  return `rgb(${r},${g},${b})`;
}

function heatmap(x0: number, rows: number, cols: number, p: LoadPointResult, title: string): string {
  const size = Math.min((W - 20) / cols, (H - 60) / rows);
  const ox = x0 + (W - size * cols) / 2;
  const oy = 34;
  const cx = (c: number) => ox + (c + 0.5) * size;
  const cy = (r: number) => oy + (r + 0.5) * size;
  let s = `<text x="${x0 + W / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>`;
  let maxU = 0;
  for (let k = 0; k < p.linkFlits.length; k++) if (k % 5 !== 0) maxU = Math.max(maxU, p.linkFlits[k] / p.simulatedCycles);
  const off = size * 0.12;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const id = r * cols + c;
      s += `<rect x="${(cx(c) - size * 0.12).toFixed(1)}" y="${(cy(r) - size * 0.12).toFixed(1)}" width="${(size * 0.24).toFixed(1)}" height="${(size * 0.24).toFixed(1)}" fill="#ccc"/>`;
      // ports 1 north, 2 east, 3 south, 4 west: draw each outgoing link offset to its right-hand side
      const dirs: [number, number, number][] = [[1, 0, -1], [2, 1, 0], [3, 0, 1], [4, -1, 0]];
      for (const [port, dx, dy] of dirs) {
        const nr = r + dy;
        const nc = c + dx;
        if (nr < 0 || nr >= rows || nc < 0 || nc >= cols) continue;
        const u = p.linkFlits[id * 5 + port] / p.simulatedCycles;
        const ox2 = -dy * off;
        const oy2 = dx * off;
        s += `<line x1="${(cx(c) + ox2).toFixed(1)}" y1="${(cy(r) + oy2).toFixed(1)}" x2="${(cx(nc) + ox2).toFixed(1)}" y2="${(cy(nr) + oy2).toFixed(1)}" stroke="${heat(maxU > 0 ? u / Math.max(maxU, 1e-9) : 0)}" stroke-width="${Math.max(1, size * 0.14).toFixed(1)}"><title>router[${r},${c}] ${['', 'north', 'east', 'south', 'west'][port]}: ${u.toFixed(3)} flits/cycle</title></line>`;
      }
    }
  }
  s += `<text x="${x0 + W / 2}" y="${H - 8}" text-anchor="middle" font-size="10">max link load ${maxU.toFixed(3)} flits/cycle (dark red); white = idle</text>`;
  return s;
}

export function nocSvg(points: readonly LoadPointResult[], rows: number, cols: number, label: string): string {
  const xMax = niceMax(Math.max(...points.map((p) => p.offeredFlitsPerNodeCycle)));
  const lat = points.map((p) => [p.offeredFlitsPerNodeCycle, p.avgPacketLatencyCycles] as [number, number]);
  const zero = points[0]?.zeroLoadLatencyCycles ?? 1;
  const finite = lat.map(([, y]) => y).filter((y) => Number.isFinite(y));
  const yMax = niceMax(Math.min(Math.max(...finite, zero), 6 * zero));
  const sat = points.map((p) => p.saturated);
  const acc = points.map((p) => [p.offeredFlitsPerNodeCycle, p.acceptedFlitsPerNodeCycle] as [number, number]);
  const hp = [...points].reverse().find((p) => !p.saturated) ?? points[points.length - 1];
  let body = chart(0, `Latency vs offered load (${label})`, 'offered load (flits/node/cycle)', 'avg packet latency (cycles)', [{ pts: lat, color: '#c0392b', sat }], xMax, yMax);
  body += chart(W, 'Accepted vs offered load', 'offered load (flits/node/cycle)', 'accepted (flits/node/cycle)', [
    { pts: [[0, 0], [xMax, xMax]], color: '#aaa', dash: true },
    { pts: acc, color: '#2471a3', sat },
  ], xMax, xMax);
  if (hp) body += heatmap(2 * W, rows, cols, hp, `Link load at ${hp.offeredFlitsPerNodeCycle} flits/node/cycle`);
  const note = `<text x="8" y="${H + 14}" font-size="10">hollow markers: saturated points (average latency above 3x zero-load, or the measured packets did not drain)</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${3 * W}" height="${H + 22}" font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>${body}${note}</svg>\n`;
}
