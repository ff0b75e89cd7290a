import { TileParamsSchema } from '../sim/design/design.js';
import { DetailedTile } from '../sim/tile/detailed.js';
import { FastTile } from '../sim/tile/fast.js';
import { instr, Op, ProgramBuilder, v, x, type Program } from '../sim/tile/isa.js';
import { resolveTiming } from '../sim/tile/params.js';

/**
 * Hand-computed micro-programs (docs/tile.md "Pipeline"): an instruction fetched in cycle
 * f dispatches in f+1 at the earliest and issues in f+2 at the earliest; a result issued
 * in cycle t with latency L is usable (and done) in t+L; a run lasts until the last result
 * is done. Default latencies: add 2, exp 8, scalar 1; ROM load: occupancy + latency - 1.
 */
const FP16 = { weights: 'fp16', activations: 'fp16', kvCache: 'fp16' } as const;

function tile(over: Record<string, unknown>) {
  return resolveTiming(
    TileParamsSchema.parse({ fetchWidth: 4, reservationStations: 16, vlenBits: 256, dmemKiB: 64, wmemKiB: 256, imemKiB: 8, scalarWritePorts: 4, vectorWritePorts: 4, scalarDispatchPorts: 4, vectorDispatchPorts: 4, ...over }),
    FP16,
  );
}

function run(over: Record<string, unknown>, p: Program) {
  const d = new DetailedTile(tile(over), p);
  d.run();
  const s = d.stats;
  const stalls = { fetch: s.stall[7], dispatch: s.stall[6], writePort: s.stall[5], raw: s.stall[4], reservation: s.stall[3], dmemPort: s.stall[2], romPort: s.stall[1], noc: s.stall[0] };
  return { cycles: s.cycles, busy: s.busyCycles, stalls, stats: s };
}

const vadd = (d: number, a: number, b: number) => instr(Op.VADD, d, [a, b], { elems: 16 });

