import { Simulator } from '../sim/kernel/simulator.js';
import { CounterRegistry } from '../sim/counters/registry.js';
import { Rng } from '../sim/random/rng.js';
import { createNetwork } from '../sim/noc/create.js';
import { NocDeadlockError, type NocModel } from '../sim/noc/network.js';
import { FlitNetwork } from '../sim/noc/flitNetwork.js';
import { destinationFunction, TRAFFIC_PATTERNS, type TrafficPattern } from '../sim/noc/traffic.js';
import type { NetworkMessage } from '../sim/noc/port.js';
import { nocTestDesign } from './noc-helpers.js';

/**
 * Nothing lost, nothing over-filled: random traffic of every pattern, injected for a
 * while and then drained to the end. Afterwards every packet has arrived exactly once,
 * ejected = injected + replicated, no VC buffer ever held more than its depth and no
 * credit count went negative; per-router counters agree with the packets' routes.
 */
function randomRun(model: NocModel, pattern: TrafficPattern, seed: number, noc: Record<string, unknown>, rate: number, maxFlits: number, k = 6) {
  const d = nocTestDesign(k, k, noc);
  const sim = new Simulator();
  const counters = new CounterRegistry();
  const net = createNetwork(sim, d, { model, counters });
  const rng = new Rng(seed, `test/${pattern}`);
  const dest = destinationFunction(pattern, k, k, { selfAllowed: true });
  const n = k * k;
  const sent = new Map<number, NetworkMessage & { flits: number; hops: number }>();
  const delivered = new Map<number, number>();
  let expectedHopFlits = 0;
  let expectedRouterVisits = 0;
  let flitsSent = 0;
  const onDelivered = (m: NetworkMessage, at: number) => {
    expect(delivered.has(m.id)).toBe(false);
    expect(at).toBeGreaterThan(m.createdAtCycles);
    delivered.set(m.id, at);
  };
  for (let c = 0; c < 600; c++) {
    sim.scheduleAt(c, () => {
      for (let s = 0; s < n; s++) {
        if (rng.next() < rate) {
          const flits = rng.int(1, maxFlits);
          const p = net.sendPacket(s, dest(s, rng), flits, onDelivered);
          sent.set(p.id, p);
          expectedHopFlits += p.hops * flits;
          expectedRouterVisits += p.hops + 1;
          flitsSent += flits;
        }
      }
    });
  }
  sim.run();
  const t = counters.totals();
  return { net, t, sent, delivered, expectedHopFlits, expectedRouterVisits, flitsSent, depth: d.noc.bufferDepthFlits };
}

describe('flit and message models lose nothing (random runs of every pattern)', () => {
  const configs: [string, Record<string, unknown>, number, number][] = [
    ['2 VCs x 4, 1-flit packets, heavy load', {}, 0.3, 1],
    ['1 VC x 2, up to 6 flits, saturated', { virtualChannels: 1, bufferDepthFlits: 2 }, 0.08, 6],
    ['3 VCs x 3, per-VC injection queues, odd delays', { virtualChannels: 3, bufferDepthFlits: 3, injectionQueues: 'per-vc', routeComputeCycles: 0, vcAllocCycles: 2, switchTraversalCycles: 0, linkTraversalCycles: 2, creditReturnCycles: 2, routing: 'yx' }, 0.1, 5],
  ];
  TRAFFIC_PATTERNS.forEach((pattern, pi) => {
    for (const [name, noc, rate, maxFlits] of configs) {
      for (const model of ['flit', 'message'] as const) {
        test(`${model}, ${pattern}, ${name}`, () => {
          const r = randomRun(model, pattern, 100 + pi, noc, rate, maxFlits);
          expect(r.sent.size).toBeGreaterThan(100);
          expect(r.delivered.size).toBe(r.sent.size);
          expect(r.net.flitsInFlight()).toBe(0);
          expect(r.net.packetsInFlight()).toBe(0);
          expect(r.t['noc.flitsEjected']).toBe(r.t['noc.flitsInjected'] + r.t['noc.flitsReplicated']);
          expect(r.t['noc.flitsInjected']).toBe(r.flitsSent);
          expect(r.t['noc.packetsInjected']).toBe(r.sent.size);
          expect(r.t['noc.linkFlitHops']).toBe(r.expectedHopFlits);
          expect(r.t['noc.routeComputations']).toBe(r.expectedRouterVisits);
          expect(r.t['noc.vcAllocations']).toBe(r.expectedRouterVisits);
          expect(r.t['noc.bufferWrites']).toBe(r.t['noc.bufferReads']);
          expect(r.t['noc.bufferReads']).toBe(r.flitsSent + r.expectedHopFlits);
          expect(r.t['noc.switchAllocations']).toBe(r.t['noc.bufferReads']);
          expect(r.t['noc.crossbarTraversals']).toBe(r.t['noc.bufferReads']);
          expect(r.t['noc.creditsReturned']).toBe(r.t['noc.bufferReads']);
          if (model === 'flit') {
            expect(r.net.maxBufferOccupancyFlits).toBeLessThanOrEqual(r.depth);
            expect(r.net.maxBufferOccupancyFlits).toBeGreaterThan(0);
            expect(r.net.minCredits).toBeGreaterThanOrEqual(0);
          }
          const links = r.net.linkFlits();
          let linkSum = 0;
          for (let k = 0; k < links.length; k++) if (k % 5 !== 0) linkSum += links[k];
          expect(linkSum).toBe(r.expectedHopFlits);
          const u = r.net.linkUtilisation(1000);
          for (let k = 0; k < links.length; k++) expect(u[k]).toBeCloseTo(links[k] / 1000, 12);
        });
      }
    }
  });
});

