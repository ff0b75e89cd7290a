import { TileParamsSchema, type TileParams } from '../sim/design/design.js';
import { Rng } from '../sim/random/rng.js';
import { runKernel, type Fidelity } from '../sim/tile/run.js';
import type { TilePrecision } from '../sim/tile/params.js';
import { InputError } from '../sim/validate/inputError.js';
import { CONFIGS, KERNELS, label } from './tile-matrix.js';
import { buildKernel, type KernelSpec } from '../sim/tile/kernels.js';
import { resolveTiming } from '../sim/tile/params.js';
import type { Node } from '../sim/tile/isa.js';

const BITS = { fp16: 16, int8: 8, int4: 4 } as const;

function randomTile(rng: Rng, over: Record<string, unknown> = {}): TileParams {
  return TileParamsSchema.parse({
    fetchWidth: rng.int(1, 8),
    reservationStations: rng.int(2, 32),
    vlenBits: 128 << rng.int(0, 4),
    dmemKiB: 1024,
    wmemKiB: 4096,
    imemKiB: rng.int(1, 16),
    scalarWritePorts: rng.int(1, 3),
    vectorWritePorts: rng.int(1, 3),
    scalarDispatchPorts: rng.int(1, 3),
    vectorDispatchPorts: rng.int(1, 3),
    dmemPorts: rng.int(1, 3),
    romBytesPerCycle: rng.bernoulli(0.5) ? 0 : 8 << rng.int(0, 5),
    scheduling: rng.bernoulli(0.5) ? 'hazard-aware' : 'in-order',
    ...over,
  });
}

function randomPrecision(rng: Rng): TilePrecision {
  const w = (['fp16', 'int8', 'int4'] as const)[rng.int(0, 2)];
  const a = (['fp16', 'int8'] as const)[rng.int(0, 1)];
  return { weights: w, activations: a, kvCache: (['fp16', 'int8', 'int4'] as const)[rng.int(0, 2)] };
}

const stallSum = (r: { stallCycles: Record<string, number> }) => Object.values(r.stallCycles).reduce((a, b) => a + b, 0);

