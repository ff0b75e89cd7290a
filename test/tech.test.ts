import { main } from '../cli/main.js';
import { memoryIo } from '../cli/io.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { MAX_CLOCK_MHZ, PROCESS_NODES_NM } from '../sim/tech/nodes.js';
import { allValues, assumedCount, NODE_PARAM_NAMES, parseTechTable, type TechTable } from '../sim/tech/table.js';
import { operatingPoint, sramReadPjPerByte, vddAtClock } from '../sim/tech/scaling.js';
import { DesignSchema } from '../sim/design/design.js';
import { presetDesign } from '../sim/design/presets.js';
import { InputError } from '../sim/validate/inputError.js';

const clone = (): any => structuredClone(DEFAULT_TECH);

function rejects(t: unknown): string {
  try {
    parseTechTable(t, 'my-tech.json');
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg).not.toMatch(/\n/);
    return msg;
  }
  throw new Error('expected the table to be rejected');
}

describe('technology table: sources', () => {
  test('every value has a citation of a known reference, a derivation, or an assumed flag', () => {
    const refs = new Set(Object.keys(DEFAULT_TECH.references));
    const values = allValues(DEFAULT_TECH);
    expect(values.length).toBe(27 + 7 * NODE_PARAM_NAMES.length);
    for (const { path, v } of values) {
      const cited = [...v.source.matchAll(/\[([a-z][A-Za-z0-9]*)\]/g)].map((m) => m[1]);
      for (const c of cited) expect({ path, c, known: refs.has(c) }).toEqual({ path, c, known: true });
      const ok = v.assumed === true || cited.length > 0 || v.source.trim().startsWith('=');
      expect({ path, source: v.source, ok }).toEqual({ path, source: v.source, ok: true });
      expect(Number.isFinite(v.value)).toBe(true);
      expect(v.unit.length).toBeGreaterThan(0);
    }
  });

  test('the assumed values are counted, and every assumed value says why', () => {
    const { assumed, total } = assumedCount(DEFAULT_TECH);
    const flagged = allValues(DEFAULT_TECH).filter((e) => e.v.assumed);
    expect(assumed).toBe(flagged.length);
    expect(total).toBe(allValues(DEFAULT_TECH).length);
    expect(assumed).toBeGreaterThan(0);
    expect(assumed).toBeLessThan(total);
    for (const f of flagged) expect(f.v.source).toMatch(/assum/i);
  });

  test('a value without a source is rejected', () => {
    const t = clone();
    t.nodes['7'].macFp16Pj.source = '0.5 pJ';
    expect(rejects(t)).toMatch(/nodes\.7\.macFp16Pj\.source.*cite a reference/);
    const u = clone();
    u.nodes['7'].macFp16Pj.source = '';
    expect(rejects(u)).toMatch(/nodes\.7\.macFp16Pj\.source/);
    const v = clone();
    v.nodes['3'].romReadPjPerByte.source = '[nobody2020] p. 3';
    expect(rejects(v)).toMatch(/nobody2020.*not in "references"/);
  });

  test('the maximum clocks agree with the design schema (sim/tech/nodes.ts) and the paper', () => {
    const paper = { 3: 1000, 5: 820, 7: 570, 10: 520, 14: 400, 22: 250, 28: 250 } as const;
    for (const n of PROCESS_NODES_NM) {
      expect(DEFAULT_TECH.nodes[`${n}`].maxClockMHz.value).toBe(MAX_CLOCK_MHZ[n]);
      expect(MAX_CLOCK_MHZ[n]).toBe(paper[n]);
    }
  });
});

describe('technology table: bad files', () => {
  test('negative energy', () => {
    const t = clone();
    t.nodes['5'].sramReadPjPerByte1MiB.value = -1;
    expect(rejects(t)).toMatch(/my-tech\.json: nodes\.5\.sramReadPjPerByte1MiB\.value = -1: out of range: allowed a number in 0\.\.1000000/);
  });
  test('missing node', () => {
    const t = clone();
    delete t.nodes['28'];
    expect(rejects(t)).toMatch(/nodes\.28 = \(missing\): required field missing/);
  });
  test('missing parameter, unknown key, wrong kind, Vmin above Vnominal', () => {
    const a = clone();
    delete a.nodes['14'].wirePjPerBitMm;
    expect(rejects(a)).toMatch(/nodes\.14\.wirePjPerBitMm = \(missing\)/);
    const b = clone();
    b.nodes['14'].wireEnergy = b.nodes['14'].wirePjPerBitMm;
    expect(rejects(b)).toMatch(/nodes\.14\.wireEnergy.*unknown key/);
    const c = clone();
    c.kind = 'design';
    expect(rejects(c)).toMatch(/kind/);
    const d = clone();
    d.nodes['7'].vddMinV.value = 0.9;
    expect(rejects(d)).toMatch(/nodes\.7\.vddMinV\.value = 0\.9: must not exceed vddNominalV/);
    const e = clone();
    e.nodes['7'].maxClockMHz.value = 0;
    expect(rejects(e)).toMatch(/maxClockMHz/);
  });
  test('values past a sanity bound: an SRAM array efficiency above 1, a slipped exponent, a 9 V supply', () => {
    const a = clone();
    a.common.sramArrayEfficiency.value = 5;
    expect(rejects(a)).toMatch(/common\.sramArrayEfficiency\.value = 5: out of range: allowed a number in \(0, 1\]/);
    const b = clone();
    b.nodes['3'].macFp16Pj.value = 1e300;
    expect(rejects(b)).toMatch(/nodes\.3\.macFp16Pj\.value = 1e\+300: out of range: allowed a number in 0\.\.1000000/);
    const c = clone();
    c.nodes['28'].vddNominalV.value = 9;
    expect(rejects(c)).toMatch(/nodes\.28\.vddNominalV\.value = 9/);
    const ok = clone();
    ok.common.sramArrayEfficiency.value = 1;
    expect(() => parseTechTable(ok, 'my-tech.json')).not.toThrow();
  });
});

