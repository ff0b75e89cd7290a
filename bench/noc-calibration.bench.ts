import { runLoadPoint, runSweep, saturationLoad, sweepLoads, type LoadPointOptions } from '../sim/noc/lab.js';
import { MESSAGE_CALIBRATION, withCalibration, type MessageCalibration } from '../sim/noc/messageCalibration.js';
import type { TrafficPattern } from '../sim/noc/traffic.js';
import { Simulator } from '../sim/kernel/simulator.js';
import { CounterRegistry } from '../sim/counters/registry.js';
import { createNetwork } from '../sim/noc/create.js';
import { nocTestDesign } from '../test/noc-helpers.js';
import { runFidelity, sampleFidelityDesigns, type FidelityDesign } from '../test/noc-fidelity-designs.js';
import type { BenchSuite } from './harness.js';

/**
 * `npm run bench -- noc-calibration`: refits the message-level NoC's calibration constants
 * (sim/noc/messageCalibration.ts) against the flit model, one constant at a time around the
 * frozen values, and prints the errors each candidate gives:
 *
 * - synthetic traffic (the NoC lab, path reservation as the full chip uses it): 6x6 mesh,
 *   uniform, transpose, hotspot and neighbour traffic, 1 and 4-flit packets, VCs x buffer
 *   depth 1x1, 1x4, 2x1, 2x2, 4x2, 8x8, at 30%, 50% and 70% of the flit model's saturation load:
 *   average packet latency;
 * - gathers: every tile of a 3x6 mesh sends 8 flits to one tile at once (16 VCs x 1 with
 *   per-VC injection queues; 2 x 4, 4 x 2, 8 x 8 with one queue): mean delivery cycle;
 * - whole-chip traffic: 30 sampled designs (seed 1001, not the acceptance matrix's), 1 to 3
 *   micro-batches, tiny serving decode:4@64x4: tokens/s.
 *
 * docs/noc.md ("Calibration") records the table that fixed the constants.
 */
const PATTERNS: TrafficPattern[] = ['uniform', 'transpose', 'hotspot', 'neighbor'];
const CONFIGS: [number, number][] = [[1, 1], [1, 4], [2, 1], [2, 2], [4, 2], [8, 8]];
const FLITS = [1, 4];
const FRACTIONS = [0.3, 0.5, 0.7];
const CHIP_TRACE = 'decode:4@64x4';

const CANDIDATES: [string, Partial<MessageCalibration>][] = [
  ['frozen', {}],
  ['calendarGaps 2', { calendarGaps: 2 }],
  ['calendarGaps 4', { calendarGaps: 4 }],
  ['calendarGaps 12', { calendarGaps: 12 }],
  ['ejectionInterleave 0', { ejectionInterleave: 0 }],
  ['ejectionInterleave 0.25', { ejectionInterleave: 0.25 }],
  ['ejectionInterleave 0.75', { ejectionInterleave: 0.75 }],
  ['ejectionInterleave 1', { ejectionInterleave: 1 }],
  ['ejectionWindowPerVc 2', { ejectionWindowPerVc: 2 }],
  ['ejectionWindowPerVc 8', { ejectionWindowPerVc: 8 }],
];

const GATHERS: [number, number, 'single' | 'per-vc'][] = [[16, 1, 'per-vc'], [2, 4, 'single'], [4, 2, 'single'], [8, 8, 'single']];

/** Mean delivery cycle of a 17-to-1 gather of 8-flit packets into tile 8 of a 3x6 mesh. */
function gatherMean(vcs: number, depth: number, queues: 'single' | 'per-vc', model: 'flit' | 'message', calibration?: MessageCalibration): number {
  const d = nocTestDesign(3, 6, { virtualChannels: vcs, bufferDepthFlits: depth, injectionQueues: queues });
  const sim = new Simulator();
  const net = createNetwork(sim, d, { model, counters: new CounterRegistry(), reservation: 'path', calibration });
  let sum = 0;
  let n = 0;
  for (let s = 0; s < 18; s++) if (s !== 8) net.sendPacket(s, 8, 8, (_m, t) => ((sum += t), n++));
  sim.run();
  return sum / n;
}

interface LabPoint {
  readonly design: ReturnType<typeof nocTestDesign>;
  readonly options: LoadPointOptions;
  readonly flitLatency: number;
}

function labPoints(print: (line: string) => void): LabPoint[] {
  const out: LabPoint[] = [];
  for (const pattern of PATTERNS) {
    for (const [vcs, depth] of CONFIGS) {
      for (const packetFlits of FLITS) {
        const design = nocTestDesign(6, 6, { virtualChannels: vcs, bufferDepthFlits: depth });
        const base: Omit<LoadPointOptions, 'rate'> = { pattern, packetFlits, seed: 5, model: 'flit', warmupCycles: 300, measureCycles: 1500, drainCycles: 1500 };
        const sat = saturationLoad(runSweep(design, sweepLoads(0.02, 1, 0.02), base));
        for (const f of FRACTIONS) {
          const rate = Math.max(0.01, Math.floor(f * sat * 100) / 100);
          const options = { ...base, rate };
          out.push({ design, options, flitLatency: runLoadPoint(design, options).avgPacketLatencyCycles });
        }
      }
    }
  }
  print(`  synthetic: ${out.length} load points (flit model measured once)`);
  return out;
}

function stats(errors: number[]): string {
  const abs = errors.map(Math.abs);
  return `mean ${(100 * (abs.reduce((a, b) => a + b, 0) / abs.length)).toFixed(2)}%, worst ${(100 * Math.max(...abs)).toFixed(1)}%`;
}

export const nocCalibrationSuite: BenchSuite = {
  name: 'noc-calibration',
  async run(print) {
    print('Message-level NoC calibration against the flit model (one constant varied at a time)');
    print(`  frozen: ${JSON.stringify(MESSAGE_CALIBRATION)}`);
    const lab = labPoints(print);
    const gatherFlit = GATHERS.map(([v, b, q]) => gatherMean(v, b, q, 'flit'));
    const chip: FidelityDesign[] = sampleFidelityDesigns(1001, 30).map((d, i) => ({ ...d, microBatches: 1 + (i % 3) }));
    const chipFlit = chip.map((d) => runFidelity(d, CHIP_TRACE, 'flit').tokensPerSecond);
    print(`  whole chip: ${chip.length} sampled designs, tiny ${CHIP_TRACE}`);
    for (const [name, change] of CANDIDATES) {
      const calibration = { ...MESSAGE_CALIBRATION, ...change };
      const labErrors = lab.map((p) => runLoadPoint(p.design, { ...p.options, model: 'message', reservation: 'path', calibration }).avgPacketLatencyCycles / p.flitLatency - 1);
      const gatherErrors = GATHERS.map(([v, b, q], i) => gatherMean(v, b, q, 'message', calibration) / gatherFlit[i] - 1);
      const chipErrors = withCalibration(calibration, () => chip.map((d, i) => runFidelity(d, CHIP_TRACE, 'fast').tokensPerSecond / chipFlit[i] - 1));
      print(`  ${name.padEnd(24)} synthetic latency ${stats(labErrors).padEnd(26)} gathers ${stats(gatherErrors).padEnd(26)} whole-chip tokens/s ${stats(chipErrors)}`);
    }
    return [];
  },
};
