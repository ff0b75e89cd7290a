import { Simulator, SimulationError, type SimEvent } from '../sim/kernel/simulator.js';
import { Priority } from '../sim/kernel/priority.js';
import { Rng } from '../sim/random/rng.js';

/** Record (tag, time) for each dispatched event. */
function recorder(sim: Simulator) {
  const log: string[] = [];
  const h = (tag: string) => log.push(`${tag}@${sim.now}`);
  return { log, h };
}

describe('kernel ordering', () => {
  test.each([
    ['near', 10],
    ['far', 5000],
  ])('equal-time events run in (priority, insertion) order on the %s path', (_path, t) => {
    const sim = new Simulator({ nearWindowCycles: 1024 });
    const { log, h } = recorder(sim);
    sim.scheduleAt(t, h, 'd1', Priority.Default);
    sim.scheduleAt(t, h, 'l1', Priority.Low);
    sim.scheduleAt(t, h, 'u1', Priority.Urgent);
    sim.scheduleAt(t, h, 'd2', Priority.Default);
    sim.scheduleAt(t, h, 'u2', Priority.Urgent);
    sim.scheduleAt(t, h, 'h1', Priority.High);
    sim.scheduleAt(t - 1, h, 'early', Priority.Exit);
    sim.run();
    expect(log).toEqual([`early@${t - 1}`, `u1@${t}`, `u2@${t}`, `h1@${t}`, `d1@${t}`, `d2@${t}`, `l1@${t}`]);
  });

  test('far events migrate before direct inserts into the same cycle (FIFO across paths)', () => {
    const sim = new Simulator({ nearWindowCycles: 64 });
    const { log, h } = recorder(sim);
    sim.scheduleAt(200, h, 'far-a'); // far: 200 >= 0 + 64
    sim.scheduleAt(200, h, 'far-b');
    // at t = 150 the window covers 200: schedule directly into the same cycle and priority
    sim.scheduleAt(150, () => sim.scheduleAt(200, h, 'near-c'));
    sim.scheduleAt(150, () => sim.scheduleAt(200, h, 'near-u', Priority.Urgent));
    sim.run();
    expect(log).toEqual(['near-u@200', 'far-a@200', 'far-b@200', 'near-c@200']);
  });

  test('an event scheduled for the current cycle at a higher priority runs next', () => {
    const sim = new Simulator();
    const { log, h } = recorder(sim);
    sim.scheduleAt(5, () => {
      log.push('first@5');
      sim.schedule(0, h, 'urgent-now', Priority.Urgent);
    });
    sim.scheduleAt(5, h, 'second');
    sim.run();
    expect(log).toEqual(['first@5', 'urgent-now@5', 'second@5']);
  });

  test.each([
    ['near', 20],
    ['far', 3000],
  ])('cancel works on the %s path', (_p, t) => {
    const sim = new Simulator({ nearWindowCycles: 1024 });
    const { log, h } = recorder(sim);
    const a = sim.scheduleAt(t, h, 'a');
    const b = sim.scheduleAt(t, h, 'b');
    sim.scheduleAt(t + 1, h, 'c');
    expect(sim.pending).toBe(3);
    expect(sim.cancel(b)).toBe(true);
    expect(sim.cancel(b)).toBe(false);
    expect(sim.pending).toBe(2);
    sim.run();
    expect(log).toEqual([`a@${t}`, `c@${t + 1}`]);
    expect(sim.cancel(a)).toBe(false); // already fired
    expect(sim.eventsDispatched).toBe(2);
    expect(sim.pending).toBe(0);
  });

  test('a far event cancelled before migration never fires, and cancelling every event leaves nothing', () => {
    const sim = new Simulator({ nearWindowCycles: 32 });
    const { log, h } = recorder(sim);
    const evs = [10, 40, 100, 1000].map((t) => sim.scheduleAt(t, h, `e${t}`));
    for (const e of evs) sim.cancel(e);
    expect(sim.run()).toBe(0);
    expect(log).toEqual([]);
    expect(sim.peekTime()).toBeUndefined();
  });

  test('scheduling into the past, at a fractional time or with a bad priority is an error', () => {
    const sim = new Simulator();
    sim.runUntil(100);
    expect(() => sim.scheduleAt(99, () => {})).toThrow(SimulationError);
    expect(() => sim.schedule(-1, () => {})).toThrow(/past/);
    expect(() => sim.schedule(1.5, () => {})).toThrow(/integer/);
    expect(() => sim.schedule(1, () => {}, undefined, 9)).toThrow(/priority/);
    expect(() => sim.runUntil(50)).toThrow(SimulationError);
  });

  test('runUntil dispatches events due by then and leaves the clock there', () => {
    const sim = new Simulator({ nearWindowCycles: 16 });
    const { log, h } = recorder(sim);
    for (const t of [3, 10, 50, 51, 5000]) sim.scheduleAt(t, h, `t${t}`);
    expect(sim.runUntil(50)).toBe(3);
    expect(sim.now).toBe(50);
    expect(sim.peekTime()).toBe(51);
    sim.runUntil(4000);
    expect(sim.now).toBe(4000);
    sim.run();
    expect(log).toEqual(['t3@3', 't10@10', 't50@50', 't51@51', 't5000@5000']);
    expect(sim.now).toBe(5000);
  });

  test('step dispatches one event at a time; stop() ends run early', () => {
    const sim = new Simulator();
    const { log, h } = recorder(sim);
    sim.scheduleAt(1, h, 'a');
    sim.scheduleAt(2, () => sim.stop());
    sim.scheduleAt(3, h, 'c');
    expect(sim.step()).toBe(true);
    expect(log).toEqual(['a@1']);
    sim.run();
    expect(sim.now).toBe(2);
    sim.run();
    expect(log).toEqual(['a@1', 'c@3']);
    expect(sim.step()).toBe(false);
  });

  test('a billion idle cycles cost nothing: time jumps to the next event', () => {
    const sim = new Simulator();
    const { log, h } = recorder(sim);
    sim.scheduleAt(1, h, 'a');
    sim.scheduleAt(1_000_000_001, h, 'b');
    const dispatched = sim.run();
    expect(dispatched).toBe(2);
    expect(log).toEqual(['a@1', 'b@1000000001']);
  });
});

