import { runLoadPoint, runSweep, saturationLoad, sweepLoads, type LoadPointOptions } from '../sim/noc/lab.js';
import { TRAFFIC_PATTERNS } from '../sim/noc/traffic.js';
import { nocTestDesign } from './noc-helpers.js';

/**
 * The message-level model against the flit-level one: for every pattern, find the flit
 * model's saturation point (sweep at 0.05 steps), then compare average packet latency at
 * 50% and 69% of it (rounded down to 0.01): within 10%.
 */
describe('message-level model within 10% of the flit-level model below 70% of saturation', () => {
  const d = nocTestDesign(8, 8);
  const cases: [string, number][] = [...TRAFFIC_PATTERNS.map((p) => [p, 1] as [string, number]), ['uniform', 4]];
  for (const [pattern, packetFlits] of cases) {
    test(`${pattern}, ${packetFlits}-flit packets`, () => {
      const o: Omit<LoadPointOptions, 'rate'> = { pattern: pattern as LoadPointOptions['pattern'], packetFlits, seed: 5, model: 'flit', warmupCycles: 200, measureCycles: 600, drainCycles: 400 };
      const sat = saturationLoad(runSweep(d, sweepLoads(0.05, 1, 0.05), o));
      expect(sat).toBeGreaterThan(0);
      for (const f of [0.5, 0.69]) {
        const rate = Math.max(0.01, Math.floor(f * sat * 100) / 100);
        const flit = runLoadPoint(d, { ...o, rate, measureCycles: 1500, drainCycles: 1500 });
        const msg = runLoadPoint(d, { ...o, rate, measureCycles: 1500, drainCycles: 1500, model: 'message' });
        const err = Math.abs(msg.avgPacketLatencyCycles / flit.avgPacketLatencyCycles - 1);
        expect({ rate, within10: err <= 0.1 }).toEqual({ rate, within10: true });
      }
    });
  }
});
