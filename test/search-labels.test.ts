import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../cli/main.js';
import { memoryIo } from '../cli/io.js';
import { frame, parseLabelFile } from '../search/label/file.js';
import { labelInfo, labelsCsv } from '../search/label/info.js';
import { synthLabels, tinySettings, writeLabelFile } from './search-helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-labels-'));

async function run(args: string[]) {
  const io = memoryIo();
  const code = await main(args, io);
  return { code, out: io.out, err: io.err, io };
}

/** A one-line error naming `what`, exit 2. */
function expectOneLine(r: { code: number; err: string }, what: RegExp) {
  expect(r.code).toBe(2);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(what);
  expect(r.err).toMatch(/fix:/);
  expect(r.err).not.toMatch(/\n\s+at /);
}

const labels = synthLabels(12);
const good = path.join(dir, 'good.msgpack');
writeLabelFile(good, labels);

describe('label files', () => {
  test('frames round-trip; labels come back sorted by index, duplicates dropped', () => {
    const bytes = Buffer.concat([fs.readFileSync(good), frame(labels[3])]);
    const r = parseLabelFile(bytes, 'x');
    expect(r.labels.map((l) => l.index)).toEqual(labels.map((l) => l.index));
    expect(r.duplicates).toBe(1);
    expect(r.labels[5]).toEqual(labels[5]);
  });

  test('a truncated tail is reported with its offset and dropped; info still works', async () => {
    const whole = fs.readFileSync(good);
    const cut = path.join(dir, 'cut.msgpack');
    fs.writeFileSync(cut, whole.subarray(0, whole.length - 7));
    const r = parseLabelFile(fs.readFileSync(cut), cut);
    expect(r.labels).toHaveLength(labels.length - 1);
    expect(r.truncatedAt).toBe(r.goodBytes);
    const info = await run(['label', 'info', cut]);
    expect(info.code).toBe(0);
    expect(info.err).toMatch(new RegExp(`truncated last frame at offset ${r.truncatedAt}`));
    expect(info.out).toMatch(/11 labels of tiny/);
    // training refuses it with a one-line error and a fix; the file is untouched
    expectOneLine(await run(['surrogate', 'train', '--labels', cut, '--out', path.join(dir, 'm.msgpack')]), /cut\.msgpack: offset \d+ .*truncated.*--resume/);
    expect(fs.statSync(cut).size).toBe(whole.length - 7);
  });

  test('a corrupt chunk is reported with its offset, never read', async () => {
    const bytes = Buffer.from(fs.readFileSync(good));
    const second = parseLabelFile(bytes.subarray(0, 0 + bytes.length), 'x');
    expect(second.labels.length).toBe(12);
    const at = 2000;
    bytes[at] ^= 0xff;
    const bad = path.join(dir, 'corrupt.msgpack');
    fs.writeFileSync(bad, bytes);
    expect(() => parseLabelFile(bytes, bad)).toThrow(/corrupt label file/);
    expectOneLine(await run(['label', 'info', bad]), /corrupt\.msgpack: offset \d+ = \((checksum mismatch|bad frame marker)\)/);
    fs.writeFileSync(path.join(dir, 'notlabels.msgpack'), 'hello world, not labels');
    expectOneLine(await run(['label', 'info', path.join(dir, 'notlabels.msgpack')]), /not a label file/);
  });

  test('info: counts per node, feasible share, ranges; --csv has a row per label with every dimension', async () => {
    const r = parseLabelFile(fs.readFileSync(good), good);
    const info = labelInfo(r);
    expect(info.perNode.map((n) => n.node)).toEqual([7, 28]);
    expect(info.perNode.reduce((s, n) => s + n.labels, 0)).toBe(12);
    const csv = labelsCsv(r).trim().split('\n');
    expect(csv).toHaveLength(13);
    expect(csv[0]).toMatch(/^index,node,status,processNodeNm,clockMHz,mesh\.rows/);
    const out = path.join(dir, 'x.csv');
    const c = await run(['label', 'info', good, '--csv', out]);
    expect(c.code).toBe(0);
    expect(String(c.io.written.get(out)).split('\n')[0]).toBe(csv[0]);
    const j = await run(['label', 'info', good, '--json']);
    expect(JSON.parse(j.out).labels).toBe(12);
  });
});