/**
 * Reference order: sort every (time, priority, seq) key. A random workload in which
 * handlers schedule and cancel further events must dispatch in exactly this order,
 * whatever the wheel width (0 = library heap only).
 */
function randomWorkload(sim: Simulator, seed: number): string[] {
  const rng = new Rng(seed, 'workload');
  const log: string[] = [];
  const live: SimEvent[] = [];
  let id = 0;
  const handler = (tag: number) => {
    log.push(`${tag}:${sim.now}`);
    if (id < 3000) {
      const n = rng.int(0, 2);
      for (let i = 0; i < n; i++) {
        const delay = rng.bernoulli(0.8) ? rng.int(0, 40) : rng.int(40, 5000);
        live.push(sim.schedule(delay, handler, id++, rng.int(0, 7)));
      }
      if (live.length && rng.bernoulli(0.15)) sim.cancel(live[rng.int(0, live.length - 1)]);
    }
  };
  for (let i = 0; i < 50; i++) live.push(sim.scheduleAt(rng.int(0, 3000), handler, id++, rng.int(0, 7)));
  sim.run();
  return log;
}

describe('posted events (no handle, object reused)', () => {
  test('post and schedule interleave in one (time, priority, insertion) order, near and far, and a reused event keeps it', () => {
    const sim = new Simulator({ nearWindowCycles: 64 });
    const { log, h } = recorder(sim);
    sim.post(5, h, 'p1');
    sim.schedule(5, h, 's1');
    sim.post(5, h, 'p2', Priority.High);
    sim.postAt(300, h, 'far-p'); // far path
    sim.scheduleAt(300, h, 'far-s');
    // fired posts are reused by later posts: each still runs once, in order
    sim.scheduleAt(10, () => {
      for (let i = 0; i < 4; i++) sim.post(i % 2, h, `r${i}`);
    });
    sim.run();
    expect(log).toEqual(['p2@5', 'p1@5', 's1@5', 'r0@10', 'r2@10', 'r1@11', 'r3@11', 'far-p@300', 'far-s@300']);
    expect(sim.pending).toBe(0);
    expect(sim.eventsDispatched).toBe(log.length + 1);
  });

  test('posting into the past or at a fractional time is an error', () => {
    const sim = new Simulator();
    sim.scheduleAt(10, () => undefined);
    sim.run();
    expect(() => sim.postAt(5, () => undefined)).toThrow(SimulationError);
    expect(() => sim.post(0.5, () => undefined)).toThrow(SimulationError);
  });
});