describe('tile invariants over random configurations', () => {
  test('GEMV reads exactly R*C*bytes(p) weight bytes, does R*C MACs; busy + stalls = cycles; resource bounds hold', () => {
    const rng = new Rng(4, 'test/tile/gemv');
    for (let i = 0; i < 40; i++) {
      const tile = randomTile(rng);
      const precision = randomPrecision(rng);
      let R = rng.int(1, 300);
      const C = rng.int(1, 300);
      if (precision.weights === 'int4' && R % 2) R++; // two INT4 weights per byte
      const fidelity: Fidelity = i % 2 ? 'fast' : 'detailed';
      const r = runKernel(tile, precision, { kind: 'gemv', rows: R, cols: C }, { fidelity });
      const ctx = { i, R, C, precision, fidelity };
      expect({ ...ctx, rom: r.romBytesRead }).toEqual({ ...ctx, rom: (R * C * BITS[precision.weights]) / 8 });
      expect({ ...ctx, macs: r.macs }).toEqual({ ...ctx, macs: R * C });
      const scales = precision.weights === 'int4' ? R * Math.ceil(C / 128) * 2 : precision.weights === 'int8' ? R * 2 : 0;
      expect({ ...ctx, scales: r.counters['tile.romScaleBytesRead'] }).toEqual({ ...ctx, scales });
      expect({ ...ctx, sum: r.busyCycles + stallSum(r) }).toEqual({ ...ctx, sum: r.cycles });
      // never faster than the tightest resource bound
      const lanes = tile.vlenBits / BITS[precision.activations];
      const romBw = tile.romBytesPerCycle || tile.vlenBits / 8;
      expect(r.cycles).toBeGreaterThanOrEqual((r.romBytesRead + scales) / romBw);
      expect(r.cycles).toBeGreaterThanOrEqual(R * C / lanes);
      expect(r.cycles).toBeGreaterThanOrEqual(walkCount(buildKernel(resolveTiming(tile, precision), { kind: 'gemv', rows: R, cols: C }).program.body) / tile.fetchWidth);
    }
  });

  test('busy + stall cycles = total cycles for every kernel, both fidelities', () => {
    const rng = new Rng(5, 'test/tile/all');
    for (let i = 0; i < 22; i++) {
      const tile = randomTile(rng);
      const precision = randomPrecision(rng);
      const k = KERNELS[i % KERNELS.length];
      for (const fidelity of ['fast', 'detailed'] as const) {
        const r = runKernel(tile, precision, k, { fidelity });
        expect({ k: k.kind, fidelity, sum: r.busyCycles + stallSum(r) }).toEqual({ k: k.kind, fidelity, sum: r.cycles });
        expect(r.counters['tile.busyCycles'] + Object.entries(r.counters).filter(([n]) => n.startsWith('tile.stall')).reduce((a, [, v]) => a + v, 0)).toBe(r.cycles);
        expect(r.counters['tile.kvBytesRead']).toBeLessThanOrEqual(r.counters['tile.dmemBytesRead']);
        expect(r.counters['tile.kvBytesWritten']).toBeLessThanOrEqual(r.counters['tile.dmemBytesWritten']);
      }
    }
  });

  test('attention reads the whole KV context once and appends the new tokens at KV precision', () => {
    const rng = new Rng(7, 'test/tile/attention');
    for (let i = 0; i < 10; i++) {
      const tile = randomTile(rng);
      const precision = randomPrecision(rng);
      const G = rng.int(1, 8);
      const D = 2 * rng.int(8, 64);
      const N = 2 * rng.int(8, 200);
      const A = rng.int(0, 2);
      const r = runKernel(tile, precision, { kind: 'attention', queryHeads: G, headDim: D, contextTokens: N, appendTokens: A }, { fidelity: i % 2 ? 'fast' : 'detailed' });
      const kvB = BITS[precision.kvCache] / 8;
      const ctx = { i, G, D, N, A, kv: precision.kvCache };
      // K^T and V read once per group of up to 4 query heads
      expect({ ...ctx, kvRead: r.counters['tile.kvBytesRead'] }).toEqual({ ...ctx, kvRead: Math.ceil(G / 4) * 2 * N * D * kvB });
      expect({ ...ctx, kvWritten: r.counters['tile.kvBytesWritten'] }).toEqual({ ...ctx, kvWritten: A * 2 * D * kvB });
      // q.k and p.v: 2 x G x N x D multiply-accumulates
      expect({ ...ctx, macs: r.macs }).toEqual({ ...ctx, macs: 2 * G * N * D });
    }
  });

  test('where one resource dominates, GEMV finishes within 10% of its bound', () => {
    const rng = new Rng(6, 'test/tile/dominant');
    const ample = () => ({ fetchWidth: rng.int(4, 8), vectorDispatchPorts: rng.int(2, 3), scalarDispatchPorts: rng.int(2, 3), vectorWritePorts: rng.int(2, 3), scalarWritePorts: 2, reservationStations: rng.int(8, 32), scheduling: 'hazard-aware' });
    for (let i = 0; i < 15; i++) {
      const vlen = 256 << rng.int(0, 2);
      const precision: TilePrecision = { weights: 'fp16', activations: 'fp16', kvCache: 'fp16' };
      const kind = i % 3;
      // 0: ROM-bound (port at half of VLEN/8), 1: MAC-bound (port 4x VLEN/8), 2: fetch-bound (FETCH 1)
      const over = kind === 0 ? { ...ample(), romBytesPerCycle: vlen / 16 } : kind === 1 ? { ...ample(), romBytesPerCycle: vlen / 2 } : { ...ample(), fetchWidth: 1, romBytesPerCycle: 0 };
      const tile = randomTile(rng, { vlenBits: vlen, imemKiB: 16, ...over });
      const R = 256;
      const C = 256;
      const r = runKernel(tile, precision, { kind: 'gemv', rows: R, cols: C }, { fidelity: 'detailed' });
      const bound = kind === 0 ? (R * C * 2) / (vlen / 16) : kind === 1 ? (R * C) / (vlen / 16) : walkCount(buildKernel(resolveTiming(tile, precision), { kind: 'gemv', rows: R, cols: C }).program.body) / 1;
      const ctx = { i, kind: ['rom', 'mac', 'fetch'][kind], vlen };
      expect({ ...ctx, ok: r.cycles >= bound && r.cycles <= 1.1 * bound }).toEqual({ ...ctx, ok: true });
    }
  });
});

/** Dynamic instruction count of a program tree, walked here (not taken from the model's counters). */
function walkCount(nodes: readonly Node[]): number {
  let n = 0;
  for (const x of nodes) n += x.kind === 'code' ? x.instrs.length : x.iterations * walkCount(x.body);
  return n;
}

