import { presetDesign } from '../sim/design/presets.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { powerReport } from '../sim/power/report.js';
import { REFERENCE_ANCHORS } from '../sim/power/reference.js';
import { syntheticRun } from '../cli/report/sample.js';
import { renderHtml, esc } from '../cli/report/html.js';
import { renderJson, renderTerminal } from '../cli/report/terminal.js';
import { InputError } from '../sim/validate/inputError.js';

const design = presetDesign('hetero-6x6-5nm')!;
const input = syntheticRun(design, DEFAULT_TECH, REFERENCE_ANCHORS['llama-3.1-8b']);
const report = powerReport(input);
const html = renderHtml(report);

/** Tags of an HTML/SVG fragment as [name, closing, selfClosing], in order. */
function tags(s: string): [string, boolean, boolean][] {
  return [...s.replace(/<!--[\s\S]*?-->/g, '').matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g)].map((m) => [m[2].toLowerCase(), m[1] === '/', m[4] === '/']);
}

/** Every SVG element opens and closes in order (an XML well-formedness check on the SVG parts). */
function svgWellFormed(s: string): { ok: boolean; count: number; elements: Map<string, number> } {
  const svgs = [...s.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
  const elements = new Map<string, number>();
  for (const svg of svgs) {
    const stack: string[] = [];
    for (const [name, closing, self] of tags(svg)) {
      if (closing) {
        if (stack.pop() !== name) return { ok: false, count: svgs.length, elements };
      } else {
        elements.set(name, (elements.get(name) ?? 0) + 1);
        if (!self) stack.push(name);
      }
    }
    if (stack.length) return { ok: false, count: svgs.length, elements };
  }
  return { ok: true, count: svgs.length, elements };
}

describe('HTML report', () => {
  test('is one self-contained document with no external references', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/https?:/i);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|src=|href=/i);
  });

  test('has well-formed SVG: five tile heatmaps, three breakdown bars, the link-load heatmap', () => {
    const { ok, count, elements } = svgWellFormed(html);
    expect(ok).toBe(true);
    expect(count).toBe(5 + 3 + 1);
    const tiles = design.mesh.rows * design.mesh.cols;
    // Heatmap cells (5 x tiles) + one NoC load cell per router + bar segments and legends.
    expect(elements.get('rect')!).toBeGreaterThan(5 * tiles + tiles);
    expect(elements.get('title')!).toBeGreaterThanOrEqual(6 * tiles);
    for (const caption of ['WMEM (KiB)', 'FETCH width', 'VLEN (bits)', 'Utilisation', 'Tile power (W)', 'Power by category', 'Area by component', 'NoC load by router']) expect(html).toContain(caption);
    // Every router's NoC load, by its tooltip, with its links' loads.
    for (let r = 0; r < design.mesh.rows; r++) for (let c = 0; c < design.mesh.cols; c++) expect(html).toMatch(new RegExp(`router \\[${r},${c}\\]: [\\d.e-]+ flits/cycle out \\(N `));
    // Every tile's heatmap cell is present, by its tooltip.
    for (let r = 0; r < design.mesh.rows; r++) for (let c = 0; c < design.mesh.cols; c++) expect(html).toContain(`tile[${r},${c}] VLEN (bits)`);
  });

  test('the whole document is balanced outside void elements', () => {
    const voids = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);
    const stack: string[] = [];
    let ok = true;
    for (const [name, closing, self] of tags(html.replace(/<!DOCTYPE[^>]*>/i, ''))) {
      if (voids.has(name) || self) continue;
      if (closing) ok = ok && stack.pop() === name;
      else stack.push(name);
    }
    expect(ok).toBe(true);
    expect(stack).toEqual([]);
  });

  test('text is escaped', () => {
    expect(esc('<a & "b">')).toBe('&lt;a &amp; &quot;b&quot;&gt;');
    const weird = powerReport({ ...input, title: '<script>alert(1)</script>' });
    expect(renderHtml(weird)).not.toContain('<script>');
  });
});

describe('report data, terminal and JSON', () => {
  test('per-tile values follow the design overrides; power per tile plus the NoC is the chip power', () => {
    const centre = report.tiles.find((t) => t.row === 2 && t.col === 3)!;
    const corner = report.tiles.find((t) => t.row === 0 && t.col === 0)!;
    expect(centre.vlenBits).toBe(2048);
    expect(corner.vlenBits).toBe(512);
    const tileW = report.tiles.reduce((s, t) => s + (t.powerW ?? 0), 0);
    expect((tileW + report.power.byCategoryW.noc) / report.power.totalW).toBeCloseTo(1, 10);
    for (const t of report.tiles) expect(t.utilisation).toBeGreaterThan(0);
  });

  test('terminal table and JSON', () => {
    const text = renderTerminal(report);
    expect(text).toMatch(/tokens\/s/);
    expect(text).toMatch(/^leakage\s/m);
    expect(text).toMatch(/^wmem\s/m);
    const j = JSON.parse(renderJson(report));
    expect(j.metrics.areaMm2).toBeCloseTo(report.metrics.areaMm2, 9);
    expect(Object.keys(j.power.byCategoryW)).toEqual(['compute', 'sram', 'rom', 'noc', 'leakage']);
  });

  test('a link outside the mesh or between non-neighbours is rejected', () => {
    expect(() => powerReport({ ...input, linkLoads: [{ from: [0, 0], to: [0, 2], flits: 3 }] })).toThrow(InputError);
    expect(() => powerReport({ ...input, linkLoads: [{ from: [5, 5], to: [5, 6], flits: 3 }] })).toThrow(/neighbouring tiles/);
  });
});