describe('kernel determinism', () => {
  test('near+far paths dispatch exactly like the library heap alone, for several window widths', () => {
    for (const seed of [1, 2, 3]) {
      const reference = randomWorkload(new Simulator({ nearWindowCycles: 0 }), seed);
      expect(reference.length).toBeGreaterThan(1000);
      for (const w of [1, 16, 1024]) expect(randomWorkload(new Simulator({ nearWindowCycles: w }), seed)).toEqual(reference);
    }
  });

  test('the library-heap order itself is (time, priority, seq): time never decreases', () => {
    const log = randomWorkload(new Simulator({ nearWindowCycles: 0 }), 7).map((s) => Number(s.split(':')[1]));
    for (let i = 1; i < log.length; i++) expect(log[i]).toBeGreaterThanOrEqual(log[i - 1]);
  });

  test('every dispatch is the smallest (time, priority, insertion order) among the pending events, checked against an independent pending list', () => {
    for (const nearWindowCycles of [0, 16]) {
      const sim = new Simulator({ nearWindowCycles });
      const rng = new Rng(11, 'oracle');
      // the test's own pending list: tag (= insertion order) -> [time, priority]
      const pending = new Map<number, [number, number]>();
      const handles = new Map<number, SimEvent>();
      let tag = 0;
      let checked = 0;
      const add = (time: number) => {
        const priority = rng.int(0, 7);
        pending.set(tag, [time, priority]);
        handles.set(tag, sim.scheduleAt(time, handler, tag, priority));
        tag++;
      };
      const less = (a: [number, number, number], b: [number, number, number]) => a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2])));
      function handler(t: number) {
        let best: [number, number, number] | undefined;
        for (const [k, [time, pri]] of pending) if (!best || less([time, pri, k], best)) best = [time, pri, k];
        expect(best).toEqual([sim.now, pending.get(t)![1], t]);
        pending.delete(t);
        checked++;
        if (tag < 2000) {
          for (let i = rng.int(1, 2); i > 0; i--) add(sim.now + (rng.bernoulli(0.7) ? rng.int(0, 3) : rng.int(4, 400)));
          if (rng.bernoulli(0.2)) {
            const victims = [...pending.keys()];
            const v = victims[rng.int(0, victims.length - 1)];
            if (v !== undefined && sim.cancel(handles.get(v)!)) pending.delete(v);
          }
        }
      }
      for (let i = 0; i < 40; i++) add(rng.int(0, 50));
      sim.run();
      expect(pending.size).toBe(0);
      expect(checked).toBeGreaterThan(1000);
    }
  });

  test('the same seed gives an identical event log; another seed a different one', () => {
    const a = randomWorkload(new Simulator(), 42);
    const b = randomWorkload(new Simulator(), 42);
    const c = randomWorkload(new Simulator(), 43);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });
});
