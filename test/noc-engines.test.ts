import { Simulator } from '../sim/kernel/simulator.js';
import { CounterRegistry } from '../sim/counters/registry.js';
import { createNetwork } from '../sim/noc/create.js';
import { runLoadPoint, type LoadPointOptions } from '../sim/noc/lab.js';
import { TRAFFIC_PATTERNS } from '../sim/noc/traffic.js';
import { Rng } from '../sim/random/rng.js';
import { NocDeadlockError } from '../sim/noc/network.js';
import { nocTestDesign } from './noc-helpers.js';

/**
 * The event-driven engine evaluates a router only in cycles where it can act; the
 * reference engine evaluates every router every cycle. Same seed, same statistics.
 */
const base: Omit<LoadPointOptions, 'rate' | 'pattern'> = { packetFlits: 1, seed: 3, model: 'flit', warmupCycles: 200, measureCycles: 800, drainCycles: 800 };

function withoutWork<T extends { routerEvaluations: number; eventsDispatched: number }>(r: T): Omit<T, 'routerEvaluations' | 'eventsDispatched'> {
  const { routerEvaluations: _a, eventsDispatched: _b, ...rest } = r;
  return rest;
}

describe('event-driven engine == cycle-by-cycle reference', () => {
  const cases: [string, Record<string, unknown>, number, number][] = [
    ['default 2 VCs x 4', {}, 0.2, 1],
    ['near saturation, 4-flit packets', {}, 0.3, 4],
    ['1 VC x 1 buffer, odd delays, YX, per-VC queues', { virtualChannels: 1, bufferDepthFlits: 1, routing: 'yx', routeComputeCycles: 2, vcAllocCycles: 0, switchAllocCycles: 2, switchTraversalCycles: 0, linkTraversalCycles: 2, creditReturnCycles: 3, injectionQueues: 'per-vc' }, 0.08, 3],
    ['zero-delay stages, 3 VCs x 2', { virtualChannels: 3, bufferDepthFlits: 2, routeComputeCycles: 0, vcAllocCycles: 0, switchAllocCycles: 0, switchTraversalCycles: 0, injectionQueues: 'per-vc' }, 0.25, 2],
  ];
  for (const pattern of TRAFFIC_PATTERNS) {
    for (const [name, noc, rate, packetFlits] of cases) {
      test(`${pattern}: ${name}`, () => {
        const d = nocTestDesign(5, 5, noc);
        const o = { ...base, pattern, rate, packetFlits };
        const ev = runLoadPoint(d, { ...o, engine: 'event' });
        const cy = runLoadPoint(d, { ...o, engine: 'cycle' });
        expect(ev.packetsMeasured).toBeGreaterThan(50);
        expect(withoutWork(ev)).toEqual(withoutWork(cy));
        expect(ev.routerEvaluations).toBeLessThanOrEqual(cy.routerEvaluations);
      });
    }
  }
});

describe('the event-driven engine does little work when little happens', () => {
  test('16x16 at load 0.02: router evaluations as a share of routers x cycles', () => {
    const d = nocTestDesign(16, 16);
    const r = runLoadPoint(d, { ...base, pattern: 'uniform', rate: 0.02, warmupCycles: 500, measureCycles: 2000, drainCycles: 2000 });
    const share = r.routerEvaluations / (256 * r.simulatedCycles);
    expect(r.converged).toBe(true);
    expect(share).toBeLessThanOrEqual(EVAL_SHARE_LIMIT);
  });

  test('one packet, a billion idle cycles, another packet: finishes in milliseconds of work', () => {
    for (const model of ['flit', 'message'] as const) {
      const sim = new Simulator();
      const net = createNetwork(sim, nocTestDesign(8, 8), { model, counters: new CounterRegistry() });
      const done: number[] = [];
      net.sendPacket(0, 63, 4, (_m, at) => done.push(at));
      sim.scheduleAt(1_000_000_000, () => net.sendPacket(63, 0, 4, (_m, at) => done.push(at)));
      sim.run();
      expect(done).toEqual([79, 1_000_000_079]);
      expect(sim.eventsDispatched).toBeLessThan(200);
      // per packet and router: one VC allocation and one switch allocation per flit at most
      if (model === 'flit') expect(net.routerEvaluations).toBeLessThanOrEqual(2 * 15 * (4 + 1));
    }
  });
});

const EVAL_SHARE_LIMIT = 0.3;

/** Random unicast and tree-multicast traffic; returns every delivery and the counters. */
function multicastRun(engine: 'event' | 'cycle', noc: Record<string, unknown>, seed: number) {
  const d = nocTestDesign(5, 5, { multicast: 'tree', ...noc });
  const sim = new Simulator();
  const counters = new CounterRegistry();
  const net = createNetwork(sim, d, { model: 'flit', engine, counters, watchdogCycles: 3000 });
  const rng = new Rng(seed, 'test/mc');
  const log: string[] = [];
  const cb = (m: { id: number; dst: number; createdAtCycles: number }, at: number) => log.push(`${m.dst}@${at}<-${m.createdAtCycles}`);
  for (let c = 0; c < 300; c++) {
    sim.scheduleAt(c, () => {
      for (let s = 0; s < 25; s++) {
        const u = rng.next();
        if (u < 0.01) net.multicast(s, Array.from({ length: rng.int(2, 8) }, () => rng.int(0, 24)), rng.int(0, 60), cb);
        else if (u < 0.05) net.send(s, rng.int(0, 24), rng.int(0, 60), cb);
      }
    });
  }
  sim.run();
  return { log, counters: counters.totals(), now: sim.now };
}

describe('tree multicast at flit level', () => {
  test('event-driven == cycle-by-cycle with multicast traffic', () => {
    for (const noc of [{}, { virtualChannels: 3, bufferDepthFlits: 3, vcAllocCycles: 0, creditReturnCycles: 1 }]) {
      const ev = multicastRun('event', noc, 4);
      const cy = multicastRun('cycle', noc, 4);
      expect(ev.log.length).toBeGreaterThan(300);
      expect(ev).toEqual(cy);
    }
  });

  test('with one VC, XY-tree multicast can deadlock (Lin and Ni 1991): the watchdog reports it, no hang', () => {
    expect(() => multicastRun('event', { virtualChannels: 1, bufferDepthFlits: 2 }, 9)).toThrow(NocDeadlockError);
  });
});