describe('detailed pipeline: hand-computed micro-programs', () => {
  test('dependent chain: 4 adds, each needing the previous result', () => {
    const b = new ProgramBuilder();
    for (let i = 0; i < 4; i++) b.emit(vadd(v(1), v(1), v(2)));
    // fetched 0, dispatched 1 (one vector dispatch port: 1, 2, 3, 4), first issue 2;
    // each add waits the 2-cycle latency of the one before: issues 2, 4, 6, 8; done 10.
    const r = run({ vectorDispatchPorts: 1 }, b.build('chain'));
    const N = 4;
    const addLat = 2;
    expect(r.cycles).toBe(2 + N * addLat);
    expect(r.busy).toBe(N); // cycles 2, 4, 6, 8
    expect(r.stalls.fetch).toBe(2); // pipeline fill, cycles 0-1
    expect(r.stalls.raw).toBe(r.cycles - N - 2); // 3, 5, 7 and the drain cycle 9
  });

  test('independent burst wider than FETCH: 8 scalar ops, FETCH 2', () => {
    const mk = () => {
      const b = new ProgramBuilder();
      for (let i = 0; i < 8; i++) b.emit(instr(Op.SALU, x(8 + i), [x(8 + i)]));
      return b.build('burst');
    };
    // FETCH 2: pair k fetched in k, dispatched k+1, issued k+2 on the 4 scalar ALUs; the
    // last pair (k = 3) issues in 5 and is done in 6.
    const narrow = run({ fetchWidth: 2 }, mk());
    expect(narrow.cycles).toBe(Math.ceil(8 / 2) - 1 + 2 + 1);
    expect(narrow.busy).toBe(4);
    expect(narrow.stalls.fetch).toBe(2);
    // FETCH 8: all fetched in 0, dispatched 4 + 4 (four scalar dispatch ports) in 1 and 2,
    // issued in 2 and 3, done in 4.
    const wide = run({ fetchWidth: 8 }, mk());
    expect(wide.cycles).toBe(4);
  });

  test('ROM-bound loop: 8 iterations of a 2-beat ROM load', () => {
    const b = new ProgramBuilder();
    b.loop(8, () => {
      b.emit(instr(Op.LDROM, v(1), [x(1)], { bytes: 64 })); // VLEN 256: 32 B/cycle port, 2 beats
      b.emit(instr(Op.SALU, x(1), [x(1)]));
    });
    // One iteration fetched per cycle (the taken loop branch ends the group): iteration j
    // fetched j, ready to issue j+2. The ROM port holds each load 2 cycles: loads issue
    // 2, 4, ..., 2 + 2*7 = 16; the last is done 16 + (2 + 2 - 1) = 19.
    const r = run({ vectorDispatchPorts: 1, scalarDispatchPorts: 2 }, b.build('rom-loop'));
    const occ = 64 / 32;
    const romLat = 2;
    expect(r.cycles).toBe(2 + occ * 7 + (occ + romLat - 1));
    expect(r.stats.romBytesRead).toBe(8 * 64);
    expect(r.stats.romBusyCycles).toBe(8 * occ);
    // busy: cycles 2..9 (scalar work of each iteration) plus loads at 10, 12, 14, 16
    expect(r.busy).toBe(8 + 4);
    expect(r.stalls.fetch).toBe(2);
    expect(r.stalls.romPort).toBe(r.cycles - 12 - 2); // 11, 13, 15 and the drain 17-18
  });

  test('RAW hazard behind a long-latency exp; in-order issue pays for the independent work', () => {
    const mk = (sched: string) => {
      const b = new ProgramBuilder();
      b.emit(instr(Op.VEXP, v(1), [v(2)], { elems: 16 }));
      b.emit(vadd(v(3), v(1), v(1))); // needs the exp
      b.emit(vadd(v(4), v(5), v(6))); // independent
      b.emit(vadd(v(7), v(8), v(9))); // independent
      return run({ vectorDispatchPorts: 2, scheduling: sched }, b.build('raw'));
    };
    const expLat = 8;
    const addLat = 2;
    // exp issues 2 (done 10); the dependent add issues 10 (done 12). Hazard-aware: the two
    // independent adds (dispatched in 2) issue in 3 and 4 under the exp's shadow.
    const ha = mk('hazard-aware');
    expect(ha.cycles).toBe(2 + expLat + addLat);
    expect(ha.busy).toBe(4);
    expect(ha.stalls.raw).toBe(ha.cycles - 4 - 2);
    // In order: the independent adds wait behind the dependent one: 11 and 12, done 14.
    const io = mk('in-order');
    expect(io.cycles).toBe(2 + expLat + 2 + addLat);
    expect(io.cycles).toBeGreaterThan(ha.cycles);
  });

  test('reservation-station overflow: independent work stuck behind two waiting adds', () => {
    const mk = (rs: number) => {
      const b = new ProgramBuilder();
      b.emit(instr(Op.VEXP, v(1), [v(2)], { elems: 16 }));
      b.emit(vadd(v(3), v(1), v(1)));
      b.emit(vadd(v(4), v(1), v(1)));
      b.emit(vadd(v(5), v(6), v(6)));
      b.emit(vadd(v(7), v(8), v(8)));
      return run({ fetchWidth: 8, vectorDispatchPorts: 8, reservationStations: rs }, b.build('rs'));
    };
    // STANUM 2: exp and add3 dispatch in 1; exp issues 2 and add4 takes its entry. Cycles
    // 3-9 the two adds wait for the exp (done 10) and the independent adds cannot enter:
    // 7 reservation-station stalls. Then one vector issue per cycle: 10, 11 (the two
    // dependent adds), 12, 13 (the independent ones); done 15.
    const small = mk(2);
    expect(small.cycles).toBe(15);
    expect(small.stalls.reservation).toBe(7);
    expect(small.busy).toBe(5);
    // STANUM 8: everything dispatches in 1; independents issue 3 and 4, dependents 10 and
    // 11, done 13.
    const big = mk(8);
    expect(big.cycles).toBe(13);
    expect(big.stalls.reservation).toBe(0);
  });

  test('dispatch ports: 6 independent vector adds through one or three vector dispatch ports', () => {
    const mk = (ports: number) => {
      const b = new ProgramBuilder();
      for (let i = 0; i < 6; i++) b.emit(vadd(v(10 + i), v(1), v(2)));
      return run({ fetchWidth: 8, vectorDispatchPorts: ports }, b.build('dispatch'));
    };
    // one port: dispatched 1..6, issued 2..7, done 9
    expect(mk(1).cycles).toBe(1 + 6 + 2);
    // three ports: dispatched 1, 1, 1, 2, 2, 2; one vector unit issues 2..7 anyway: done 9
    expect(mk(3).cycles).toBe(9);
  });

  test('barrier: nothing younger issues before every older instruction is done', () => {
    const b = new ProgramBuilder();
    b.emit(instr(Op.VEXP, v(1), [v(2)], { elems: 16 }));
    b.emit(instr(Op.BARRIER, -1, []));
    b.emit(vadd(v(3), v(4), v(5))); // independent, but behind the barrier
    const p = b.build('barrier');
    // exp issues 2, done 2 + 8 = 10; the barrier issues 10; the add issues 10, done 12
    const r = run({}, p);
    expect(r.cycles).toBe(2 + 8 + 2);
    expect(r.stats.controlInstructions).toBe(1);
    const f = new FastTile(tile({}), p).run();
    expect(f.stats.cycles).toBe(r.cycles);
  });

  test('a program larger than IMEM pays a refill per missing line', () => {
    const mk = () => {
      const b = new ProgramBuilder();
      for (let i = 0; i < 300; i++) b.emit(instr(Op.SALU, x(8 + (i % 16)), []));
      return b.build('big');
    };
    // 300 independent scalar ops, FETCH 4, four ALUs: fetched 0..74, the last issues 76,
    // done 77. 300 x 4 bytes = 1,200 bytes = 19 lines of 64 bytes; a 1 KiB IMEM holds 16,
    // so lines 16, 17 and 18 are refilled (20 cycles each) when fetch reaches them.
    const refill = 20;
    const fits = run({ imemKiB: 2 }, mk());
    expect(fits.cycles).toBe(300 / 4 + 2);
    const spills = run({ imemKiB: 1, imemRefillCycles: refill }, mk());
    expect(spills.cycles).toBe(300 / 4 + 2 + (Math.ceil(1200 / 64) - 1024 / 64) * refill);
    expect(spills.stalls.fetch).toBe(2 + 3 * refill);
    const f = new FastTile(tile({ imemKiB: 1, imemRefillCycles: refill }), mk()).run();
    expect(f.stats.cycles).toBe(spills.cycles);
  });

  test('every micro-program: busy + stalls = cycles, and the fast model agrees exactly', () => {
    const b = new ProgramBuilder();
    b.emit(instr(Op.VEXP, v(1), [v(2)], { elems: 16 }));
    for (let i = 0; i < 4; i++) b.emit(vadd(v(3 + i), v(1), v(1)));
    const p = b.build('mix');
    const t = tile({ reservationStations: 2 });
    const d = new DetailedTile(t, p);
    d.run();
    const f = new FastTile(t, p).run();
    expect(f.stats.cycles).toBe(d.stats.cycles);
    expect(d.stats.busyCycles + d.stats.stall.reduce((a, c) => a + c, 0)).toBe(d.stats.cycles);
  });
});