describe('technology table: directions across the seven nodes', () => {
  // Nodes from smallest to largest feature size.
  const nodes = [...PROCESS_NODES_NM].sort((a, b) => a - b);
  const col = (k: (typeof NODE_PARAM_NAMES)[number]) => nodes.map((n) => DEFAULT_TECH.nodes[`${n}`][k].value);
  const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]);
  const nondecreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]);

  test('areas and per-event energies grow with the feature size; clocks fall', () => {
    for (const k of ['logicAreaScale', 'sramBitcellUm2', 'romBitAreaUm2', 'romMlcBitAreaUm2', 'dynamicEnergyScale', 'macFp16Pj', 'macInt8Pj', 'macInt4Pj', 'vectorAluFp16Pj', 'vectorAluInt8Pj', 'sfuOpPj', 'scalarOpPj', 'fetchDecodePj', 'routeComputePj', 'vcAllocPj', 'switchAllocPj', 'creditPj', 'sramReadPjPerByte8KiB', 'sramReadPjPerByte32KiB', 'sramReadPjPerByte1MiB', 'romReadPjPerByte', 'registerFilePjPerBit', 'wirePjPerBitMm', 'vddNominalV'] as const) {
      expect({ k, increasing: increasing(col(k)) }).toEqual({ k, increasing: true });
    }
    expect(nondecreasing(col('maxClockMHz').reverse())).toBe(true);
  });

  test('logic leakage density (per mm2) rises as nodes shrink; leakage per SRAM or ROM bit falls', () => {
    expect(increasing(col('logicLeakageMwPerMm2').reverse())).toBe(true);
    const perBit = (density: (typeof NODE_PARAM_NAMES)[number], bit: (typeof NODE_PARAM_NAMES)[number]) => nodes.map((n) => DEFAULT_TECH.nodes[`${n}`][density].value * DEFAULT_TECH.nodes[`${n}`][bit].value);
    expect(increasing(perBit('romLeakageMwPerMm2', 'romBitAreaUm2'))).toBe(true);
    expect(increasing(perBit('sramLeakageMwPerMm2', 'sramBitcellUm2'))).toBe(true);
  });

  test('energy per operation halves roughly every two nodes (paper section 7: ~2x per two-node step), within a factor of two', () => {
    const s = col('dynamicEnergyScale');
    for (let i = 0; i + 2 < s.length; i++) {
      const r = s[i + 2] / s[i];
      expect(r).toBeGreaterThan(1);
      expect(r).toBeLessThan(4);
    }
  });
});

describe('DVFS and clocks', () => {
  test('Vdd is the floor near 0 MHz, nominal at the maximum clock, and rises with the clock', () => {
    for (const n of PROCESS_NODES_NM) {
      const v = DEFAULT_TECH.nodes[`${n}`];
      const nv = { vddMinV: v.vddMinV.value, vddNominalV: v.vddNominalV.value, maxClockMHz: v.maxClockMHz.value } as any;
      expect(vddAtClock(nv, v.maxClockMHz.value, n)).toBeCloseTo(v.vddNominalV.value, 12);
      expect(vddAtClock(nv, v.maxClockMHz.value / 2, n)).toBeCloseTo((v.vddMinV.value + v.vddNominalV.value) / 2, 12);
      expect(vddAtClock(nv, 10, n)).toBeLessThan(vddAtClock(nv, 100, n));
      const op = operatingPoint(DEFAULT_TECH, n, 10);
      expect(op.dynamicFactor).toBeLessThan(1);
      expect(op.leakageFactor).toBeLessThan(1);
    }
  });

  test('a clock above the node maximum is rejected by the design schema and by the model', () => {
    const base = presetDesign('tiny-2x2')!;
    for (const n of PROCESS_NODES_NM) {
      const bad = DesignSchema.safeParse({ ...base, processNodeNm: n, clockMHz: MAX_CLOCK_MHZ[n] + 1 });
      expect(bad.success).toBe(false);
      expect(() => operatingPoint(DEFAULT_TECH, n, MAX_CLOCK_MHZ[n] + 1)).toThrow(/above the .* maximum/);
      expect(() => operatingPoint(DEFAULT_TECH, n, MAX_CLOCK_MHZ[n])).not.toThrow();
    }
    // A user table with a lower maximum rejects a design the schema accepts.
    const t: TechTable = clone();
    (t.nodes['7'].maxClockMHz as any).value = 400;
    expect(() => operatingPoint(t, 7, 500)).toThrow(InputError);
    // ... and the message names the table and its field, not only the design
    expect(() => operatingPoint(t, 7, 500)).toThrow(new RegExp(`maximum of 400 MHz in technology table "${t.name}" \\(nodes\\.7\\.maxClockMHz\\)`));
  });

  test('SRAM energy interpolates between the macro sizes and is flat outside them', () => {
    const n = { sramReadPjPerByte8KiB: 1, sramReadPjPerByte32KiB: 2, sramReadPjPerByte1MiB: 8 } as any;
    expect(sramReadPjPerByte(n, 1024)).toBe(1);
    expect(sramReadPjPerByte(n, 8192)).toBe(1);
    expect(sramReadPjPerByte(n, 16384)).toBeCloseTo(Math.SQRT2, 12); // halfway in log size
    expect(sramReadPjPerByte(n, 32768)).toBeCloseTo(2, 12);
    expect(sramReadPjPerByte(n, 1 << 20)).toBe(8);
    expect(sramReadPjPerByte(n, 1 << 22)).toBe(8);
  });
});

