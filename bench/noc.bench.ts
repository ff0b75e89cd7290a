import { runLoadPoint, type LoadPointOptions } from '../sim/noc/lab.js';
import { parseInput } from '../sim/validate/zod.js';
import { DesignSchema, type Design } from '../sim/design/design.js';
import { measure, report, type BenchSuite, type Measured } from './harness.js';

/**
 * NoC benchmark (issue 3): simulated cycles per wall-second of the flit-level model on
 * uniform random traffic, 2 VCs x 4 flits, 1-flit packets, Bernoulli injection (traffic
 * generation included), event-driven engine; and the message-level model's messages per
 * second. Targets: 50,000 cycles/s on 8x8 at 0.02, 8,000 at 0.25, 7,000 on 16x16 at 0.02.
 */
function mesh(k: number): Design {
  return parseInput(DesignSchema, {
    kind: 'design', schemaVersion: 1, name: `bench-${k}x${k}`, processNodeNm: 7, clockMHz: 500,
    mesh: { rows: k, cols: k },
    noc: { flitBits: 128, virtualChannels: 2, bufferDepthFlits: 4 },
    tile: { fetchWidth: 2, reservationStations: 8, vlenBits: 256, dmemKiB: 64, wmemKiB: 256, imemKiB: 8, scalarWritePorts: 1, vectorWritePorts: 1, scalarDispatchPorts: 1, vectorDispatchPorts: 1 },
  }, 'bench');
}

export const nocSuite: BenchSuite = {
  name: 'noc',
  async run(print) {
    const out: Measured[] = [];
    const flit = async (k: number, rate: number, cycles: number, target: number, engine: 'event' | 'cycle' = 'event') => {
      const d = mesh(k);
      const o: LoadPointOptions = { pattern: 'uniform', rate, packetFlits: 1, seed: 1, model: 'flit', engine, warmupCycles: 0, measureCycles: cycles, drainCycles: 0 };
      let seed = 1;
      const m = await measure(`flit ${k}x${k} uniform load ${rate} (${engine})`, () => runLoadPoint(d, { ...o, seed: seed++ }), cycles, { minSamples: 3, maxTime: 4 });
      print(report(m, 'cycles/s', target));
      out.push(m);
    };
    await flit(8, 0.02, 20_000, 50_000);
    await flit(8, 0.25, 4_000, 8_000);
    await flit(16, 0.02, 5_000, 7_000);
    await flit(16, 0.02, 2_000, undefined as unknown as number, 'cycle');
    // message level: messages (packets) per second, 8x8 uniform at 0.25 flits/node/cycle, 4-flit packets
    const d = mesh(8);
    const probe = runLoadPoint(d, { pattern: 'uniform', rate: 0.25, packetFlits: 4, seed: 1, model: 'message', warmupCycles: 0, measureCycles: 10_000, drainCycles: 0 });
    const msgs = probe.counters['noc.packetsInjected'];
    let seed = 1;
    const m = await measure('message 8x8 uniform load 0.25, 4-flit packets', () => runLoadPoint(d, { pattern: 'uniform', rate: 0.25, packetFlits: 4, seed: seed++, model: 'message', warmupCycles: 0, measureCycles: 10_000, drainCycles: 0 }), msgs, { minSamples: 3, maxTime: 4 });
    print(report(m, 'messages/s'));
    out.push(m);
    return out;
  },
};