describe('send(), multicast and the watchdog', () => {
  test('send() packetises bytes with the header: ceil((8 B + headerBits) / flitBits) flits', () => {
    const d = nocTestDesign(3, 3, { flitBits: 64, headerBits: 32 });
    for (const model of ['flit', 'message'] as const) {
      const sim = new Simulator();
      const counters = new CounterRegistry();
      const net = createNetwork(sim, d, { model, counters });
      const got: number[] = [];
      for (const [bytes, flits] of [[0, 1], [4, 1], [5, 2], [12, 2], [13, 3], [1000, 126]]) {
        const p = net.send(0, 8, bytes, () => got.push(p.id), 7);
        expect([p.flits, p.tag, p.bytes]).toEqual([flits, 7, bytes]);
      }
      sim.run();
      expect(got.length).toBe(6);
    }
  });

  test('unicast multicast delivers once per destination; tree multicast replicates in the routers', () => {
    const dsts = [1, 5, 9, 14, 15, 3];
    for (const [model, mode] of [['flit', 'unicast'], ['message', 'unicast'], ['message', 'tree'], ['flit', 'tree']] as const) {
      const d = nocTestDesign(4, 4, { multicast: mode });
      const sim = new Simulator();
      const counters = new CounterRegistry();
      const net = createNetwork(sim, d, { model, counters });
      const seen: number[] = [];
      net.multicast(0, dsts, 100, (m) => seen.push(m.dst));
      sim.run();
      expect(seen.sort((a, b) => a - b)).toEqual([...dsts].sort((a, b) => a - b));
      const t = counters.totals();
      expect(t['noc.flitsEjected']).toBe(t['noc.flitsInjected'] + t['noc.flitsReplicated']);
      if (mode === 'tree') {
        // one packet of L flits leaves the source; the XY tree forks into six leaves
        const L = Math.ceil((800 + 32) / 128);
        expect(t['noc.flitsInjected']).toBe(L);
        expect(t['noc.packetsInjected']).toBe(1);
        expect(t['noc.flitsReplicated']).toBe(5 * L);
        // a tree uses fewer link traversals than unicast fan-out (sum of the hop counts = 21)
        expect(t['noc.linkFlitHops']).toBeLessThan(21 * L);
      } else expect(t['noc.flitsReplicated']).toBe(0);
    }
  });

  test('the watchdog names stuck routers and VCs instead of hanging', () => {
    const d = nocTestDesign(3, 3);
    const sim = new Simulator();
    const net = createNetwork(sim, d, { model: 'flit', counters: new CounterRegistry(), watchdogCycles: 500 }) as FlitNetwork;
    // sabotage: the east output of router 0 never gets a credit
    const credits = (net as unknown as { ovCredits: Int32Array }).ovCredits;
    const V = d.noc.virtualChannels;
    for (let v = 0; v < V; v++) credits[(0 * 6 + 2) * V + v] = 0;
    net.sendPacket(0, 2, 3, () => undefined);
    let err: unknown;
    try {
      sim.run();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NocDeadlockError);
    expect(String((err as Error).message)).toMatch(/no flit moved for 500 cycles/);
    expect(String((err as Error).message)).toMatch(/router\[0,0\] local vc\d \(active, 3 flits\)/);
    expect(sim.now).toBeLessThan(1000);
  });

  test('bursts of long tree multicasts from many tiles drain with 2, 3, 4 and 8 VCs (contending multicasts are granted in one order at every output)', () => {
    // Every 200 cycles a fifth of the tiles multicast 2-10 destinations 16-200 bytes:
    // before the switch allocator ordered the multicasts that lost an output by how long
    // they had waited, two of them sharing two outputs could each win one forever (the
    // watchdog reported a deadlock in 20-30% of these runs at every VC count).
    for (const V of [2, 3, 4, 8]) {
      for (let seed = 1; seed <= 6; seed++) {
        const d = nocTestDesign(5, 5, { multicast: 'tree', virtualChannels: V, bufferDepthFlits: 4 });
        const sim = new Simulator();
        const counters = new CounterRegistry();
        const net = createNetwork(sim, d, { model: 'flit', counters, watchdogCycles: 3000 });
        const rng = new Rng(seed, 'test/multicast-bursts');
        let expected = 0;
        let got = 0;
        for (let round = 0; round < 6; round++) {
          sim.scheduleAt(round * 200, () => {
            for (let s = 0; s < 25; s++) {
              if (rng.next() > 0.2) continue;
              const dsts = Array.from({ length: rng.int(2, 10) }, () => rng.int(0, 24));
              expected += new Set(dsts).size;
              net.multicast(s, dsts, rng.int(16, 200), () => got++);
            }
          });
        }
        sim.run();
        const t = counters.totals();
        expect({ V, seed, got }).toEqual({ V, seed, got: expected });
        expect(t['noc.flitsEjected']).toBe(t['noc.flitsInjected'] + t['noc.flitsReplicated']);
      }
    }
  });

  test('random tree multicast and unicast traffic drains completely, flit and message level', () => {
    for (const model of ['flit', 'message'] as const) {
      for (const noc of [{ multicast: 'tree' }, { multicast: 'tree', virtualChannels: 4, bufferDepthFlits: 2, injectionQueues: 'per-vc' }]) {
        const d = nocTestDesign(5, 5, noc);
        const sim = new Simulator();
        const counters = new CounterRegistry();
        const net = createNetwork(sim, d, { model, counters, watchdogCycles: 5000 });
        const rng = new Rng(9, 'test/tree');
        let expected = 0;
        let got = 0;
        for (let c = 0; c < 400; c++) {
          sim.scheduleAt(c, () => {
            for (let s = 0; s < 25; s++) {
              const u = rng.next();
              if (u < 0.01) {
                const dsts = Array.from({ length: rng.int(1, 8) }, () => rng.int(0, 24));
                expected += new Set(dsts).size;
                net.multicast(s, dsts, rng.int(0, 60), () => got++);
              } else if (u < 0.05) {
                expected++;
                net.send(s, rng.int(0, 24), rng.int(0, 60), () => got++);
              }
            }
          });
        }
        sim.run();
        const t = counters.totals();
        expect(got).toBe(expected);
        expect(net.flitsInFlight()).toBe(0);
        expect(t['noc.flitsEjected']).toBe(t['noc.flitsInjected'] + t['noc.flitsReplicated']);
        expect(t['noc.flitsReplicated']).toBeGreaterThan(0);
        if (model === 'flit') {
          expect(net.maxBufferOccupancyFlits).toBeLessThanOrEqual(d.noc.bufferDepthFlits);
          expect(net.minCredits).toBeGreaterThanOrEqual(0);
        }
      }
    }
  });
  test('path-reserved tree multicast (trunk and branches) on an idle network: the counts of router-by-router grouping, its deliveries where a packet fits in a buffer, and closer to the flit model where it does not (tree back-pressure)', () => {
    // 'hop' reservation groups destinations at every router; 'path' walks the dimension-order
    // tree directly and then applies the wormhole back-pressure of its branches (a packet
    // longer than a buffer: a branch held up downstream holds the tail where the branches
    // part). On an idle network (multicasts far apart) both count the same activity and give
    // the same delivery where no back-pressure applies; where it does, 'path' delivers no
    // earlier and nearer the flit model (the reference), which 'hop' trees do not model.
    for (const routing of ['xy', 'yx'] as const) {
      for (const depth of [4, 1]) {
        const d = nocTestDesign(6, 7, { multicast: 'tree', routing, bufferDepthFlits: depth });
        const rng = new Rng(4, `test/tree-walk/${routing}`);
        const casts = Array.from({ length: 60 }, () => ({ src: rng.int(0, 41), dsts: Array.from({ length: rng.int(2, 20) }, () => rng.int(0, 41)), bytes: rng.int(0, 200) }));
        const run = (model: NocModel, reservation?: 'hop' | 'path') => {
          const sim = new Simulator();
          const counters = new CounterRegistry();
          const net = createNetwork(sim, d, { model, counters, reservation });
          const arrivals = new Map<string, { at: number; flits: number }>();
          casts.forEach((c, k) =>
            sim.scheduleAt(k * 1000, () => net.multicast(c.src, c.dsts, c.bytes, (m, at) => arrivals.set(`${k}:${m.dst}`, { at: at - k * 1000, flits: (m as NetworkMessage & { flits: number }).flits }))),
          );
          sim.run();
          return { arrivals, totals: counters.totals(), inFlight: net.flitsInFlight() };
        };
        const hop = run('message', 'hop');
        const path = run('message', 'path');
        const flit = run('flit');
        expect(path.totals).toEqual(hop.totals);
        expect(path.inFlight).toBe(0);
        // every distinct destination of every multicast is reached once
        expect(path.arrivals.size).toBe(casts.reduce((s, c) => s + new Set(c.dsts).size, 0));
        let longer = 0;
        let pathError = 0;
        let hopError = 0;
        for (const [key, p] of path.arrivals) {
          const h = hop.arrivals.get(key)!;
          const f = flit.arrivals.get(key)!;
          if (p.flits <= depth) expect({ key, at: p.at }).toEqual({ key, at: h.at });
          else {
            expect({ key, noEarlier: p.at >= h.at }).toEqual({ key, noEarlier: true });
            longer++;
            pathError += Math.abs(p.at - f.at);
            hopError += Math.abs(h.at - f.at);
          }
        }
        expect(longer).toBeGreaterThan(100);
        expect(pathError).toBeLessThan(hopError);
        expect(pathError / longer).toBeLessThanOrEqual(2); // mean cycles off the flit model
      }
    }
  });
});
