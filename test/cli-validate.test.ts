import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { main } from '../cli/main.js';
import { memoryIo, nodeIo } from '../cli/io.js';
import { InputError } from '../sim/validate/inputError.js';

const model = JSON.parse(fs.readFileSync('models/tiny.json', 'utf8'));
const hf = JSON.parse(fs.readFileSync('test/fixtures/hf/smollm2-135m.config.json', 'utf8'));
const design = {
  kind: 'design',
  schemaVersion: 1,
  name: 'd',
  processNodeNm: 7,
  clockMHz: 500,
  mesh: { rows: 2, cols: 2 },
  noc: { flitBits: 128, virtualChannels: 2, bufferDepthFlits: 4 },
  tile: { fetchWidth: 2, reservationStations: 8, vlenBits: 256, dmemKiB: 64, wmemKiB: 256, imemKiB: 8, scalarWritePorts: 1, vectorWritePorts: 1, scalarDispatchPorts: 1, vectorDispatchPorts: 1 },
};
const trace = { kind: 'trace', schemaVersion: 1, name: 't', requests: [{ arrivalMs: 0, promptTokens: 10, outputTokens: 5 }, { arrivalMs: 3, promptTokens: 1, outputTokens: 1 }] };

/** Deep copy with one change applied. */
function edit<T>(obj: T, f: (o: any) => void): string {
  const o = structuredClone(obj);
  f(o);
  return JSON.stringify(o);
}

