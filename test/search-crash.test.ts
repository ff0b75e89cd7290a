import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { parseLabelFile, frame } from '../search/label/file.js';
import { runLabels } from '../search/label/run.js';
import { InlineRunner } from '../search/label/pool.js';
import { runLabelJob, type LabelRecord } from '../search/label/job.js';
import { builtinModel } from '../sim/model/catalog.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';

/**
 * Crash test (issue 17): a `tessera label` run killed with SIGKILL part-way and resumed
 * ends with the labels of an uninterrupted run with the same seed, equal in every field
 * but the wall time, for 1 and 2 workers. The reference run is in-process (one thread), so
 * the comparison also checks that labels do not depend on the worker count.
 */

const COUNT = 6;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-crash-'));
const env = { ...process.env, TESSERA_FROM_SOURCE: '1' };
const args = (out: string, workers: number) => ['bin/tessera.mjs', 'label', '--model', 'tiny', '--nodes', '7,28', '--count', String(COUNT), '--seed', '5', '--workers', String(workers), '--out', out, '--quiet'];

const strip = (l: LabelRecord) => ({ ...l, wallSeconds: 0 });

let reference: LabelRecord[];

beforeAll(async () => {
  const out = path.join(dir, 'reference.msgpack');
  const card = builtinModel('tiny')!;
  await runLabels({ out, count: COUNT, resume: false, runner: new InlineRunner(runLabelJob), settings: { modelName: 'tiny', card, nodes: [7, 28], seed: 5, fidelity: 'fast', workload: 'llm-decode-v2', eventLimit: 50_000_000, tech: DEFAULT_TECH } });
  reference = parseLabelFile(fs.readFileSync(out), out).labels.map(strip);
}, 300_000);

/** Start a run, SIGKILL it once the file holds `atLeast` labels; returns how many it had. */
function killPartWay(out: string, workers: number, atLeast: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', args(out, workers), { env, stdio: 'ignore' });
    const timer = setInterval(() => {
      if (!fs.existsSync(out)) return;
      try {
        const n = parseLabelFile(fs.readFileSync(out), out).labels.length;
        if (n >= atLeast) {
          child.kill('SIGKILL');
          clearInterval(timer);
        }
      } catch {
        // the header is being written
      }
    }, 20);
    child.on('exit', (_code, signal) => {
      clearInterval(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`the run ended before it could be killed (signal ${signal})`));
      resolve(parseLabelFile(fs.readFileSync(out), out).labels.length);
    });
  });
}

describe.each([1, 2])('label run killed with SIGKILL and resumed, %i worker(s)', (workers) => {
  test('ends with the labels of the uninterrupted run, no duplicates', async () => {
    const out = path.join(dir, `killed-${workers}.msgpack`);
    const had = await killPartWay(out, workers, 2);
    expect(had).toBeGreaterThanOrEqual(2);
    expect(had).toBeLessThan(COUNT);
    // a torn last frame, as a kill in the middle of a write would leave
    fs.appendFileSync(out, frame({ index: 999, torn: true }).subarray(0, 20));
    const r = spawnSync('node', [...args(out, workers), '--resume'], { env, encoding: 'utf8', timeout: 240_000 });
    expect({ status: r.status, stderr: r.stderr }).toMatchObject({ status: 0 });
    expect(r.stderr).toMatch(/dropped a truncated last frame at offset \d+/);
    const read = parseLabelFile(fs.readFileSync(out), out);
    expect(read.truncatedAt).toBeUndefined();
    expect(read.duplicates).toBe(0);
    expect(read.labels.map(strip)).toEqual(reference);
  }, 300_000);
});
