// Which files a build of Tessera is made from, and whether dist/ still matches them.
// Shared by bin/tessera.mjs (is the build fresh?) and bin/build.mjs (record what was built).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Source folders compiled into dist/, and the JSON files their code imports. */
export const SOURCE_DIRS = ['sim', 'search', 'cli'];
export const EXTRA_FILES = ['package.json'];
export const EXTRA_DIRS = ['models'];
export const MANIFEST = join('dist', 'build-manifest.json');

function walk(root, dir, out) {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) walk(root, rel, out);
    else if (e.isFile()) out.push(rel);
  }
}

/** Every file the build depends on, as paths relative to the project root, sorted. */
export function sourceFiles(root) {
  const out = [];
  for (const d of [...SOURCE_DIRS, ...EXTRA_DIRS]) walk(root, d, out);
  for (const f of EXTRA_FILES) out.push(f);
  return out.sort();
}

/** path -> [size, mtimeMs] of every source file: what a build was made from. */
export function snapshot(root) {
  const files = {};
  for (const f of sourceFiles(root)) {
    try {
      const st = statSync(join(root, f));
      files[f] = [st.size, st.mtimeMs];
    } catch {
      // vanished between listing and stat: left out, so the build counts as stale
    }
  }
  return files;
}

/**
 * True when dist/ was built from exactly the files on disk now: the same set of files,
 * each with the size and modification time recorded at build time. Any edit, checkout,
 * added or removed file makes the build stale, so it never shadows the sources.
 */
export function buildIsFresh(root) {
  let recorded;
  try {
    recorded = JSON.parse(readFileSync(join(root, MANIFEST), 'utf8')).files;
  } catch {
    return false;
  }
  const now = snapshot(root);
  const keys = Object.keys(now);
  if (keys.length !== Object.keys(recorded).length) return false;
  for (const k of keys) {
    const r = recorded[k];
    if (!r || r[0] !== now[k][0] || r[1] !== now[k][1]) return false;
  }
  return true;
}
