import { runLoadPoint, runSweep, saturationLoad, sweepLoads, type LoadPointOptions } from '../sim/noc/lab.js';
import { nocTestDesign } from './noc-helpers.js';

/**
 * Throughput on 8x8 uniform random traffic with 1-flit packets. The bisection bound: half
 * the packets cross the bisection, which has 2k = 16 channels per direction for 64 nodes,
 * so accepted <= 2 x 16 / 64 = 0.5 flits/node/cycle (Dally & Towles 3.3.1, k = 8).
 * Windows are shorter than the CLI's defaults to keep the suite fast.
 */
const base: Omit<LoadPointOptions, 'rate'> = { pattern: 'uniform', packetFlits: 1, seed: 11, model: 'flit', warmupCycles: 500, measureCycles: 2000, drainCycles: 2000 };

describe('uniform random on 8x8', () => {
  test('4 VCs x 8 flits: accepted within 2% of offered up to 0.35; never above the bisection bound', () => {
    const d = nocTestDesign(8, 8, { virtualChannels: 4, bufferDepthFlits: 8 });
    for (const rate of [0.05, 0.15, 0.25, 0.3, 0.35]) {
      const r = runLoadPoint(d, { ...base, rate });
      expect({ rate, ok: Math.abs(r.acceptedFlitsPerNodeCycle - rate) <= 0.02 * rate }).toEqual({ rate, ok: true });
    }
    for (const rate of [0.6]) {
      const r = runLoadPoint(d, { ...base, rate, warmupCycles: 200, measureCycles: 600, drainCycles: 0 });
      expect(r.acceptedFlitsPerNodeCycle).toBeLessThanOrEqual(0.5);
      expect(r.saturated).toBe(true);
    }
  });

  test('sweeps at 0.01 steps: more VCs or deeper buffers never lower saturation by more than a step; 1 -> 2 VCs raises it', () => {
    // sweeps start below each configuration's saturation (a saturated first point gives 0 and fails)
    const quick = { ...base, warmupCycles: 200, measureCycles: 600, drainCycles: 400 };
    const sat = (vcs: number, depth: number, from: number) => saturationLoad(runSweep(nocTestDesign(8, 8, { virtualChannels: vcs, bufferDepthFlits: depth }), sweepLoads(from, 0.6, 0.01), quick));
    const s = {
      v1b4: sat(1, 4, 0.05),
      v2b4: sat(2, 4, 0.2),
      v4b4: sat(4, 4, 0.3),
      v2b8: sat(2, 8, 0.2),
    };
    expect(Math.min(...Object.values(s))).toBeGreaterThan(0.05);
    const step = 0.01 + 1e-9;
    expect(s.v2b4).toBeGreaterThan(s.v1b4);
    expect(s.v4b4).toBeGreaterThanOrEqual(s.v2b4 - step);
    expect(s.v2b8).toBeGreaterThanOrEqual(s.v2b4 - step);
    expect(s.v4b4).toBeLessThanOrEqual(0.5);
  });
});
