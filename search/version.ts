import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TechTable } from '../sim/tech/table.js';

/**
 * Versions that travel with every label and model (docs/search.md "Versions"):
 *
 * - the simulator version: a hash of the simulator's TypeScript sources (`sim/**.ts`) and
 *   of the technology table in use, so labels from different simulators are never mixed;
 * - the code version (for the job queue of issue 15): sources of `sim/` and `search/` and
 *   the lock file.
 *
 * Sources are hashed as files (path and bytes), sorted by path, from the project root (the
 * same whether the code runs from the TypeScript sources or from `dist/`).
 */

/** The project root: the nearest directory above this file holding package.json and the sim/ sources. */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    dir = path.dirname(dir);
    // the sources' root, not dist/ (which holds package.json and sim/ too, compiled to .js)
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'sim', 'kernel', 'simulator.ts'))) return dir;
  }
  throw new Error('cannot find the project root (package.json beside sim/) above search/version');
}

function tsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const p = path.join(dir, e.name);
      return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
    })
    .sort();
}

const memo = new Map<string, string>();

/** Hash of the given project-relative folders' .ts files and extra files (12 hex digits). */
export function sourceHash(folders: readonly string[], files: readonly string[] = []): string {
  const key = JSON.stringify([folders, files]);
  const hit = memo.get(key);
  if (hit) return hit;
  const root = projectRoot();
  const h = createHash('sha256');
  const all = [...folders.flatMap((f) => tsFiles(path.join(root, f))), ...files.map((f) => path.join(root, f))];
  for (const f of all) {
    h.update(path.relative(root, f).split(path.sep).join('/'));
    h.update('\0');
    h.update(fs.existsSync(f) ? fs.readFileSync(f) : Buffer.alloc(0));
    h.update('\0');
  }
  const out = h.digest('hex').slice(0, 12);
  memo.set(key, out);
  return out;
}

/** Hash of a technology table's values (12 hex digits). */
export function techHash(tech: TechTable): string {
  return createHash('sha256').update(JSON.stringify(tech)).digest('hex').slice(0, 12);
}

/** `sim-<sources>-tech-<table>`: labels with different simulator versions are never mixed. */
export function simulatorVersion(tech: TechTable): string {
  return `sim-${sourceHash(['sim'])}-tech-${techHash(tech)}`;
}

/** Code version for distributed workers: sim/, search/ and the lock file. */
export function codeVersion(): string {
  return `code-${sourceHash(['sim', 'search'], ['package-lock.json'])}`;
}