async function run(args: string[], files: Record<string, string | Uint8Array> = {}) {
  const io = memoryIo(files);
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

describe('tessera validate: good inputs', () => {
  test('prints model, trace and design summaries', async () => {
    const r = await run(['validate', 'm.json', 'd.json', 't.json', 'hf.json'], { 'm.json': JSON.stringify(model), 'd.json': JSON.stringify(design), 't.json': JSON.stringify(trace), 'hf.json': JSON.stringify(hf) });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/m\.json: model/);
    expect(r.out).toMatch(/134,515,008/);
    expect(r.out).toMatch(/requests\s+2/);
    expect(r.out).toMatch(/2x2 = 4 tiles/);
  });

  test('--json gives the numbers a script needs', async () => {
    const r = await run(['validate', 'llama-3.1-8b', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.parameters).toBe(8_030_261_248);
    expect(j.kvBytesPerTokenPerLayer).toBe(4096);
    expect(j.weightBytes.fp16.totalBytes).toBe(2 * 8_030_261_248);
    expect(Object.keys(j.weightBytes)).toEqual(['fp16', 'int8', 'int4']);
    const t = JSON.parse((await run(['validate', 'azure-code', '--json'])).out);
    expect(t.requests).toBe(8_819);
    expect(typeof t.promptTokens).toBe('number');
    expect(typeof t.outputTokens).toBe('number');
    const both = JSON.parse((await run(['validate', 'tiny', 'decode:2@8', '--json'])).out);
    expect(both.map((s: { kind: string }) => s.kind)).toEqual(['model', 'trace']);
  });
});

/**
 * Each malformed input: exit code 2 and exactly one stderr line that names the file,
 * the field and the bad value, with what is allowed; never a stack trace.
 */
const BAD: [string, string | Uint8Array, string, string][] = [
  // [description, file content, expected field, expected value text]
  ['model: wrong type', edit(model, (o) => (o.text.hiddenSize = '64')), 'text.hiddenSize', '"64"'],
  ['model: negative size', edit(model, (o) => (o.text.numLayers = -2)), 'text.numLayers', '-2'],
  ['model: zero size', edit(model, (o) => (o.text.intermediateSize = 0)), 'text.intermediateSize', '0'],
  ['model: unknown key', edit(model, (o) => (o.text.hiddenSizes = 64)), 'text.hiddenSizes', '64'],
  ['model: heads do not divide hidden size', edit(model, (o) => (o.text.numHeads = 3)), 'text.numHeads', '3'],
  ['model: KV heads do not divide heads', edit(model, (o) => (o.text.numKvHeads = 3)), 'text.numKvHeads', '3'],
  ['model: absurdly large number', edit(model, (o) => (o.text.vocabSize = 1e15)), 'text.vocabSize', '1000000000000000'],
  ['model: missing field', edit(model, (o) => delete o.text.numLayers), 'text.numLayers', '(missing)'],
  ['model: overflow to Infinity', JSON.stringify(model).replace('"numLayers":2', '"numLayers":1e999'), 'text.numLayers', 'Infinity'],
  ['hf: unsupported architecture', edit(hf, (o) => (o.architectures = ['MistralForCausalLM'])), 'architectures', 'MistralForCausalLM'],
  ['hf: missing hidden_size', edit(hf, (o) => delete o.hidden_size), 'hidden_size', '(missing)'],
  ['hf: heads do not divide hidden size', edit(hf, (o) => (o.num_attention_heads = 7)), 'num_attention_heads', '7'],
  ['design: mesh of 0 rows', edit(design, (o) => (o.mesh.rows = 0)), 'mesh.rows', '0'],
  ['design: VLEN not a power of two', edit(design, (o) => (o.tile.vlenBits = 300)), 'tile.vlenBits', '300'],
  ['design: unknown top-level key', edit(design, (o) => (o.meshh = 1)), 'meshh', '1'],
  ['design: clock above the node maximum', edit(design, (o) => ((o.processNodeNm = 28), (o.clockMHz = 500))), 'clockMHz', '500'],
  ['design: unsupported node', edit(design, (o) => (o.processNodeNm = 6)), 'processNodeNm', '6'],
  ['design: flit width below range', edit(design, (o) => (o.noc.flitBits = 32)), 'noc.flitBits', '32'],
  ['design: override outside the mesh', edit(design, (o) => (o.tileOverrides = [{ row: 5, col: 0, fetchWidth: 4 }])), 'tileOverrides[0].row', '5'],
  ['design: negative DMEM', edit(design, (o) => (o.tile.dmemKiB = -64)), 'tile.dmemKiB', '-64'],
  ['design: zero virtual channels', edit(design, (o) => (o.noc.virtualChannels = 0)), 'noc.virtualChannels', '0'],
  ['design: unknown routing', edit(design, (o) => (o.noc.routing = 'west-first')), 'noc.routing', 'west-first'],
  ['trace: empty', edit(trace, (o) => (o.requests = [])), 'requests', '[0 items]'],
  ['trace: timestamps going backwards', edit(trace, (o) => (o.requests[1].arrivalMs = -1 + 0.5)), 'requests[1].arrivalMs', '-0.5'],
  ['trace: arrival earlier than the previous one', edit(trace, (o) => ((o.requests[0].arrivalMs = 10), (o.requests[1].arrivalMs = 4))), 'requests[1].arrivalMs', '4'],
  ['trace: zero output tokens', edit(trace, (o) => (o.requests[0].outputTokens = 0)), 'requests[0].outputTokens', '0'],
  ['trace: duplicate request ids', edit(trace, (o) => ((o.requests[0].id = 'r1'), (o.requests[1].id = 'r1'))), 'requests[1].id', 'duplicate id: requests[0] already has it'],
  ['design: tile is null', edit(design, (o) => (o.tile = null)), 'tile', 'expected an object with keys fetchWidth'],
  ['unknown kind', edit(design, (o) => (o.kind = 'chip')), 'kind', 'chip'],
  ['truncated file', JSON.stringify(design).slice(0, 40), '(top level)', 'not valid JSON'],
  ['binary file', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), '(top level)', 'binary'],
  ['empty file', '', '(top level)', 'empty'],
  ['CSV with a wrong header', 'time,prompt,output\n1,2,3\n', 'line 1', 'time,prompt,output'],
  ['Azure CSV going backwards', 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.0,5,5\n2023-11-16 18:15:45.0,5,5\n', 'line 3 TIMESTAMP', '-1000'],
  ['Azure CSV with a bad count', 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.0,five,5\n', 'line 2 ContextTokens', 'five'],
];

describe('tessera validate: malformed inputs exit 2 with one line naming file, field and value', () => {
  test(`covers at least 20 cases (${BAD.length})`, () => expect(BAD.length).toBeGreaterThanOrEqual(20));

  test.each(BAD)('%s', async (_what, content, field, value) => {
    const file = /CSV/.test(_what) ? 'bad.csv' : 'bad.json';
    const r = await run(['validate', file], { [file]: content });
    expect(r.code).toBe(2);
    const lines = r.err.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const line = lines[0];
    expect(line.startsWith(`tessera: ${file}: ${field} = `)).toBe(true);
    expect(line).toContain(value);
    expect(line).not.toMatch(/\n|\bat .*\.ts:\d+/);
    expect(line.length).toBeLessThan(400);
  });

  test('a name that is neither a file nor a built-in', async () => {
    const r = await run(['validate', 'no-such-thing.json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^tessera: no-such-thing\.json: .*not found.*built-in/);
  });

  test('a directory is named as a directory, not as missing', async () => {
    const r = await run(['validate', 'test']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^tessera: test: .*\(a directory\): expected a file/);
  });

  test('an output file that cannot be written: one line, exit 2, no hang (even under /proc)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-'));
    const plain = path.join(dir, 'plain.txt');
    fs.writeFileSync(plain, 'x');
    // in a child process with a time limit, so a hang fails the test instead of stalling the run
    for (const [target, code] of [[path.join(plain, 'x.svg'), 'ENOTDIR'], ['/proc/tessera-nope/x.svg', 'ENOENT']]) {
      const r = spawnSync('node', ['bin/tessera.mjs', 'noc', '--mesh', '2x2', '--rate', '0.1', '--warmup', '10', '--measure', '50', '--svg', target], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, TESSERA_FROM_SOURCE: '1' } });
      expect({ target, signal: r.signal, status: r.status }).toEqual({ target, signal: null, status: 2 });
      expect(r.stderr).toMatch(new RegExp(`output file = \\(unwritable\\): cannot write it \\(${code}\\)`));
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(() => nodeIo.writeFile(path.join(plain, 'y.svg'), 'x')).toThrow(InputError);
    nodeIo.writeFile(path.join(dir, 'a', 'b', 'c.txt'), 'ok'); // missing parents are created
    expect(fs.readFileSync(path.join(dir, 'a', 'b', 'c.txt'), 'utf8')).toBe('ok');
    fs.rmSync(dir, { recursive: true });
  });

  test('a FIFO or device named as input is never read to find out what it is', async () => {
    const r = await run(['validate', '/dev/zero']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^tessera: \/dev\/zero: .*\(not a regular file\)/);
  });

  test('built-in lookups ignore Object.prototype names', async () => {
    for (const name of ['toString', 'constructor', 'hasOwnProperty']) {
      const r = await run(['validate', name]);
      expect({ name, code: r.code }).toEqual({ name, code: 2 });
      expect(r.err).toMatch(/not found/);
    }
  });

  test('a reader that closes the pipe before the command writes: it ends quietly, exit 0, no EPIPE trace', async () => {
    const child = spawn('node', ['bin/tessera.mjs', 'list'], { env: { ...process.env, TESSERA_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // our read end closes before the child (which needs ~0.5 s to start) writes
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(err).toBe('');
    expect(code).toBe(0);
  });

  test('good and bad inputs together: summaries for the good, errors for the bad, exit 2', async () => {
    const r = await run(['validate', 'tiny', 'bad.json'], { 'bad.json': '{' });
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/tiny: model/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  test('usage errors exit 2 on one line', async () => {
    for (const args of [['validate'], ['frobnicate'], ['validate', 'tiny', '--nope'], []]) {
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('tessera start and list', () => {
  test('start simulates the main job, prints the summary and writes the HTML report', async () => {
    const io = memoryIo();
    const code = await main(['start', '--report', 'out/report.html'], io);
    // stderr holds at most progress lines (after a second of work), never anything else
    expect(io.err).toMatch(/^(start: [\d.]+\/\d+ tokens \(\d+%\).*\n)*$/);
    expect(code).toBe(0);
    expect(io.out).toMatch(/llama-3\.1-8b on paper-llama-3nm/);
    // the preset's description (where it departs from the paper) and the share of the bound
    expect(io.out).toMatch(/design paper-llama-3nm: Llama 3\.1 8B FP16 at 3 nm/);
    expect(io.out).toMatch(/simulated rate is [\d.]+% of the mapping bound; largest cause of the gap: /);
    expect(io.out).toMatch(/tokens\/s\s+[\d,.]+/);
    const html = String(io.written.get('out/report.html'));
    expect(html).toMatch(/<svg/);
    expect(html).toMatch(/Simulation/);
  }, 120_000);

  test('list names the built-ins', async () => {
    const r = await run(['list', '--json']);
    const j = JSON.parse(r.out);
    expect(j.models).toContain('llama-3.1-8b');
    expect(j.traces).toEqual(['azure-conv', 'azure-code']);
    expect(j.presets).toContain('paper-llama-3nm');
  });
});
