#!/usr/bin/env node
// Entry point of the `tessera` command. It runs the compiled build in dist/ (made by
// `npm ci` / `npm run build`) when that build was made from exactly the files on disk
// (bin/sources.mjs), and otherwise the TypeScript sources through tsx, so a stale build
// never shadows an edited source. TESSERA_FROM_SOURCE=1 forces the sources.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { buildIsFresh } from './sources.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// A reader that stops early (`tessera ... --json | head`) closes the pipe: stop quietly,
// as Unix tools do, instead of dying on an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
let mod;
if (process.env.TESSERA_FROM_SOURCE === undefined && buildIsFresh(root)) {
  if (process.env.TESSERA_DEBUG) process.setSourceMapsEnabled(true);
  mod = await import(pathToFileURL(join(root, 'dist', 'cli', 'main.js')).href);
} else {
  if (process.stderr.isTTY && process.env.TESSERA_FROM_SOURCE === undefined) {
    process.stderr.write('tessera: dist/ is missing or older than the sources; running the sources through tsx (`npm run build` makes start-up fast again)\n');
  }
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import(pathToFileURL(join(root, 'cli', 'main.ts')).href);
}
process.exitCode = await mod.main(process.argv.slice(2));
