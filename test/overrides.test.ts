import { main } from '../cli/main.js';
import { memoryIo } from '../cli/io.js';
import { presetDesign } from '../sim/design/presets.js';
import { DesignSchema } from '../sim/design/design.js';

/**
 * Issue 12 item 2: `--set path=value` on every command that takes a design, validated like
 * a design file; comma lists run sweeps with one row per value; `tessera design show`;
 * every --json result carries the resolved design.
 */

async function run(args: string[], files: Record<string, string> = {}) {
  const io = memoryIo(files);
  const code = await main(args, io);
  return { code, out: io.out, err: io.err, written: io.written };
}

const SIM = ['sim', '--design', 'tiny-2x2', '--model', 'tiny', '--trace', 'decode:4@16'];

describe('--set', () => {
  test('sim: the edits reach the run and the JSON carries the resolved design', async () => {
    const r = await run([...SIM, '--set', 'precision.kvCache=int8', '--set', 'mapping.kvWindowTokens=1024', '--set', 'noc.virtualChannels=3', '--json']);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    const j = JSON.parse(r.out);
    const expected = DesignSchema.parse({ ...presetDesign('tiny-2x2')!, precision: { ...presetDesign('tiny-2x2')!.precision, kvCache: 'int8' }, mapping: { ...presetDesign('tiny-2x2')!.mapping, kvWindowTokens: 1024 }, noc: { ...presetDesign('tiny-2x2')!.noc, virtualChannels: 3 } });
    expect(j.design).toEqual(expected);
    // INT8 KV: 1 byte per element plus one FP16 scale per KV head for K and for V, per token per layer
    const base = JSON.parse((await run([...SIM, '--json'])).out);
    expect(j.counters.kvBytesWritten).toBeLessThan(base.counters.kvBytesWritten);
  });

  // [command, expected stderr]: one line, exit code 2, naming the option and the field
  const BAD: [string[], RegExp][] = [
    [[...SIM, '--set', 'noc.vcs=3'], /^tessera: tiny-2x2 with --set noc\.vcs=3: noc\.vcs = 3: unknown key; allowed keys here: flitBits, virtualChannels/],
    [[...SIM, '--set', 'noc.virtualChannels=99'], /noc\.virtualChannels = 99: out of range: allowed an integer in 1\.\.16/],
    [[...SIM, '--set', 'precision.kvCache=int3'], /precision\.kvCache = "int3": allowed "fp16", "int8", "int4"/],
    [[...SIM, '--set', 'noc.virtualChannels'], /^tessera: --set: option = "noc\.virtualChannels": path=value/],
    [[...SIM, '--set', 'mesh.rows.x=1'], /mesh\.rows is a value, not an object/],
    [[...SIM, '--set', 'tileOverrides.0.vlenBits=512'], /tileOverrides\.0 = "0": an index of tileOverrides \(it has 0 entries\)/],
    [[...SIM, '--set', '__proto__.x=1'], /--set: __proto__\.x/],
    [[...SIM, '--set', 'tile.vlenBits=300'], /tile\.vlenBits = 300: must be a power of two/],
    [['noc', '--set', 'noc.virtualChannels=0'], /noc\.virtualChannels = 0: out of range/],
    [['kernel', '--kernel', 'rmsnorm', '--dim', '64', '--set', 'tile.vlenBits=100'], /tile\.vlenBits = 100/],
    [['tech', '--design', 'tiny-2x2', '--set', 'clockMHz=5000'], /clockMHz = 5000/],
    [['validate', 'tiny-2x2', '--set', 'mesh.rows=0'], /mesh\.rows = 0/],
    [['design', 'show', 'tiny-2x2', '--set', 'serving.maxBatch=-1'], /serving\.maxBatch = -1/],
    // comma lists are sweeps only where a command runs several designs
    [['kernel', '--kernel', 'rmsnorm', '--dim', '64', '--set', 'tile.vlenBits=256,512'], /one value here: `tessera kernel` runs one design/],
    [['design', 'show', 'tiny-2x2', '--set', 'noc.virtualChannels=1,2'], /one value here/],
    [[...SIM, '--set', 'noc.virtualChannels=1,2', '--html', 'r.html'], /--html and --timeline take one design/],
    [[...SIM, '--set', 'noc.virtualChannels=1,,2'], /a comma list of values with none empty/],
  ];
  for (const [args, re] of BAD) {
    test(`${args.join(' ')}: one line, exit 2`, async () => {
      const r = await run(args);
      expect({ code: r.code, out: r.out }).toEqual({ code: 2, out: '' });
      expect(r.err).toMatch(re);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    });
  }

  test('every command that takes a design applies --set and its --json carries the resolved design', async () => {
    const set = ['--set', 'noc.virtualChannels=3'];
    const noc = JSON.parse((await run(['noc', '--design', 'tiny-2x2', '--rate', '0.05', '--measure', '500', ...set, '--json'])).out);
    expect(noc.design.noc.virtualChannels).toBe(3);
    expect(noc.noc.virtualChannels).toBe(3);
    const kernel = JSON.parse((await run(['kernel', '--kernel', 'rmsnorm', '--dim', '64', '--design', 'tiny-2x2', '--set', 'tile.vlenBits=512', '--json'])).out);
    expect(kernel.design.tile.vlenBits).toBe(512);
    expect(kernel.tile.vlenBits).toBe(512);
    const validate = JSON.parse((await run(['validate', 'tiny-2x2', ...set, '--json'])).out);
    expect(validate.design.noc.virtualChannels).toBe(3);
    const tech = JSON.parse((await run(['tech', '--design', 'tiny-2x2', '--set', 'tile.dmemKiB=128', '--json'])).out);
    const techBase = JSON.parse((await run(['tech', '--design', 'tiny-2x2', '--json'])).out);
    expect(tech.resolvedDesign.tile.dmemKiB).toBe(128);
    expect(tech.byComponentMm2.dmem).toBeCloseTo(2 * techBase.byComponentMm2.dmem, 6);
  });
});

