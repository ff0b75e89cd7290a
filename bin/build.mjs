#!/usr/bin/env node
// `npm run build` (also run by `npm ci` / `npm install` through the `prepare` script):
// transpile sim/, search/ and cli/ file by file to dist/ (ES modules, same layout, so a
// worker file sits beside its caller in dist/ as .js just as it does in the sources as
// .ts), copy the JSON the code imports, and record what the build was made from in
// dist/build-manifest.json. esbuild only strips types (about a second); `npm test` type-checks.
// bin/tessera.mjs runs dist/ only while that record matches the files on disk.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANIFEST, snapshot, sourceFiles, SOURCE_DIRS } from './sources.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const t0 = performance.now();
const before = snapshot(root);
const files = sourceFiles(root);
const isSource = (f) => SOURCE_DIRS.some((d) => f.startsWith(`${d}/`));
const entryPoints = files.filter((f) => isSource(f) && f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => join(root, f));
const { build } = await import('esbuild');
rmSync(join(root, 'dist'), { recursive: true, force: true });
await build({
  entryPoints,
  outdir: join(root, 'dist'),
  outbase: root,
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: 'linked',
  logLevel: 'warning',
});
for (const f of files.filter((f) => f.endsWith('.json') || f.endsWith('.mjs'))) {
  mkdirSync(dirname(join(root, 'dist', f)), { recursive: true });
  copyFileSync(join(root, f), join(root, 'dist', f));
}
// a file edited while the build ran leaves a record that no longer matches: stale, not wrong
writeFileSync(join(root, MANIFEST), `${JSON.stringify({ builtAt: new Date().toISOString(), files: before })}\n`);
if (!process.argv.includes('--quiet')) console.log(`tessera build: ${entryPoints.length} files to dist/ in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
