import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: the nearest directory above cli/ (or dist/cli/) holding traces/. */
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    dir = path.dirname(dir);
    if (fs.existsSync(path.join(dir, 'traces')) && fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
}

export const PROJECT_ROOT = findRoot();

export function projectPath(...parts: string[]): string {
  return path.join(PROJECT_ROOT, ...parts);
}
