import { Simulator } from '../sim/kernel/simulator.js';
import { CounterRegistry } from '../sim/counters/registry.js';
import { createNetwork } from '../sim/noc/create.js';
import type { Design } from '../sim/design/design.js';
import { nocTestDesign } from './noc-helpers.js';

/**
 * Credits, VCs and buffers in the message-level model (issue 11, deliverable 3), against
 * first principles and against the flit model.
 *
 * A VC whose downstream buffer holds D flits gets a slot back R = SA + ST + LT + 1 + CR
 * cycles after a flit left (the injection channel: R = 1 + 1 + CR), so an L-flit packet
 * alone on a path leaves its tail R floor((L - 1) / D) + (L - 1) mod D cycles after its head
 * when D < R, and L - 1 cycles after it otherwise: its latency is the zero-load formula plus
 * that stretch.
 */
function linePath(hops: number, noc: Record<string, unknown>): Design {
  return nocTestDesign(1, hops + 1, noc);
}

/** Expected latency of one L-flit packet from tile 0 to tile H on an idle 1 x (H + 1) line, from the stage delays. */
function expectedLatency(d: Design, hops: number, flits: number): number {
  const n = d.noc;
  const router = n.routeComputeCycles + n.vcAllocCycles + n.switchAllocCycles + n.switchTraversalCycles;
  const head = 1 + (hops + 1) * router + hops * n.linkTraversalCycles + 1;
  const R = hops > 0 ? n.switchAllocCycles + n.switchTraversalCycles + n.linkTraversalCycles + 1 + n.creditReturnCycles : 1 + 1 + n.creditReturnCycles;
  const D = n.bufferDepthFlits;
  const last = flits - 1;
  return head + (D >= R ? last : R * Math.floor(last / D) + (last % D));
}

function deliveries(d: Design, model: 'flit' | 'message', reservation: 'hop' | 'path', sends: [number, number, number][]): number[] {
  const sim = new Simulator();
  const net = createNetwork(sim, d, { model, counters: new CounterRegistry(), reservation });
  const at: number[] = [];
  for (const [src, dst, flits] of sends) net.sendPacket(src, dst, flits, (_m, t) => at.push(t));
  sim.run();
  return at;
}

describe('one packet on an idle path: latency = zero-load formula + credit stretch, in both models', () => {
  for (const V of [1, 2]) {
    test(`${V} VC(s), buffers of 1-8 flits, packets of 1-33 flits, 0-4 hops`, () => {
      for (const D of [1, 2, 3, 4, 5, 6, 8]) {
        for (const H of [0, 1, 2, 4]) {
          const d = linePath(H, { virtualChannels: V, bufferDepthFlits: D });
          for (const L of [1, 2, 3, 4, 5, 7, 16, 33]) {
            const want = expectedLatency(d, H, L);
            const got = [deliveries(d, 'flit', 'hop', [[0, H, L]])[0], deliveries(d, 'message', 'hop', [[0, H, L]])[0], deliveries(d, 'message', 'path', [[0, H, L]])[0]];
            expect({ D, H, L, got }).toEqual({ D, H, L, got: [want, want, want] });
          }
        }
      }
    });
  }

  test('other stage delays and a credit return delay', () => {
    const noc = { routeComputeCycles: 2, vcAllocCycles: 0, switchAllocCycles: 1, switchTraversalCycles: 0, linkTraversalCycles: 3, creditReturnCycles: 2 };
    for (const D of [1, 2, 3, 7, 9]) {
      const d = linePath(3, { ...noc, bufferDepthFlits: D });
      for (const L of [1, 4, 10, 25]) {
        const want = expectedLatency(d, 3, L);
        expect({ D, L, flit: deliveries(d, 'flit', 'hop', [[0, 3, L]])[0], message: deliveries(d, 'message', 'path', [[0, 3, L]])[0] }).toEqual({ D, L, flit: want, message: want });
      }
    }
  });
});

