import { simulateChip, type ChipFidelity } from '../sim/chip/run.js';
import { builtinModel } from '../sim/model/catalog.js';
import { generateTrace } from '../sim/trace/generators.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { presetDesign } from '../sim/design/presets.js';
import { DesignSchema, type Design } from '../sim/design/design.js';
import { parseInput } from '../sim/validate/zod.js';
import { Simulator } from '../sim/kernel/simulator.js';
import { CounterRegistry } from '../sim/counters/registry.js';
import { createNetwork } from '../sim/noc/create.js';
import { nocTestDesign } from './noc-helpers.js';

/**
 * Issue 11, deliverable 4: the simulated window ends when the work ends, at every
 * fidelity, and power is energy over that window. Before the fix the flit network's
 * pending watchdog check (100,000 cycles after the last flit moved) stretched
 * `run.simulatedCycles` at flit and detailed fidelity, so tiny-2x2 reported 2-4x less power
 * than at fast fidelity.
 */

const tile = { fetchWidth: 4, reservationStations: 8, vlenBits: 256, dmemKiB: 128, wmemKiB: 256, imemKiB: 8, scalarWritePorts: 1, vectorWritePorts: 2, scalarDispatchPorts: 1, vectorDispatchPorts: 2 };
/** The small designs of test/chip-sim.test.ts (a 2x3 mesh for `tiny`, a 2x2 one for SmolLM2-135M). */
function chipSimDesign(over: Record<string, unknown>): Design {
  const serving = { batching: 'continuous', maxBatch: 4, prefillChunkTokens: 32, microBatches: 1 };
  return parseInput(DesignSchema, { kind: 'design', schemaVersion: 1, name: 't', processNodeNm: 7, clockMHz: 500, mesh: { rows: 2, cols: 3 }, noc: { flitBits: 128, virtualChannels: 2, bufferDepthFlits: 4 }, tile, serving, ...over }, 'test design');
}

const CASES: [string, string, string, () => Design][] = [
  ['tiny', 'tiny-2x2', 'decode:8@64', () => presetDesign('tiny-2x2')!],
  ['tiny', 'tiny-2x2', 'decode:3@20x4', () => presetDesign('tiny-2x2')!],
  ['tiny', 'tiny-2x2', 'request:40:6', () => presetDesign('tiny-2x2')!],
  ['tiny', 'tiny-2x2', 'poisson:rate=2000,n=4,prompt=16,output=4', () => presetDesign('tiny-2x2')!],
  ['tiny', '2x3 test design', 'decode:4@100', () => chipSimDesign({})],
  ['smollm2-135m', '2x2 test design', 'decode:2@64', () => chipSimDesign({ mesh: { rows: 2, cols: 2 }, tile: { ...tile, vlenBits: 512, wmemKiB: 67000, dmemKiB: 512 }, noc: { flitBits: 256, virtualChannels: 2, bufferDepthFlits: 4 } })],
  ['smollm2-135m', 'edge-4x4-28nm', 'decode:2@64', () => presetDesign('edge-4x4-28nm')!],
];

describe('the simulated window ends with the work at every fidelity', () => {
  test.each(CASES)('%s on %s, %s: window = last request done; flit and detailed power within 3% of fast', (model, _name, trace, design) => {
    const d = design();
    const power: Record<string, number> = {};
    for (const fidelity of ['fast', 'flit', 'detailed'] as ChipFidelity[]) {
      const r = simulateChip({ card: builtinModel(model)!, design: d, trace: generateTrace(trace), tech: DEFAULT_TECH, fidelity, seed: 1 }).result;
      if (!r.feasible) throw new Error(`unexpectedly infeasible: ${r.mapping.reasons.join('; ')}`);
      // the last request's last token is the last work of the run: the window ends there
      const lastDoneCycles = Math.max(...r.requests.map((q) => q.doneMs)) * d.clockMHz * 1000;
      expect(r.run.simulatedCycles).toBeCloseTo(lastDoneCycles, 3);
      // power is energy over that window
      expect((r.metrics.powerW * r.run.simulatedCycles) / (d.clockMHz * 1e6) / (r.report.energyPj.total * 1e-12)).toBeCloseTo(1, 9);
      power[fidelity] = r.metrics.powerW;
    }
    expect(Math.abs(power.flit / power.fast - 1)).toBeLessThan(0.03);
    expect(Math.abs(power.detailed / power.fast - 1)).toBeLessThan(0.03);
  });
});

describe('the flit network leaves no event behind once it drains', () => {
  test('the watchdog check is cancelled with the last delivery and re-armed by the next packet', () => {
    const sim = new Simulator();
    const net = createNetwork(sim, nocTestDesign(3, 3), { model: 'flit', counters: new CounterRegistry(), watchdogCycles: 1000 });
    const delivered: number[] = [];
    net.send(0, 8, 64, (_m, at) => delivered.push(at));
    sim.run();
    expect(delivered).toHaveLength(1);
    expect(sim.now).toBe(delivered[0]);
    expect(sim.pending).toBe(0);
    // a second burst long after: the watchdog works again (no stale check fires early)
    sim.scheduleAt(sim.now + 5000, () => net.send(8, 0, 64, (_m, at) => delivered.push(at)));
    sim.run();
    expect(delivered).toHaveLength(2);
    expect(sim.now).toBe(delivered[1]);
    expect(sim.pending).toBe(0);
  });
});
