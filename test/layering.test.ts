import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Architecture rules (DEVELOPERS.md "How we build"): imports point down only,
 * cli -> search -> sim -> (models, units); the simulation core does no I/O, reads no
 * clock and draws no unseeded random number.
 */
function files(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : /\.ts$/.test(e.name) ? [p] : [];
  });
}

function imports(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  return [...src.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]);
}

function layerOf(fromFile: string, spec: string): string {
  if (!spec.startsWith('.')) return spec.startsWith('node:') ? 'node' : 'package';
  const target = path.relative('.', path.resolve(path.dirname(fromFile), spec));
  return target.split(path.sep)[0];
}

describe('layering', () => {
  test('sim/ imports only sim/, models/ and pure packages', () => {
    for (const f of files('sim')) {
      for (const spec of imports(f)) {
        const layer = layerOf(f, spec);
        expect({ file: f, spec, ok: ['sim', 'models', 'package'].includes(layer) }).toEqual({ file: f, spec, ok: true });
      }
    }
  });

  test('search/ never imports cli/', () => {
    for (const f of files('search')) for (const spec of imports(f)) expect({ f, spec, layer: layerOf(f, spec) }).not.toMatchObject({ layer: 'cli' });
  });

  test('the simulation core does no I/O, reads no clock and uses no unseeded randomness', () => {
    const banned = [/\bprocess\./, /\bDate\.now\b/, /\bnew Date\(/, /\bperformance\.now\b/, /\bMath\.random\b/, /\brequire\(/, /\bconsole\./];
    for (const f of files('sim')) {
      const src = fs.readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      for (const re of banned) expect({ file: f, pattern: String(re), found: re.test(src) }).toEqual({ file: f, pattern: String(re), found: false });
    }
  });
});
