import { KernelCache, runKernel } from '../sim/tile/run.js';
import { CONFIGS, KERNELS, label } from './tile-matrix.js';
import { TileParamsSchema } from '../sim/design/design.js';

describe('fast model vs detailed model', () => {
  test('within 5% on every kernel x configuration case of the matrix (>= 50 cases)', () => {
    const rows: { case: string; detailed: number; fast: number; errPct: number }[] = [];
    for (const c of CONFIGS) {
      for (const k of KERNELS) {
        const d = runKernel(c.tile, c.precision, k, { fidelity: 'detailed' });
        const f = runKernel(c.tile, c.precision, k, { fidelity: 'fast' });
        // activity counters do not depend on timing: identical in both models
        for (const name of ['tile.macs', 'tile.romBytesRead', 'tile.romScaleBytesRead', 'tile.dmemBytesRead', 'tile.dmemBytesWritten', 'tile.kvBytesRead', 'tile.instructionsIssued', 'tile.vectorInstructions']) {
          expect({ case: label(k, c), name, v: f.counters[name] }).toEqual({ case: label(k, c), name, v: d.counters[name] });
        }
        rows.push({ case: label(k, c), detailed: d.cycles, fast: f.cycles, errPct: (100 * (f.cycles - d.cycles)) / d.cycles });
      }
    }
    expect(rows.length).toBeGreaterThanOrEqual(50);
    const worst = rows.reduce((a, b) => (Math.abs(b.errPct) > Math.abs(a.errPct) ? b : a));
    console.log(`fast vs detailed over ${rows.length} cases: worst ${worst.case}: detailed ${worst.detailed}, fast ${worst.fast} cycles (${worst.errPct.toFixed(2)}%); mean |error| ${(rows.reduce((s, r) => s + Math.abs(r.errPct), 0) / rows.length).toFixed(2)}%`);
    for (const r of rows) expect({ case: r.case, within5pct: Math.abs(r.errPct) <= 5 }).toEqual({ case: r.case, within5pct: true });
  });

  test('4096 x 1024 GEMV: the fast model needs over 100x fewer events', () => {
    const tile = TileParamsSchema.parse({ fetchWidth: 4, reservationStations: 16, vlenBits: 1024, dmemKiB: 512, wmemKiB: 10240, imemKiB: 16, scalarWritePorts: 2, vectorWritePorts: 2, scalarDispatchPorts: 2, vectorDispatchPorts: 2 });
    const p = { weights: 'fp16', activations: 'fp16', kvCache: 'fp16' } as const;
    const k = { kind: 'gemv', rows: 4096, cols: 1024 } as const;
    const d = runKernel(tile, p, k, { fidelity: 'detailed' });
    const f = runKernel(tile, p, k, { fidelity: 'fast' });
    expect(f.events * 100).toBeLessThanOrEqual(d.events);
    expect(Math.abs(f.cycles - d.cycles) / d.cycles).toBeLessThan(0.05);
  });

  test('deterministic: the same run gives the same result whatever ran before', () => {
    const c = CONFIGS[1];
    const k = KERNELS[2];
    for (const fidelity of ['fast', 'detailed'] as const) {
      const a = runKernel(c.tile, c.precision, k, { fidelity });
      for (const other of KERNELS) runKernel(CONFIGS[3].tile, CONFIGS[3].precision, other, { fidelity });
      const b = runKernel(c.tile, c.precision, k, { fidelity });
      expect(b.cycles).toBe(a.cycles);
      expect(b.counters).toEqual(a.counters);
      expect(b.stallCycles).toEqual(a.stallCycles);
    }
  });

  test('KernelCache returns the same result as a fresh run and counts hits', () => {
    const cache = new KernelCache();
    const c = CONFIGS[0];
    const a = cache.run(c.tile, c.precision, KERNELS[0]);
    const b = cache.run({ ...c.tile }, { ...c.precision }, { ...KERNELS[0] });
    expect(b).toBe(a);
    expect(cache.hits).toBe(1);
    expect(a.cycles).toBe(runKernel(c.tile, c.precision, KERNELS[0]).cycles);
  });
});
