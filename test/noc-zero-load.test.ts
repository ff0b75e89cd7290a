import { Simulator } from '../sim/kernel/simulator.js';
import { CounterRegistry } from '../sim/counters/registry.js';
import { createNetwork } from '../sim/noc/create.js';
import type { Design } from '../sim/design/design.js';
import { nocTestDesign } from './noc-helpers.js';

/**
 * Zero-load latency, from first principles (docs/noc.md): a packet created at cycle c
 * enters its source router at c + 1 (injection channel), spends RC + VA + SA + ST in each
 * of the hops + 1 routers, LT on each of the hops links, 1 cycle on the ejection channel,
 * and its tail follows the head by L - 1 cycles.
 */
function expectedCycles(d: Design, src: number, dst: number, flits: number): number {
  const cols = d.mesh.cols;
  const hops = Math.abs((src % cols) - (dst % cols)) + Math.abs(Math.floor(src / cols) - Math.floor(dst / cols));
  const n = d.noc;
  const router = n.routeComputeCycles + n.vcAllocCycles + n.switchAllocCycles + n.switchTraversalCycles;
  return 1 + (hops + 1) * router + hops * n.linkTraversalCycles + 1 + (flits - 1);
}

/** Send one packet at a time through an otherwise empty network; return each latency. */
function measureAllPairs(d: Design, model: 'flit' | 'message', flits: number, pairs: [number, number][]): { got: number[]; want: number[] } {
  const sim = new Simulator();
  const net = createNetwork(sim, d, { model, counters: new CounterRegistry() });
  const got: number[] = [];
  const want: number[] = [];
  for (const [s, t] of pairs) {
    let lat = -1;
    sim.schedule(7, () => net.sendPacket(s, t, flits, (m, at) => (lat = at - m.createdAtCycles)));
    sim.run();
    got.push(lat);
    want.push(expectedCycles(d, s, t, flits));
  }
  return { got, want };
}

function allPairs(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s++) for (let t = 0; t < n; t++) out.push([s, t]);
  return out;
}

describe('zero-load latency equals the documented formula', () => {
  const d = nocTestDesign(8, 8);
  for (const model of ['flit', 'message'] as const) {
    for (const flits of [1, 4]) {
      test(`${model} model, 8x8, every source and destination pair, ${flits}-flit packets`, () => {
        const { got, want } = measureAllPairs(d, model, flits, allPairs(64));
        expect(got).toEqual(want);
      });
    }
  }

  test('worked example of docs/noc.md: corner to corner on 8x8 is 76 cycles (1 flit) and 79 (4 flits)', () => {
    expect(measureAllPairs(d, 'flit', 1, [[0, 63]]).got).toEqual([76]);
    expect(measureAllPairs(d, 'flit', 4, [[0, 63]]).got).toEqual([79]);
  });

  test('other stage delays, YX routing and deeper buffers', () => {
    const odd = nocTestDesign(5, 7, { routing: 'yx', routeComputeCycles: 2, vcAllocCycles: 0, switchAllocCycles: 1, switchTraversalCycles: 0, linkTraversalCycles: 3, creditReturnCycles: 1, bufferDepthFlits: 16 });
    for (const model of ['flit', 'message'] as const) {
      for (const flits of [1, 5]) {
        const { got, want } = measureAllPairs(odd, model, flits, allPairs(35));
        expect(got).toEqual(want);
      }
    }
  });

  test('all stages zero cycles: one cycle per link plus injection and ejection', () => {
    const fast = nocTestDesign(4, 4, { routeComputeCycles: 0, vcAllocCycles: 0, switchAllocCycles: 0, switchTraversalCycles: 0 });
    const { got, want } = measureAllPairs(fast, 'flit', 3, allPairs(16));
    expect(got).toEqual(want);
  });
});