describe('tessera label: bad input is a one-line error (exit 2), nothing written is lost', () => {
  const base = ['label', '--model', 'tiny', '--out', path.join(dir, 'new.msgpack'), '--quiet'];
  test('unknown node, --count 0, --workers 0, missing --out', async () => {
    expectOneLine(await run([...base, '--nodes', '4']), /--nodes: nodes = "4": process nodes among 3, 5, 7, 10, 14, 22, 28/);
    expectOneLine(await run([...base, '--count', '0']), /--count: count = 0: a whole number >= 1/);
    expectOneLine(await run([...base, '--workers', '0']), /--workers: workers = 0: a whole number >= 1/);
    expectOneLine(await run(['label', '--model', 'tiny']), /--out/);
    expect(fs.existsSync(path.join(dir, 'new.msgpack'))).toBe(false);
  });

  test('an existing file is never overwritten; --resume of another model or seed is refused', async () => {
    const before = fs.readFileSync(good);
    expectOneLine(await run(['label', '--model', 'tiny', '--count', '3', '--out', good, '--quiet']), /already exists.*--resume/);
    expectOneLine(await run(['label', '--model', 'smollm2-135m', '--resume', '--out', good, '--quiet']), /good\.msgpack: model = "smollm2-135m.*differs from the file, which has tiny/);
    expectOneLine(await run(['label', '--model', 'tiny', '--seed', '9', '--resume', '--out', good, '--quiet']), /--seed = 9: .*which has 1/);
    expect(fs.readFileSync(good).equals(before)).toBe(true);
  });
});

describe('label jobs', () => {
  test('a simulation past its event limit is a failed label with its error, deterministically', async () => {
    const { runLabelJob } = await import('../search/label/job.js');
    const { tinySettings } = await import('./search-helpers.js');
    const job = { runId: 'r', index: 0, settings: { ...tinySettings(3), eventLimit: 200 } };
    const a = runLabelJob(job);
    expect(a.status).toBe('failed');
    expect(a.error).toMatch(/EventLimitExceeded: stopped after the limit of 200 simulated events/);
    expect({ ...runLabelJob(job), wallSeconds: 0 }).toEqual({ ...a, wallSeconds: 0 });
  });
});

describe('worker pool that cannot load', () => {
  // a stale dist/ without its worker, or a worker whose imports are missing: one line, no stack
  const broken = path.join(dir, 'broken-worker.mjs');
  fs.writeFileSync(broken, "import 'tessera-no-such-package'; export default () => 1;\n");
  test.each([
    ['a missing worker file', path.join(dir, 'no-such-worker.js')],
    ['a worker whose import fails', broken],
  ])('%s: one InputError naming the file, the cause and a fix; the label file stays readable', async (_what, file) => {
    const { PiscinaRunner } = await import('../search/label/pool.js');
    const { runLabels } = await import('../search/label/run.js');
    const { InputError } = await import('../sim/validate/inputError.js');
    const out = path.join(dir, `pool-${path.basename(file)}.msgpack`);
    const runner = new PiscinaRunner(1, file);
    let caught: unknown;
    try {
      await runLabels({ out, count: 3, resume: false, runner, settings: tinySettings() });
    } catch (e) {
      caught = e;
    } finally {
      await runner.close();
    }
    expect(caught).toBeInstanceOf(InputError);
    // the CLI prints an InputError as `tessera: <message>` and exits 2
    expectOneLine({ code: 2, err: `tessera: ${(caught as Error).message}\n` }, /worker pool.*ERR_MODULE_NOT_FOUND/);
    expect((caught as Error).message).toContain(file);
    expect((caught as Error).message).toMatch(/npm ci/);
    expect(parseLabelFile(fs.readFileSync(out), out).labels).toHaveLength(0);
  });
});