/**
 * MACs a kernel must do, from its shape: y = W x is R*C per token; attention is q.k plus
 * p.v; RMSNorm's sum of squares and LayerNorm's variance are one MAC per element. Other
 * elementwise kernels (undefined here) are checked through the bound only.
 */
function expectedMacs(k: KernelSpec): number | undefined {
  switch (k.kind) {
    case 'gemv': return k.rows * k.cols;
    case 'gemm': return k.rows * k.cols * k.tokens;
    case 'attention': return 2 * k.queryHeads * k.contextTokens * k.headDim;
    case 'patch-embed': return k.patches * k.patchDim * k.hidden;
    case 'rmsnorm':
    case 'layernorm': return k.dim * (k.tokens ?? 1);
    default: return undefined;
  }
}

describe('resource bounds hold for every kernel, both fidelities', () => {
  test('cycles >= instructions / FETCH, MACs / lanes, weight bytes / ROM port, DMEM bytes / DMEM ports; the pipeline issues exactly the program', () => {
    const rng = new Rng(8, 'test/tile/bounds');
    for (let i = 0; i < 33; i++) {
      const tile = randomTile(rng);
      const precision = randomPrecision(rng);
      const k = KERNELS[i % KERNELS.length];
      const dynamic = walkCount(buildKernel(resolveTiming(tile, precision), k).program.body);
      const lanes = tile.vlenBits / BITS[precision.activations];
      const romBw = tile.romBytesPerCycle || tile.vlenBits / 8;
      const dmemBw = (tile.dmemBytesPerCycle || tile.vlenBits / 8) * tile.dmemPorts;
      const weightBytes = k.kind === 'gemv' || k.kind === 'gemm' ? (k.rows * k.cols * BITS[precision.weights]) / 8 : undefined;
      for (const fidelity of ['fast', 'detailed'] as const) {
        const r = runKernel(tile, precision, k, { fidelity });
        const ctx = { i, k: k.kind, fidelity };
        if (fidelity === 'detailed') expect({ ...ctx, issued: r.instructions }).toEqual({ ...ctx, issued: dynamic });
        const macs = expectedMacs(k) ?? r.macs;
        expect({ ...ctx, macs: r.macs }).toEqual({ ...ctx, macs });
        if (weightBytes !== undefined) expect({ ...ctx, rom: r.romBytesRead }).toEqual({ ...ctx, rom: Math.ceil(weightBytes) });
        const dmemBytes = r.counters['tile.dmemBytesRead'] + r.counters['tile.dmemBytesWritten'];
        const bounds = { fetch: dynamic / tile.fetchWidth, mac: macs / lanes, rom: (r.romBytesRead + r.counters['tile.romScaleBytesRead']) / romBw, dmem: dmemBytes / dmemBw };
        for (const [what, b] of Object.entries(bounds)) expect({ ...ctx, what, ok: r.cycles >= Math.floor(b) }).toEqual({ ...ctx, what, ok: true });
      }
    }
  });
});

