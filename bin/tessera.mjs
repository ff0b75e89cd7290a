#!/usr/bin/env node
// Entry point of the `tessera` command: runs the TypeScript CLI through tsx
// (or the compiled dist/ build when `npm run build` has produced one).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// A reader that stops early (`tessera ... --json | head`) closes the pipe: stop quietly,
// as Unix tools do, instead of dying on an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const built = join(root, 'dist', 'cli', 'main.js');
let mod;
if (existsSync(built) && process.env.TESSERA_FROM_SOURCE === undefined) {
  mod = await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import(pathToFileURL(join(root, 'cli', 'main.ts')).href);
}
process.exitCode = await mod.main(process.argv.slice(2));
