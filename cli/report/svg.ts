/**
 * Pieces shared by the hand-written SVG plots (HTML report, `tessera noc --svg`): escaping,
 * the sequential colour scale with its labelled key, a categorical palette whose colours
 * are pairwise distinct, and a per-router load map with axes that stays readable on a
 * 41x42 mesh.
 */

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Sequential colour scale (viridis: dark blue -> teal -> yellow), t in [0, 1]. */
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

/**
 * Categorical colours for legends, pairwise at least 12 apart in CIEDE2000 (a test
 * checks >= 10): Tableau 10 first, then colours from Sasha Trubetskoy's list of 20
 * distinct colours and Tableau 20 that keep that distance. A legend with more entries
 * than colours merges its smallest into "other" (`stackedBar`).
 */
export const PALETTE: readonly string[] = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#9467bd', '#8c564b', '#7f7f7f', '#000075', '#800000', '#808000', '#f032e6', '#aaffc3', '#ffd8b1', '#dcbeff', '#911eb4', '#42d4f4', '#bfef45', '#000000'];

/** A compact number for tick labels: 0.0312, 1.25, 840, 12.5k. */
export function tick(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 10_000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

/** Rough width of a label in sans-serif at `fontSize` (layout only; the render test checks the real boxes). */
export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

/**
 * A horizontal key for `heatColour`: a gradient bar from 0 to `max` with five labelled
 * ticks and a caption above it. Occupies [x, x + width] x [y, y + 38].
 */
export function colourScale(x: number, y: number, width: number, max: number, caption: string): string {
  const steps = 40;
  let s = `<text x="${x}" y="${y + 10}" font-size="10">${esc(caption)}</text>`;
  for (let k = 0; k < steps; k++) s += `<rect x="${(x + (k * width) / steps).toFixed(1)}" y="${y + 14}" width="${(width / steps + 0.5).toFixed(1)}" height="9" fill="${heatColour(k / (steps - 1))}"/>`;
  for (let k = 0; k <= 4; k++) {
    const tx = x + (k * width) / 4;
    const anchor = k === 0 ? 'start' : k === 4 ? 'end' : 'middle';
    s += `<line x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="${y + 23}" y2="${y + 26}" stroke="#333"/><text x="${tx.toFixed(1)}" y="${y + 36}" font-size="9" text-anchor="${anchor}">${tick((max * k) / 4)}</text>`;
  }
  return s;
}

export interface MeshMapOptions {
  /** Top-left corner of the grid (axis labels go left of and above it). */
  readonly x: number;
  readonly y: number;
  /** Cell pitch in px. */
  readonly cell: number;
  readonly rows: number;
  readonly cols: number;
  /** Value of router (r, c), and the largest value (the scale's top). */
  readonly value: (r: number, c: number) => number;
  readonly max: number;
  /** Tooltip of a router. */
  readonly title: (r: number, c: number) => string;
}

/** Every k-th index, k chosen for at most ~8 labels, always including 0 and n - 1. */
function tickIndices(n: number): number[] {
  const k = Math.max(1, Math.ceil(n / 8));
  const out: number[] = [];
  for (let i = 0; i < n; i += k) out.push(i);
  if (out[out.length - 1] !== n - 1 && n - 1 - out[out.length - 1] >= k / 2) out.push(n - 1);
  return out;
}

/**
 * One square per router coloured by its load, with column numbers above and row numbers to
 * the left (12 px each side): readable at any mesh size where per-link arrows turn into a
 * moire pattern. Returns the SVG and the grid's width and height.
 */
export function meshLoadMap(o: MeshMapOptions): string {
  let s = '';
  for (let r = 0; r < o.rows; r++) {
    for (let c = 0; c < o.cols; c++) {
      const v = o.value(r, c);
      s += `<rect x="${(o.x + c * o.cell).toFixed(2)}" y="${(o.y + r * o.cell).toFixed(2)}" width="${o.cell.toFixed(2)}" height="${o.cell.toFixed(2)}" fill="${heatColour(o.max > 0 ? v / o.max : 0)}"${o.cell >= 8 ? ' stroke="#fff" stroke-width="0.5"' : ''}><title>${esc(o.title(r, c))}</title></rect>`;
    }
  }
  for (const c of tickIndices(o.cols)) s += `<text x="${(o.x + (c + 0.5) * o.cell).toFixed(1)}" y="${o.y - 3}" font-size="8" text-anchor="middle">${c}</text>`;
  for (const r of tickIndices(o.rows)) s += `<text x="${o.x - 3}" y="${(o.y + (r + 0.5) * o.cell + 3).toFixed(1)}" font-size="8" text-anchor="end">${r}</text>`;
  return s;
}