describe('back-to-back packets on one path: cycles per packet within one cycle of the flit model', () => {
  // the steady-state period: what one VC (one buffer's credits, one head's RC + VA at each
  // router, the back-pressure of a blocked head) lets through
  const period = (d: Design, model: 'flit' | 'message', H: number, L: number) => {
    const at = (n: number) => Math.max(...deliveries(d, model, 'path', Array.from({ length: n }, () => [0, H, L] as [number, number, number])));
    return (at(40) - at(20)) / 20;
  };
  for (const V of [1, 2, 4]) {
    test(`${V} VC(s)`, () => {
      for (const D of [1, 2, 3, 4, 6, 8]) {
        for (const H of [1, 3]) {
          const d = linePath(H, { virtualChannels: V, bufferDepthFlits: D });
          for (const L of [1, 2, 4, 16]) {
            const flit = period(d, 'flit', H, L);
            const message = period(d, 'message', H, L);
            expect({ D, H, L, flit, close: Math.abs(message - flit) <= 1 }).toEqual({ D, H, L, flit, close: true });
          }
        }
      }
    });
  }

  test('fewer credits or VCs never speed a stream up (message model)', () => {
    for (const H of [1, 3]) {
      for (const L of [1, 4, 16]) {
        let prev = Number.POSITIVE_INFINITY;
        for (const D of [1, 2, 3, 4, 6, 8]) {
          const p = period(linePath(H, { virtualChannels: 1, bufferDepthFlits: D }), 'message', H, L);
          expect(p).toBeLessThanOrEqual(prev);
          prev = p;
        }
      }
    }
  });
});

describe('per-VC injection FIFOs interleave a fan-out round-robin', () => {
  test('a 17-packet fan-out with 16 FIFOs: mean and last delivery within 2%, each within 6% of the flit model', () => {
    const d = nocTestDesign(3, 6, { virtualChannels: 16, bufferDepthFlits: 1, injectionQueues: 'per-vc' });
    const dsts = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17];
    const byDst = (model: 'flit' | 'message') => {
      const sim = new Simulator();
      const net = createNetwork(sim, d, { model, counters: new CounterRegistry(), reservation: 'path' });
      const at = new Map<number, number>();
      net.multicast(8, dsts, 268, (m, t) => at.set(m.dst, t));
      sim.run();
      return at;
    };
    const flit = byDst('flit');
    const message = byDst('message');
    for (const t of dsts) expect({ t, close: Math.abs(message.get(t)! / flit.get(t)! - 1) <= 0.06 }).toEqual({ t, close: true });
    const mean = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0) / m.size;
    expect(Math.abs(mean(message) / mean(flit) - 1)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(Math.max(...message.values()) / Math.max(...flit.values()) - 1)).toBeLessThanOrEqual(0.02);
    // one FIFO would send them one after another: the first packets arrive far earlier
    const single = nocTestDesign(3, 6, { virtualChannels: 16, bufferDepthFlits: 1, injectionQueues: 'single' });
    const sim = new Simulator();
    const net = createNetwork(sim, single, { model: 'message', counters: new CounterRegistry(), reservation: 'path' });
    const first: number[] = [];
    net.multicast(8, dsts, 268, (_m, t) => first.push(t));
    sim.run();
    expect(Math.min(...first)).toBeLessThan(0.5 * Math.min(...flit.values()));
  });
});

describe('packets converging on one tile share its ejection port', () => {
  // every tile of a 3 x 6 mesh sends 8 flits to tile 8 at once: 136 flits through one
  // ejection port, at least 136 cycles; round-robin among the ejection VCs
  for (const [V, D, queues] of [[16, 1, 'per-vc'], [2, 4, 'single'], [4, 2, 'single'], [1, 4, 'single']] as const) {
    test(`${V} VC(s) x ${D}, ${queues} injection: last delivery within 5% of the flit model, mean within 6%, never beating the port`, () => {
      const d = nocTestDesign(3, 6, { virtualChannels: V, bufferDepthFlits: D, injectionQueues: queues });
      const srcs = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17];
      const gather = (model: 'flit' | 'message') => deliveries(d, model, 'path', srcs.map((s) => [s, 8, 8] as [number, number, number]));
      const flit = gather('flit');
      const message = gather('message');
      const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
      expect(Math.abs(Math.max(...message) / Math.max(...flit) - 1)).toBeLessThanOrEqual(0.05);
      // (measured: within 4%)
      expect(Math.abs(mean(message) / mean(flit) - 1)).toBeLessThanOrEqual(0.06);
      // the first flit can reach tile 8 no earlier than its zero-load latency from a neighbour
      expect(Math.max(...message)).toBeGreaterThanOrEqual(8 * srcs.length);
    });
  }
});
