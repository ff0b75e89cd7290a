import * as fs from 'node:fs';
import { allExamples, extractExamples, runExample, scratchRoot } from './readme-examples.js';

/**
 * Issue 12 item 1: every `npx tessera` example of README.md (and of docs/*.md blocks marked
 * runnable) runs on this checkout, exits 0, reports no infeasible design and prints no
 * NaN. Bench-only examples (long traces) run in `npm run bench -- readme`. The whole test
 * has five minutes.
 */

const examples = allExamples();

describe('README examples', () => {
  test('the README keeps the examples the issue asks for', () => {
    const cmds = examples.map((e) => e.command);
    // a Llama 3.1 8B paper preset, at least 20 Azure requests (runnable and bench-only), an image request
    expect(cmds.some((c) => /--design paper-llama-\d+nm\b.*--model llama-3\.1-8b/.test(c) && !/bench-only/.test(c))).toBe(true);
    expect(cmds.filter((c) => /--trace azure-\w+ --requests (\d+)/.test(c) && Number(/--requests (\d+)/.exec(c)![1]) >= 20).length).toBeGreaterThanOrEqual(2);
    expect(cmds.some((c) => /image=\d+x\d+/.test(c) && /tessera sim/.test(c))).toBe(true);
    expect(examples.filter((e) => e.benchOnly).length).toBeGreaterThanOrEqual(1);
  });

  test('the extractor follows the markers', () => {
    const md = ['```sh', 'npx tessera list', 'npx tessera sim --x # bench-only', 'echo no', '```', '<!-- not-runnable: needs a server -->', '```sh', 'npx tessera nope', '```', '<!-- runnable -->', '', '```sh', 'npx tessera a \\', '  --b', '```'].join('\n');
    expect(extractExamples('x.md', md, true).map((e) => [e.command, e.benchOnly])).toEqual([['npx tessera list', false], ['npx tessera sim --x # bench-only', true], ['npx tessera a  --b', false]]);
    expect(extractExamples('x.md', md, false).map((e) => e.command)).toEqual(['npx tessera a  --b']);
  });

  test('every example runs: exit 0, feasible, no NaN (bench-only ones excepted)', () => {
    const cwd = scratchRoot();
    const failures: string[] = [];
    const t0 = performance.now();
    for (const ex of examples.filter((e) => !e.benchOnly)) {
      const left = 290_000 - (performance.now() - t0);
      const r = runExample(ex, cwd, Math.max(1000, Math.floor(left)));
      console.log(`${r.seconds.toFixed(1).padStart(6)} s  ${ex.file}:${ex.line}  ${ex.command}`);
      if (r.problems.length) failures.push(`${ex.file}:${ex.line} ${ex.command}: ${r.problems.join('; ')}`);
    }
    fs.rmSync(cwd, { recursive: true, force: true });
    expect(failures).toEqual([]);
  }, 300_000);
});
