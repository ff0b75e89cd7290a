import { main } from '../cli/main.js';
import { memoryIo } from '../cli/io.js';
import { PALETTE } from '../cli/report/svg.js';
import { nocSvg } from '../cli/nocSvg.js';
import type { LoadPointResult } from '../sim/noc/lab.js';

/**
 * Issue 12 item 7 without a browser: legend colours are pairwise distinct (CIEDE2000 >= 10,
 * computed here from the CIE formulas), points above a plot's range are marked, and the
 * NoC load map is one cell per router with a labelled colour scale. test/render.test.ts
 * renders the same files in Chromium.
 */

/** sRGB hex -> CIELAB (D65), IEC 61966-2-1 and CIE 15. */
function lab(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
  const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
  const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

/** CIEDE2000 colour difference (Sharma, Wu and Dalal 2005, equations 1-22; kL = kC = kH = 1). */
function ciede2000([L1, a1, b1]: number[], [L2, a2, b2]: number[]): number {
  const rad = Math.PI / 180;
  const C7 = (c: number) => c ** 7 / (c ** 7 + 25 ** 7);
  const G = 0.5 * (1 - Math.sqrt(C7((Math.hypot(a1, b1) + Math.hypot(a2, b2)) / 2)));
  const a1p = (1 + G) * a1;
  const a2p = (1 + G) * a2;
  const C1p = Math.hypot(a1p, b1);
  const C2p = Math.hypot(a2p, b2);
  const hue = (b: number, a: number) => (a === 0 && b === 0 ? 0 : (Math.atan2(b, a) / rad + 360) % 360);
  const h1p = hue(b1, a1p);
  const h2p = hue(b2, a2p);
  let dhp = 0;
  if (C1p * C2p !== 0) {
    dhp = h2p - h1p;
    if (dhp > 180) dhp -= 360;
    else if (dhp < -180) dhp += 360;
  }
  const dHp = 2 * Math.sqrt(C1p * C2p) * Math.sin((dhp * rad) / 2);
  const Lm = (L1 + L2) / 2;
  const Cm = (C1p + C2p) / 2;
  let hm = h1p + h2p;
  if (C1p * C2p !== 0) hm = Math.abs(h1p - h2p) > 180 ? (hm + (hm < 360 ? 360 : -360)) / 2 : hm / 2;
  const T = 1 - 0.17 * Math.cos((hm - 30) * rad) + 0.24 * Math.cos(2 * hm * rad) + 0.32 * Math.cos((3 * hm + 6) * rad) - 0.2 * Math.cos((4 * hm - 63) * rad);
  const Rt = -Math.sin(2 * 30 * Math.exp(-(((hm - 275) / 25) ** 2)) * rad) * 2 * Math.sqrt(C7(Cm));
  const Sl = 1 + (0.015 * (Lm - 50) ** 2) / Math.sqrt(20 + (Lm - 50) ** 2);
  const Sc = 1 + 0.045 * Cm;
  const Sh = 1 + 0.015 * Cm * T;
  const dL = (L2 - L1) / Sl;
  const dC = (C2p - C1p) / Sc;
  const dH = dHp / Sh;
  return Math.sqrt(dL ** 2 + dC ** 2 + dH ** 2 + Rt * dC * dH);
}

function minPairwise(colours: readonly string[]): number {
  let min = Infinity;
  for (let i = 0; i < colours.length; i++) for (let j = i + 1; j < colours.length; j++) min = Math.min(min, ciede2000(lab(colours[i]), lab(colours[j])));
  return min;
}

describe('legend colours', () => {
  test('CIEDE2000 reproduces Sharma et al.\'s test pairs', () => {
    expect(ciede2000([50, 2.6772, -79.7751], [50, 0, -82.7485])).toBeCloseTo(2.0425, 4);
    expect(ciede2000([50, 0, 0], [50, -1, 2])).toBeCloseTo(2.3669, 4);
    expect(ciede2000([50, 2.5, 0], [73, 25, -18])).toBeCloseTo(27.1492, 4);
    expect(ciede2000([50, 2.5, 0], [61, -5, 29])).toBeCloseTo(22.8977, 4);
  });

  test('the palette is pairwise at least 10 apart', () => {
    expect(minPairwise(PALETTE)).toBeGreaterThanOrEqual(10);
  });

  test('every legend of the npm start report uses pairwise distinct colours (CIEDE2000 >= 10)', async () => {
    const io = memoryIo();
    expect(await main(['start', '--report', 'r.html', '--quiet'], io)).toBe(0);
    const html = String(io.written.get('r.html'));
    const figures = [...html.matchAll(/<figure class="bar"><figcaption>([^<]*)<\/figcaption>(.*?)<\/figure>/g)];
    expect(figures.length).toBeGreaterThanOrEqual(3);
    for (const [, caption, svg] of figures) {
      // legend swatches are the 10x10 squares
      const swatches = [...svg.matchAll(/<rect x="0" y="[\d.-]+" width="10" height="10" fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
      expect(swatches.length).toBeGreaterThan(1);
      expect({ caption, min: Math.min(10, minPairwise(swatches)) }).toEqual({ caption, min: 10 });
    }
  }, 120_000);
});

function point(rate: number, latency: number, saturated: boolean, rows: number, cols: number): LoadPointResult {
  return {
    offeredFlitsPerNodeCycle: rate, acceptedFlitsPerNodeCycle: Math.min(rate, 0.3), avgPacketLatencyCycles: latency, avgNetworkLatencyCycles: latency, p99PacketLatencyCycles: latency,
    avgHops: 5, zeroLoadLatencyCycles: 20, saturated, converged: Number.isFinite(latency), packetsMeasured: 100, simulatedCycles: 1000, routerEvaluations: 0, eventsDispatched: 0,
    maxBufferOccupancyFlits: 0, minCredits: 0, flitsInFlightAtEnd: 0, linkFlits: Array.from({ length: rows * cols * 5 }, (_, k) => (k % 5 === 0 ? 0 : k)), counters: {},
  };
}

describe('NoC SVG', () => {
  const rows = 41;
  const cols = 42;
  // 20 cycles zero-load: the axis stops at 6x = 120; 500 and a point that never drained lie above it
  const svg = nocSvg([point(0.1, 25, false, rows, cols), point(0.2, 500, true, rows, cols), point(0.3, Infinity, true, rows, cols)], rows, cols, '41x42 uniform, 2 VCs x 4 flits, 1-flit packets, flit');

  test('points above the latency axis are drawn as triangles on its top edge, with their value', () => {
    const above = [...svg.matchAll(/<path d="M[^"]*Z"[^>]*><title>([^<]*)<\/title><\/path>/g)].map((m) => m[1]);
    expect(above).toEqual(['offered 0.2: latency 500, saturated (above the axis)', 'offered 0.3: latency unbounded (the measured packets did not drain), saturated (above the axis)']);
  });

  test('the load map has one cell per router and a labelled colour scale; the panel titles are whole', () => {
    const cells = [...svg.matchAll(/<rect [^>]*><title>router \[(\d+),(\d+)\]/g)];
    expect(cells).toHaveLength(rows * cols);
    expect(svg).toMatch(/router load: flits\/cycle out on its links/);
    expect(svg).toMatch(/>Latency vs offered load</);
    expect(svg).toMatch(/viewBox="0 0 \d+ \d+"/);
  });
});