describe('sweeps', () => {
  test('sim: a comma list prints one row per value, and the Cartesian product of two lists', async () => {
    const r = await run([...SIM, '--set', 'noc.virtualChannels=1,2,4']);
    expect(r.code).toBe(0);
    const rows = r.out.split('\n').filter((l) => /^\d+\s+yes\s/.test(l));
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(['1', '2', '4']);
    const two = JSON.parse((await run([...SIM, '--set', 'noc.virtualChannels=1,2', '--set', 'precision.kvCache=fp16,int8', '--json'])).out);
    expect(two.sweep).toEqual(['noc.virtualChannels', 'precision.kvCache']);
    expect(two.runs.map((x: any) => [x.design.noc.virtualChannels, x.design.precision.kvCache])).toEqual([[1, 'fp16'], [1, 'int8'], [2, 'fp16'], [2, 'int8']]);
    expect(two.runs.map((x: any) => x.set)).toEqual([{ 'noc.virtualChannels': 1, 'precision.kvCache': 'fp16' }, { 'noc.virtualChannels': 1, 'precision.kvCache': 'int8' }, { 'noc.virtualChannels': 2, 'precision.kvCache': 'fp16' }, { 'noc.virtualChannels': 2, 'precision.kvCache': 'int8' }]);
    // the knob moves the result the way the hardware would: INT8 KV writes fewer KV bytes
    expect(two.runs[1].counters.kvBytesWritten).toBeLessThan(two.runs[0].counters.kvBytesWritten);
  });

  test('a sweep with an infeasible point marks the row and exits 3', async () => {
    const r = await run(['sim', '--design', 'tiny-2x2', '--model', 'tiny', '--trace', 'decode:1@900', '--set', 'tile.dmemKiB=16,1024']);
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/^16 +INFEASIBLE +-/m);
    expect(r.out).toMatch(/^1024 +yes +[\d.,]+/m);
  });

  test('noc: one row per value, the VCs moving latency at a high load', async () => {
    const j = JSON.parse((await run(['noc', '--mesh', '4x4', '--rate', '0.4', '--measure', '2000', '--set', 'noc.virtualChannels=1,4', '--json'])).out);
    expect(j.runs.map((x: any) => x.design.noc.virtualChannels)).toEqual([1, 4]);
    // one VC saturates at 0.4 flits/node/cycle on a 4x4 mesh; four VCs carry the load
    expect(j.runs[0].points[0].saturated).toBe(true);
    expect(j.runs[1].points[0].saturated).toBe(false);
    expect(j.runs[1].points[0].acceptedFlitsPerNodeCycle).toBeGreaterThan(j.runs[0].points[0].acceptedFlitsPerNodeCycle);
    const t = await run(['noc', '--mesh', '4x4', '--rate', '0.4', '--measure', '2000', '--set', 'noc.virtualChannels=1,4']);
    expect(t.out.split('\n').filter((l) => /^[14] +[\d.]+/.test(l))).toHaveLength(2);
  });
});

describe('tessera design show', () => {
  test('--json prints a complete design file: valid, every default filled in, equal to the preset', async () => {
    const r = await run(['design', 'show', 'paper-llama-3nm', '--json']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.out);
    expect(DesignSchema.parse(d)).toEqual(d); // nothing left to default
    expect(d).toEqual(presetDesign('paper-llama-3nm'));
  });

  test('the design file runs like the preset', async () => {
    const file = (await run(['design', 'show', 'tiny-2x2', '--json'])).out;
    const a = JSON.parse((await run([...SIM, '--json'])).out);
    const b = JSON.parse((await run(['sim', '--design', 'chip.json', '--model', 'tiny', '--trace', 'decode:4@16', '--json'], { 'chip.json': file })).out);
    expect(b.metrics).toEqual({ ...a.metrics });
  });

  test('the listing names every field path with its value and range', async () => {
    const r = await run(['design', 'show', 'tiny-2x2']);
    for (const line of ['  noc.virtualChannels ', '  serving.prefillChunkTokens ', '  tile.vectorLatencyCycles.rsqrt ', '  mapping.kvWindowTokens ']) expect(r.out).toContain(line);
    expect(r.out).toMatch(/tile\.vlenBits += 256 +must be a power of two in 128\.\.2048; VLEN/);
    expect(r.out).toMatch(/A 2x2 mesh at 7 nm/);
  });
});
