import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

/**
 * The runnable examples of README.md and docs/*.md (the convention in TEAM.md):
 *
 * - every line starting `npx tessera` inside a ```sh block of README.md is an example;
 *   in docs/*.md only blocks preceded by the line `<!-- runnable -->` are;
 * - a block preceded by `<!-- not-runnable: REASON -->` is skipped;
 * - a line ending with the comment `# bench-only` is a long run: `npm run bench -- readme`
 *   runs it, the test does not.
 *
 * Examples run in order, in one scratch folder whose entries link to the project's
 * top-level folders (so `models/...` and `test/fixtures/...` resolve as in a clone, and
 * files the examples write land in the scratch folder), with `npx tessera` replaced by
 * `node <project>/bin/tessera.mjs` (what npx runs, without its start-up).
 */

export interface Example {
  readonly file: string;
  readonly line: number;
  readonly command: string;
  readonly benchOnly: boolean;
}

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

export function extractExamples(file: string, text: string, allBlocks: boolean): Example[] {
  const lines = text.split('\n');
  const out: Example[] = [];
  let inBlock = false;
  let runnable = false;
  let prev = '';
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (!inBlock && /^```sh\s*$/.test(l)) {
      inBlock = true;
      runnable = prev.startsWith('<!-- not-runnable') ? false : allBlocks || prev.trim() === '<!-- runnable -->';
      continue;
    }
    if (inBlock && /^```\s*$/.test(l)) {
      inBlock = false;
      continue;
    }
    if (l.trim() !== '') prev = l.trim();
    if (!inBlock || !runnable || !l.startsWith('npx tessera')) continue;
    let command = l;
    while (command.endsWith('\\') && i + 1 < lines.length) command = `${command.slice(0, -1)} ${lines[++i].trim()}`;
    out.push({ file, line: i + 1, command, benchOnly: /#\s*bench-only\s*$/.test(command) });
  }
  return out;
}

/** Every example of README.md and of the runnable blocks of docs/*.md, in reading order. */
export function allExamples(root = ROOT): Example[] {
  const docs = fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).sort();
  return [
    ...extractExamples('README.md', fs.readFileSync(path.join(root, 'README.md'), 'utf8'), true),
    ...docs.flatMap((f) => extractExamples(`docs/${f}`, fs.readFileSync(path.join(root, 'docs', f), 'utf8'), false)),
  ];
}

/** A scratch folder that looks like a clone's root (links to its folders and files). */
export function scratchRoot(root = ROOT): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-examples-'));
  for (const e of fs.readdirSync(root)) if (!e.startsWith('.') && e !== 'dist') fs.symlinkSync(path.join(root, e), path.join(dir, e));
  return dir;
}

export interface ExampleRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
  /** Why the run does not count as a success (empty when it does). */
  readonly problems: string[];
}

/** Run one example in `cwd`; a success exits 0, prints no NaN and reports no infeasible design. */
export function runExample(ex: Example, cwd: string, timeoutMs: number, root = ROOT): ExampleRun {
  const command = ex.command.replace(/\bnpx tessera\b/g, `node ${JSON.stringify(path.join(root, 'bin', 'tessera.mjs'))}`);
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', command], { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 512 * 1024 * 1024, env: { ...process.env } });
  const seconds = (performance.now() - t0) / 1000;
  const problems: string[] = [];
  if (r.error) problems.push(`did not finish: ${r.error.message}`);
  if (r.status !== 0) problems.push(`exit code ${r.status}${r.status === 3 ? ' (infeasible design)' : ''}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  if (/\bNaN\b/.test(r.stdout) || /\bNaN\b/.test(r.stderr)) problems.push('prints NaN');
  if (/^INFEASIBLE/m.test(r.stdout) || /"feasible": false/.test(r.stdout)) problems.push('reports an infeasible design');
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', seconds, problems };
}
