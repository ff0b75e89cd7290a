import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { main } from '../cli/main.js';
import { memoryIo } from '../cli/io.js';
import { synthLabels, writeLabelFile } from './search-helpers.js';
import { parseLabelFile } from '../search/label/file.js';

/**
 * `tessera explore` end to end on the `tiny` model (fast simulations, a surrogate trained
 * briefly on synthetic labels): the results are the same for 1 and 2 workers, a run killed
 * with SIGKILL and resumed ends with the results of an uninterrupted one, the run folder
 * holds what the issue lists (design files `tessera sim` accepts among them), and bad
 * options or a corrupt checkpoint give a one-line error with exit code 2.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-explore-'));
const labels = path.join(dir, 'synth.msgpack');
const OPTIONS: Record<string, string> = { model: 'tiny', nodes: '7', episodes: '9', 'episode-steps': '3', 'spot-check-every': '3', 'sim-budget': '4', labels, 'surrogate-steps': '100', 'fine-tune-steps': '20', algo: 'sac,ga' };
/** The test's options, some replaced. */
const common = (replace: Record<string, string> = {}) => ['explore', ...Object.entries({ ...OPTIONS, ...replace }).flatMap(([k, v]) => [`--${k}`, v]), '--quiet'];
const env = { ...process.env, TESSERA_FROM_SOURCE: '1' };

async function run(args: string[]) {
  const io = memoryIo();
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

/** summary.json without wall times (the one thing that may differ between equal runs). */
function results(out: string): unknown {
  const s = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  return JSON.parse(JSON.stringify(s, (k, v) => (/seconds$/i.test(k) ? 0 : v)));
}

const outA = path.join(dir, 'a');

beforeAll(async () => {
  writeLabelFile(labels, synthLabels(120));
  const r = await run([...common(), '--workers', '1', '--out', outA]);
  expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
}, 300_000);

describe('tessera explore', () => {
  test('the run folder holds checkpoints, labels, designs, summary, curves, Pareto archive and report', async () => {
    for (const f of ['manifest.json', 'summary.json', 'curves.json', 'pareto.json', 'report.html', 'labels.msgpack', 'surrogate-initial.msgpack', 'checkpoints/sac-s1.msgpack', 'checkpoints/ga-s1.msgpack', 'designs/best-7nm.json', 'designs/sac-s1-7nm.json']) {
      expect({ f, exists: fs.existsSync(path.join(outA, f)) }).toEqual({ f, exists: true });
    }
    const s = JSON.parse(fs.readFileSync(path.join(outA, 'summary.json'), 'utf8'));
    for (const algo of ['sac', 'ga']) {
      const e = s.perNode['7'][algo];
      for (const k of ['bestSimulatedPpaScore', 'bestDesignFile', 'simulatorCalls', 'surrogateCalls', 'surrogateErrorOnFinal', 'wallSeconds']) expect(e).toHaveProperty(k);
      // the budgets: at most 4 simulations; 9 episodes x (3 steps + 1 start) surrogate evaluations
      expect(e.simulatorCalls).toBeLessThanOrEqual(4);
      expect(e.surrogateCalls).toBe(36);
    }
    // every label the run added is in its label file, one per design
    const file = parseLabelFile(fs.readFileSync(path.join(outA, 'labels.msgpack')), 'labels.msgpack');
    expect(file.labels.length).toBeGreaterThan(0);
    expect(file.duplicates).toBe(0);
    // SAC's training statistics, one entry per segment (3 segments of 3 episodes x 3 steps)
    const sacCurves = JSON.parse(fs.readFileSync(path.join(outA, 'curves.json'), 'utf8')).find((c: { runId: string }) => c.runId === 'sac-s1');
    expect(sacCurves.sacStats.map((x: { segment: number; steps: number }) => [x.segment, x.steps])).toEqual([[0, 9], [1, 18], [2, 27]]);
    for (const x of sacCurves.sacStats) {
      expect(x.randomSteps + x.policySteps).toBe(9);
      expect(x.distinctDesigns).toBeGreaterThanOrEqual(1);
      expect(x.distinctDesigns).toBeLessThanOrEqual(9);
      expect(x.saturated).toBeGreaterThanOrEqual(0);
      expect(x.saturated).toBeLessThanOrEqual(1);
    }
    expect(fs.readFileSync(path.join(outA, 'report.html'), 'utf8')).toMatch(/Table 10[\s\S]*Learning curves[\s\S]*Surrogate error over time[\s\S]*Pareto fronts[\s\S]*Tile maps/);
    // a best design is a design file `tessera sim` accepts
    const sim = await run(['sim', '--model', 'tiny', '--design', path.join(outA, 'designs/best-7nm.json'), '--trace', 'decode:2@64', '--json']);
    expect([0, 3]).toContain(sim.code);
    expect(sim.err).not.toMatch(/internal error/);
  });

  test('results are identical with 2 workers', async () => {
    const outB = path.join(dir, 'b');
    const r = await run([...common(), '--workers', '2', '--out', outB]);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    expect(results(outB)).toEqual(results(outA));
  }, 300_000);

  test('killed with SIGKILL after a checkpoint and resumed, a run ends with the uninterrupted results', async () => {
    const outC = path.join(dir, 'c');
    const checkpoint = path.join(outC, 'checkpoints', 'sac-s1.msgpack');
    await new Promise<void>((resolve, reject) => {
      const child = spawn('node', ['bin/tessera.mjs', ...common(), '--workers', '1', '--out', outC], { env, stdio: 'ignore' });
      const timer = setInterval(() => {
        if (fs.existsSync(checkpoint)) {
          child.kill('SIGKILL');
          clearInterval(timer);
        }
      }, 10);
      child.on('exit', (_code, signal) => {
        clearInterval(timer);
        if (signal !== 'SIGKILL') reject(new Error(`the run ended before it could be killed (signal ${signal})`));
        else resolve();
      });
    });
    expect(fs.existsSync(path.join(outC, 'summary.json'))).toBe(false);
    const r = await run([...common(), '--workers', '1', '--out', outC, '--resume']);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    expect(results(outC)).toEqual(results(outA));
    // the training statistics survive the kill too (they travel in the checkpoint)
    const stats = (out: string) => JSON.parse(fs.readFileSync(path.join(out, 'curves.json'), 'utf8')).map((c: { sacStats?: unknown }) => c.sacStats ?? null);
    expect(stats(outC)).toEqual(stats(outA));
  }, 300_000);

  test('a corrupt checkpoint is detected, not loaded', async () => {
    const outD = path.join(dir, 'd');
    fs.cpSync(outA, outD, { recursive: true });
    const file = path.join(outD, 'checkpoints', 'sac-s1.msgpack');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 100] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const r = await run([...common(), '--workers', '1', '--out', outD, '--resume']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/corrupt checkpoint.*CRC-32/);
  });

  test.each([
    [{ nodes: '6' }, /--nodes|nodes/],
    [{ algo: 'sac,ppo' }, /--algo.*ppo/],
    [{ episodes: '0' }, /--episodes.*0/],
    [{ 'spot-check-every': '1' }, /below one spot check/],
    [{ freeze: 'tile' }, /--design/],
    [{ freeze: 'tile.bogus', design: 'tiny-2x2' }, /--freeze.*tile\.bogus/],
  ])('bad option %j: one-line error, exit 2', async (extra, pattern) => {
    const r = await run([...common(extra), '--out', path.join(dir, 'never')]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(pattern);
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });

  test('--resume of a run folder made for another model is refused in one line', async () => {
    const r = await run([...common({ model: 'smollm2-135m' }), '--out', outA, '--resume']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/model/);
  });
});