describe('tessera tech', () => {
  async function run(args: string[], files: Record<string, string> = {}) {
    const io = memoryIo(files);
    const code = await main(args, io);
    return { code, out: io.out, err: io.err };
  }

  test('prints every value with its source, and the count of assumed values', async () => {
    const r = await run(['tech', '--node', '7']);
    expect(r.code).toBe(0);
    const { assumed, total } = assumedCount(DEFAULT_TECH);
    expect(r.out).toContain(`${total} values, ${assumed} assumed`);
    for (const k of NODE_PARAM_NAMES) expect(r.out).toMatch(new RegExp(`^${k}\\s`, 'm'));
    expect(r.out).toContain('[jouppi2021]');
    expect(r.out).not.toMatch(/^28 nm$/m);
  });

  test('--json is a --tech file: it round-trips, and a bad one fails with one line and exit 2', async () => {
    const r = await run(['tech', '--json']);
    expect(r.code).toBe(0);
    const t = JSON.parse(r.out);
    expect(parseTechTable(t)).toEqual(DEFAULT_TECH);
    t.nodes['3'].macFp16Pj.value = 0.123;
    const r2 = await run(['tech', '--node', '3', '--tech', 'mine.json'], { 'mine.json': JSON.stringify(t) });
    expect(r2.code).toBe(0);
    expect(r2.out).toMatch(/macFp16Pj\s+0\.123/);
    // a table whose maximum clock is below a design's: the message names the table file and field
    const slow = structuredClone(t);
    slow.nodes['7'].maxClockMHz.value = 400;
    for (const cmd of [['tech', '--design', 'tiny-2x2'], ['sim', '--design', 'tiny-2x2', '--model', 'tiny', '--trace', 'decode:2@8']]) {
      const rc = await run([...cmd, '--tech', 'slow.json'], { 'slow.json': JSON.stringify(slow) });
      expect({ cmd, code: rc.code }).toEqual({ cmd, code: 2 });
      expect(rc.err).toMatch(/^tessera: slow\.json: nodes\.7\.maxClockMHz\.value = 400: below the clock of design tiny-2x2 \(500 MHz at 7 nm\)/);
    }
    t.nodes['3'].macFp16Pj.value = -2;
    const r3 = await run(['tech', '--tech', 'mine.json'], { 'mine.json': JSON.stringify(t) });
    expect(r3.code).toBe(2);
    expect(r3.err.trim().split('\n')).toHaveLength(1);
    expect(r3.err).toMatch(/mine\.json: nodes\.3\.macFp16Pj\.value = -2/);
    const r4 = await run(['tech', '--node', '9']);
    expect(r4.code).toBe(2);
    expect(r4.err).toMatch(/not a modelled process node/);
  });

  test('--design prints the area of a design under the table; a smaller node shrinks it', async () => {
    const r7 = await run(['tech', '--design', 'tiny-2x2', '--json']);
    expect(r7.code).toBe(0);
    const a7 = JSON.parse(r7.out);
    const byParts = Object.values(a7.byComponentMm2 as Record<string, number>).reduce((s, v) => s + v, 0);
    expect(byParts / a7.tileArrayMm2).toBeCloseTo(1, 12);
    const d = { ...presetDesign('tiny-2x2')!, processNodeNm: 3 };
    const r3 = await run(['tech', '--design', 'd3.json', '--json'], { 'd3.json': JSON.stringify(d) });
    expect(JSON.parse(r3.out).totalMm2).toBeLessThan(a7.totalMm2);
    const text = await run(['tech', '--design', 'tiny-2x2']);
    expect(text.out).toMatch(/^wmem\s/m);
  });
});