describe('knobs act in the direction hardware does', () => {
  const base = CONFIGS[0];
  const cyc = (over: Record<string, unknown>, k: (typeof KERNELS)[number], p = base.precision) => runKernel(TileParamsSchema.parse({ ...base.tile, ...over }), p, k, { fidelity: 'detailed' }).cycles;

  test('each knob removes cycles on a kernel where it is the bottleneck', () => {
    const residual = { kind: 'residual', dim: 2048 } as const;
    const gemv = { kind: 'gemv', rows: 256, cols: 256 } as const;
    const gelu = { kind: 'gelu', dim: 1536 } as const;
    expect(cyc({ fetchWidth: 4 }, residual)).toBeLessThan(cyc({ fetchWidth: 1 }, residual)); // fetch-bound elementwise
    expect(cyc({ vlenBits: 1024 }, gemv)).toBeLessThan(cyc({ vlenBits: 512 }, gemv)); // lanes and ROM width
    expect(cyc({ reservationStations: 16 }, gelu)).toBeLessThan(cyc({ reservationStations: 2 }, gelu)); // long exp/rsqrt chains
    expect(cyc({ vectorDispatchPorts: 2 }, gemv)).toBeLessThan(cyc({ vectorDispatchPorts: 1 }, gemv));
    expect(cyc({ vectorWritePorts: 2 }, gemv)).toBeLessThan(cyc({ vectorWritePorts: 1 }, gemv));
    expect(cyc({ dmemPorts: 2 }, residual)).toBeLessThan(cyc({ dmemPorts: 1 }, residual));
    expect(cyc({ romBytesPerCycle: 256 }, gemv)).toBeLessThan(cyc({ romBytesPerCycle: 64 }, gemv));
  });

  test('on the whole matrix no knob adds more than 2%', () => {
    const knobs: [string, (t: TileParams) => Record<string, unknown>][] = [
      ['wider FETCH', (t) => ({ fetchWidth: Math.min(16, t.fetchWidth * 2) })],
      ['longer VLEN', (t) => ({ vlenBits: Math.min(2048, t.vlenBits * 2) })],
      ['more reservation stations', (t) => ({ reservationStations: Math.min(32, t.reservationStations * 2) })],
      ['more vector dispatch ports', (t) => ({ vectorDispatchPorts: t.vectorDispatchPorts + 1 })],
      ['more vector write ports', (t) => ({ vectorWritePorts: t.vectorWritePorts + 1 })],
      ['more DMEM ports', (t) => ({ dmemPorts: t.dmemPorts + 1 })],
    ];
    let worst = { what: '', ratio: 0 };
    for (const c of CONFIGS) {
      for (const k of KERNELS) {
        const before = runKernel(c.tile, c.precision, k, { fidelity: 'detailed' }).cycles;
        for (const [name, f] of knobs) {
          const after = runKernel(TileParamsSchema.parse({ ...c.tile, ...f(c.tile) }), c.precision, k, { fidelity: 'detailed' }).cycles;
          const ratio = after / before;
          if (ratio > worst.ratio) worst = { what: `${name} on ${label(k, c)}`, ratio };
          expect({ knob: name, case: label(k, c), ok: ratio <= 1.02 }).toEqual({ knob: name, case: label(k, c), ok: true });
        }
      }
    }
    console.log(`largest knob-induced change: ${worst.what}: x${worst.ratio.toFixed(4)}`);
  });
});

describe('hazard-aware vs in-order issue', () => {
  test('never slower anywhere in the matrix; strictly faster on attention and normalisation', () => {
    for (const c of CONFIGS) {
      for (const k of KERNELS) {
        const ha = runKernel({ ...c.tile, scheduling: 'hazard-aware' }, c.precision, k, { fidelity: 'detailed' }).cycles;
        const io = runKernel({ ...c.tile, scheduling: 'in-order' }, c.precision, k, { fidelity: 'detailed' }).cycles;
        expect({ case: label(k, c), ok: ha <= io }).toEqual({ case: label(k, c), ok: true });
        if (['attention', 'rmsnorm', 'layernorm'].includes(k.kind)) expect({ case: label(k, c), strictly: ha < io }).toEqual({ case: label(k, c), strictly: true });
      }
    }
  });
});

describe('invalid input gives one clear line', () => {
  const good = CONFIGS[0];
  const err = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      const m = (e as Error).message;
      expect(m).not.toMatch(/\n/);
      return m;
    }
    throw new Error('expected an error');
  };
  test('VLEN not a power of two', () => {
    expect(err(() => runKernel({ ...good.tile, vlenBits: 300 }, good.precision, { kind: 'gemv', rows: 8, cols: 8 }))).toMatch(/vlenBits = 300.*power of two/);
  });
  test('out-of-range parameters', () => {
    expect(err(() => runKernel({ ...good.tile, fetchWidth: 0 }, good.precision, { kind: 'gemv', rows: 8, cols: 8 }))).toMatch(/fetchWidth = 0.*1\.\.16/);
    expect(err(() => runKernel({ ...good.tile, reservationStations: 64 }, good.precision, { kind: 'gemv', rows: 8, cols: 8 }))).toMatch(/reservationStations = 64/);
    expect(err(() => runKernel(good.tile, good.precision, { kind: 'gemv', rows: 0, cols: 8 }))).toMatch(/gemv\.rows = 0/);
  });
  test('a kernel that needs more DMEM than the tile has', () => {
    const small = { ...good.tile, dmemKiB: 16 };
    expect(err(() => runKernel(small, good.precision, { kind: 'attention', queryHeads: 4, headDim: 128, contextTokens: 4096 }, { fidelity: 'detailed' }))).toMatch(/DMEM bytes needed = \d+: more than the tile's 16 KiB/);
  });
});
