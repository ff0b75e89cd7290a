import { TileParamsSchema } from '../sim/design/design.js';
import { runKernel } from '../sim/tile/run.js';
import type { KernelSpec } from '../sim/tile/kernels.js';
import { measure, report, type BenchSuite } from './harness.js';

/**
 * Tile benchmark (issue 4): the detailed model's simulated instructions per second
 * (target 1 M), the fast model's kernels per second, and on a 4096 x 1024 GEMV the fast
 * model's speed-up and event reduction over the detailed one (targets 20x and 100x).
 * Tile: the w4a16-8x8-7nm preset's tile (FETCH 4, STANUM 16, VLEN 1024).
 */
const tile = TileParamsSchema.parse({ fetchWidth: 4, reservationStations: 16, vlenBits: 1024, dmemKiB: 512, wmemKiB: 10240, imemKiB: 16, scalarWritePorts: 2, vectorWritePorts: 2, scalarDispatchPorts: 2, vectorDispatchPorts: 2 });
const fp16 = { weights: 'fp16', activations: 'fp16', kvCache: 'fp16' } as const;
const w4a16 = { weights: 'int4', activations: 'fp16', kvCache: 'int8' } as const;

const MIX: KernelSpec[] = [
  { kind: 'gemv', rows: 4096, cols: 1024 },
  { kind: 'gemv', rows: 1024, cols: 4096 },
  { kind: 'attention', queryHeads: 4, headDim: 64, contextTokens: 2048 },
  { kind: 'rmsnorm', dim: 2048 },
  { kind: 'silu-gate', dim: 8192 },
  { kind: 'rope', heads: 32, headDim: 64 },
  { kind: 'residual', dim: 2048 },
  { kind: 'argmax', vocab: 16384 },
];

export const tileSuite: BenchSuite = {
  name: 'tile',
  async run(print) {
    const out = [];
    const gemv: KernelSpec = { kind: 'gemv', rows: 4096, cols: 1024 };
    const det = runKernel(tile, fp16, gemv, { fidelity: 'detailed' });
    const fast = runKernel(tile, fp16, gemv, { fidelity: 'fast' });
    print(`4096x1024 FP16 GEMV: detailed ${det.cycles} cycles, ${det.instructions} instructions, ${det.events} events; fast ${fast.cycles} cycles (${((100 * (fast.cycles - det.cycles)) / det.cycles).toFixed(2)}%), ${fast.events} events (${(det.events / fast.events).toFixed(0)}x fewer; target 100x)`);
    const md = await measure('detailed model, 4096x1024 FP16 GEMV', () => runKernel(tile, fp16, gemv, { fidelity: 'detailed' }), det.instructions, { maxTime: 4 });
    print(report(md, 'instructions/s', 1e6));
    const mf = await measure('fast model, 4096x1024 FP16 GEMV', () => runKernel(tile, fp16, gemv, { fidelity: 'fast' }), 1, { maxTime: 3 });
    print(report(mf, 'kernels/s'));
    const speedup = mf.perSecond / (md.perSecond / det.instructions);
    print(`  fast / detailed speed on the 4096x1024 GEMV: ${speedup.toFixed(1)}x (target 20x: ${speedup >= 20 ? 'met' : 'MISSED'})`);
    const mm = await measure('fast model, decode kernel mix (W4A16)', () => {
      for (const k of MIX) runKernel(tile, w4a16, k, { fidelity: 'fast' });
    }, MIX.length, { maxTime: 3 });
    print(report(mm, 'kernels/s'));
    out.push(md, mf, mm);
    return out;
  },
};
