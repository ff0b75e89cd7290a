import { Simulator, type SimEvent } from '../sim/kernel/simulator.js';
import { Rng } from '../sim/random/rng.js';
import { measure, report, type BenchSuite } from './harness.js';

/**
 * Kernel benchmark (issue 2): 10,000 events pending; delays 90% uniform in 1-100 cycles
 * and 10% in 100-1,000; three priority levels; 10% of scheduled events cancelled before
 * they fire; each handler schedules one new event (plus one replacement per cancel, so
 * the pending count stays at 10,000). Random draws come from a pre-computed table so the
 * figure measures the kernel, not the generator. Reported: events scheduled and
 * dispatched per second (cancelled events are not counted).
 */

const PENDING = 10_000;
const TABLE = 1 << 16;
const EVENTS_PER_CALL = 200_000;

function makeWorkload(window: number) {
  const rng = new Rng(2026, 'bench/kernel');
  const delays = new Int32Array(TABLE);
  const prios = new Int8Array(TABLE);
  const cancels = new Uint8Array(TABLE);
  const victims = new Int32Array(TABLE);
  const levels = [2, 4, 6]; // three priority levels
  for (let i = 0; i < TABLE; i++) {
    delays[i] = rng.bernoulli(0.9) ? rng.int(1, 100) : rng.int(100, 1000);
    prios[i] = levels[rng.int(0, 2)];
    // cancel with probability 1/9 per dispatch: cancels / (dispatches + cancels) = 10%
    cancels[i] = rng.bernoulli(1 / 9) ? 1 : 0;
    victims[i] = rng.int(0, 1023);
  }
  const sim = new Simulator({ nearWindowCycles: window });
  const ring: (SimEvent | null)[] = new Array(1024).fill(null);
  let k = 0;
  let cancelled = 0;
  let scheduled = 0;
  const schedule = () => {
    const i = k++ & (TABLE - 1);
    const ev = sim.schedule(delays[i], handler, 0, prios[i]);
    ring[i & 1023] = ev;
    scheduled++;
  };
  const handler = () => {
    const i = k & (TABLE - 1);
    schedule();
    if (cancels[i]) {
      // cancel a recently scheduled event; if it already fired, try its neighbours
      for (let j = 0; j < 8; j++) {
        const v = ring[(victims[i] + j) & 1023];
        if (v && sim.cancel(v)) {
          cancelled++;
          schedule();
          break;
        }
      }
    }
  };
  for (let i = 0; i < PENDING; i++) schedule();
  return {
    sim,
    step: () => sim.run(EVENTS_PER_CALL),
    stats: () => ({ cancelledFraction: cancelled / scheduled, pending: sim.pending }),
  };
}

/**
 * The kernel benchmark's events per second (wheel of 1,024 cycles), the reference the sim
 * suite's speed targets are relative to. `maxTime` (seconds, at least 5 samples) is shorter
 * where the reference is measured once per round beside each simulation (bench/interleaved.ts).
 */
export async function kernelEventsPerSecond(maxTime = 2): Promise<number> {
  const w = makeWorkload(1024);
  return (await measure('reference', w.step, EVENTS_PER_CALL, { minSamples: 5, maxTime })).perSecond;
}

export const kernelSuite: BenchSuite = {
  name: 'kernel',
  async run(print) {
    print('Event kernel: 10k pending, delays 90% 1-100 / 10% 100-1000, 3 priorities, 10% cancelled');
    const out = [];
    for (const [label, window, target] of [
      ['wheel 1024 cycles + library far queue', 1024, 5e6],
      ['wheel 128 cycles + library far queue', 128, undefined],
      ['library priority queue only', 0, undefined],
    ] as const) {
      const w = makeWorkload(window);
      const m = await measure(label, w.step, EVENTS_PER_CALL);
      const s = w.stats();
      print(`${report(m, 'events/s', target)}   [cancelled ${(100 * s.cancelledFraction).toFixed(1)}%, pending ${s.pending}]`);
      out.push(m);
    }
    return out;
  },
};
