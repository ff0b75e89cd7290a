import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

/**
 * Issue 12 item 8: the build in dist/ runs only while it matches the sources; any edit,
 * added file or touched file makes `tessera` run the sources instead, so a stale build
 * never shadows them. Checked in a scratch copy of the project (its own dist/), with a
 * marker written into the build and another into the sources. Start-up time itself is a
 * benchmark: `npm run bench -- startup`.
 */

const ROOT = path.resolve('.');

function copyProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-build-'));
  for (const d of ['bin', 'cli', 'sim', 'search', 'models']) if (fs.existsSync(d)) fs.cpSync(path.join(ROOT, d), path.join(dir, d), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  for (const l of ['node_modules', 'traces']) fs.symlinkSync(path.join(ROOT, l), path.join(dir, l));
  return dir;
}

function tessera(dir: string, args: string[]): string {
  const { TESSERA_FROM_SOURCE: _forced, ...env } = process.env;
  const r = spawnSync(process.execPath, [path.join(dir, 'bin', 'tessera.mjs'), ...args], { cwd: dir, encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`tessera ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function build(dir: string): void {
  const r = spawnSync(process.execPath, [path.join(dir, 'bin', 'build.mjs'), '--quiet'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
}

const USAGE = 'Tessera: co-design of 2D-mesh AI-inference ASICs';

describe('the build never shadows the sources', () => {
  test('dist/ runs while fresh; an edit, a new file or a touched file sends tessera to the sources', () => {
    const dir = copyProject();
    try {
      build(dir);
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'dist', 'build-manifest.json'), 'utf8'));
      expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining(['cli/main.ts', 'sim/chip/run.ts', 'models/llama-3.1-8b.json', 'package.json']));
      // the build holds every source as .js in the same layout (worker files find their siblings)
      for (const f of Object.keys(manifest.files).filter((x) => x.endsWith('.ts'))) expect({ f, built: fs.existsSync(path.join(dir, 'dist', f.replace(/\.ts$/, '.js'))) }).toEqual({ f, built: true });
      // mark the build: a fresh build is what runs
      const built = path.join(dir, 'dist', 'cli', 'main.js');
      fs.writeFileSync(built, fs.readFileSync(built, 'utf8').replace(USAGE, 'FROM-DIST'));
      expect(tessera(dir, ['--help'])).toContain('FROM-DIST');

      // an edited source: the sources run, not the build
      const src = path.join(dir, 'cli', 'main.ts');
      fs.writeFileSync(src, fs.readFileSync(src, 'utf8').replace(USAGE, 'FROM-SOURCE'));
      const edited = tessera(dir, ['--help']);
      expect(edited).toContain('FROM-SOURCE');
      expect(edited).not.toContain('FROM-DIST');

      // rebuilt: fresh again (the build now carries the edit)
      build(dir);
      expect(tessera(dir, ['--help'])).toContain('FROM-SOURCE');
      fs.writeFileSync(built, fs.readFileSync(built, 'utf8').replace('FROM-SOURCE', 'FROM-DIST'));
      expect(tessera(dir, ['--help'])).toContain('FROM-DIST');

      // a new source file, then a touched one (same bytes, new time): stale each time
      fs.writeFileSync(path.join(dir, 'sim', 'extra.ts'), 'export const extra = 1;\n');
      expect(tessera(dir, ['--help'])).not.toContain('FROM-DIST');
      fs.rmSync(path.join(dir, 'sim', 'extra.ts'));
      expect(tessera(dir, ['--help'])).toContain('FROM-DIST');
      const later = new Date(Date.now() + 5000);
      fs.utimesSync(path.join(dir, 'sim', 'chip', 'run.ts'), later, later);
      expect(tessera(dir, ['--help'])).not.toContain('FROM-DIST');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
