import { usesWritePort, INSTR_BYTES, IMEM_LINE_BYTES, isVectorAlu, isVectorReg, Op, SCALAR_REGS, VECTOR_REGS, staticInstructions, usesVectorPort, type Instr, type Node, type Program } from './isa.js';
import { latencyOf, occupancyOf, type TileTiming } from './params.js';
import { Stall, TileStats } from './stats.js';
import { registerBits } from './registerTraffic.js';
import { PRECISION_BITS } from '../units/precision.js';

/**
 * The fast (block-level) tile model (docs/tile.md "Fast model"). It never steps the
 * dynamic instruction stream. Per block of straight-line code it list-schedules ONE pass
 * over the static instructions (dataflow: fetch groups, dispatch ports, reservation-station
 * window, operand readiness, unit reservations, write-back slots); a counted loop of n
 * iterations then costs that first iteration plus (n - 1) x II, where the initiation
 * interval II is closed-form: the largest of the per-iteration throughput limits of
 * each resource (fetch, dispatch, vector unit, scalar ALUs, ROM port, DMEM ports, write
 * ports), the loop-carried dependency recurrence and the reservation-station limit from
 * Little's law. Outer loops are evaluated for two iterations and extrapolated. Cost
 * grows with the static program, not with the work.
 */

const RING = 1 << 10;

/**
 * Average of the last p deltas if they repeat the ones before them (p = 1..16; short
 * patterns must be seen three times, patterns of 8 or more twice) once at least
 * `minDeltas` deltas were seen; else -1.
 */
function repeatingAverage(d: readonly number[], minDeltas: number): number {
  if (d.length < minDeltas) return -1;
  for (let p = 1; p <= 16; p++) {
    const reps = p <= 2 ? 4 : p >= 8 ? 2 : 3;
    if (reps * p > d.length) break;
    let same = true;
    for (let j = 1; j <= p && same; j++) for (let r = 1; r < reps && same; r++) same = d[d.length - j] === d[d.length - j - r * p];
    if (same) {
      let sum = 0;
      for (let j = 1; j <= p; j++) sum += d[d.length - j];
      return sum / p;
    }
  }
  return -1;
}
/** most iterations of a loop body list-scheduled before extrapolating */
const MAX_PASSES = 48;
/**
 * Iterations scheduled before a repeating period is trusted (the window fills first):
 * MIN_DELTAS, or fewer for long bodies, as long as MIN_SCHEDULED instructions have gone
 * through the window (at least 2).
 */
const MIN_DELTAS = 16;
const MIN_SCHEDULED = 256;
const minDeltasFor = (bodyLength: number) => Math.max(2, Math.min(MIN_DELTAS, Math.ceil(MIN_SCHEDULED / Math.max(1, bodyLength))));
/** most iterations of an outer loop evaluated before extrapolating */
const MAX_OUTER_PASSES = 8;
const MASK = RING - 1;

/** Per-instruction constants of a block. */
interface StaticInfo {
  readonly vec: Uint8Array;
  readonly lat: Int32Array;
  readonly occ: Int32Array;
  readonly noc: boolean;
}

interface BodyInfo {
  /** closed-form per-iteration limits */
  readonly bounds: Readonly<Record<'fetch' | 'dispatch' | 'vector' | 'scalar' | 'rom' | 'dmem' | 'writePort' | 'recurrence', number>>;
}

/**
 * Loop-carried recurrence of a loop body: the longest latency path from a register's read
 * (before the body writes it) to the body's rewrite of it, over every such register.
 * Registers are 0..63 (isa.ts), so the path lengths live in a typed array (-1: no path)
 * rather than a Map per register: this runs for every loop body of every kernel a run
 * simulates.
 */
function loopRecurrence(instrs: readonly Instr[], lat: (i: Instr) => number): number {
  const written = new Uint8Array(SCALAR_REGS + VECTOR_REGS);
  const carried = new Uint8Array(SCALAR_REGS + VECTOR_REGS);
  for (const i of instrs) {
    for (const r of i.srcs) if (!written[r]) carried[r] = 1;
    if (i.dst >= 0) written[i.dst] = 1;
  }
  const dist = new Float64Array(SCALAR_REGS + VECTOR_REGS);
  let recurrence = 0;
  for (let r0 = 0; r0 < dist.length; r0++) {
    if (!carried[r0] || !written[r0]) continue;
    dist.fill(-1);
    dist[r0] = 0;
    for (const i of instrs) {
      let best = -1;
      for (const r of i.srcs) if (dist[r] > best) best = dist[r];
      if (i.dst >= 0) dist[i.dst] = best >= 0 ? best + lat(i) : -1;
    }
    if (dist[r0] > recurrence) recurrence = dist[r0];
  }
  return recurrence;
}

/** Machine state at block granularity. */
class State {
  front = 0; // earliest dispatch cycle of the next instruction
  fetchAt = 0; // earliest fetch cycle of the next instruction
  lastIssue = 0;
  /** first issue cycle: the cycles before it are the pipeline fill (fetch) */
  firstIssue = Infinity;
  maxDone = 0;
  barrierAt = 0; // younger instructions issue at or after the last barrier
  /** end of the last ROM / DMEM transfer (shifted with the state) */
  romFree = 0;
  /** after an extrapolation the port tables are stale: transfers start at or after these */
  romFloor = 0;
  dmemFloor: Float64Array;
  readonly romT = new Float64Array(RING).fill(-1);
  dmemT: Float64Array;
  readonly ready = new Float64Array(64);
  readonly producer = new Int8Array(64);
  dmemFree: Float64Array;
  // reservation tables (cycle -> count), tagged by absolute cycle
  readonly vecT = new Float64Array(RING).fill(-1);
  readonly vecC = new Int32Array(RING);
  readonly salT = new Float64Array(RING).fill(-1);
  readonly salC = new Int32Array(RING);
  readonly nocT = new Float64Array(RING).fill(-1);
  readonly nocC = new Int32Array(RING);
  readonly wbT = new Float64Array(2 * RING).fill(-1);
  readonly wbC = new Int32Array(2 * RING);
  /** earliest issue cycle among the results holding each write-back slot */
  readonly wbIssue = new Float64Array(2 * RING);
  readonly dspT = new Float64Array(2 * RING).fill(-1);
  readonly dspC = new Int32Array(2 * RING);
  /** issue times of dispatched instructions (for the reservation-station window) */
  inFlight: number[] = [];
  ifHead = 0;
  /** dispatch times of the last fetch-queue-full of instructions (a ring) */
  readonly dq: Float64Array;
  dqN = 0;
  /** cycles already counted busy */
  readonly busyT = new Float64Array(RING).fill(-1);
  constructor(ports: number, fqCap: number) {
    this.ports = ports;
    this.fqCap = fqCap;
    this.dq = new Float64Array(fqCap);
    this.dmemFree = new Float64Array(ports);
    this.dmemFloor = new Float64Array(ports);
    this.dmemT = new Float64Array(ports * RING).fill(-1);
  }
  /** Back to the state of a fresh tile (for reuse from the pool). */
  reset(): void {
    this.front = this.fetchAt = this.lastIssue = this.maxDone = this.barrierAt = 0;
    this.firstIssue = Infinity;
    this.romFree = this.romFloor = 0;
    this.dmemFloor.fill(0);
    this.dmemFree.fill(0);
    this.ready.fill(0);
    this.producer.fill(0);
    for (const t of [this.romT, this.dmemT, this.vecT, this.salT, this.nocT, this.wbT, this.dspT, this.busyT]) t.fill(-1);
    this.inFlight = [];
    this.ifHead = 0;
    this.dq.fill(0);
    this.dqN = 0;
  }
  readonly ports: number;
  readonly fqCap: number;
  snapshot(into?: Float64Array): Float64Array {
    const out = into ?? new Float64Array(70 + this.dmemFree.length);
    out[0] = this.front;
    out[1] = this.fetchAt;
    out[2] = this.lastIssue;
    out[3] = this.maxDone;
    out[4] = this.barrierAt;
    out[5] = this.romFree;
    out.set(this.ready, 6);
    out.set(this.dmemFree, 70);
    return out;
  }
  restoreShifted(before: Float64Array, after: Float64Array, shift: number): void {
    const vals = after.map((a, i) => (a !== before[i] ? a + shift : a));
    [this.front, this.fetchAt, this.lastIssue, this.maxDone, this.barrierAt, this.romFree] = vals;
    for (let r = 0; r < 64; r++) this.ready[r] = vals[6 + r];
    for (let q = 0; q < this.dmemFree.length; q++) this.dmemFree[q] = vals[70 + q];
    this.inFlight = this.inFlight.slice(this.ifHead).map((v) => v + shift);
    this.ifHead = 0;
    for (let i = 0; i < this.dq.length; i++) this.dq[i] += shift;
    // reservation tables keep their (absolute-cycle) tags: entries before the shift can
    // no longer match; the ports' last transfers become floors
    this.romFloor = this.romFree;
    this.dmemFloor.set(this.dmemFree);
  }
}

/** A communication point of the fast model (cycles relative to the tile's start). */
export interface NocRequest {
  readonly kind: 'send' | 'recv';
  readonly cycle: number;
  readonly peer: number;
  readonly tag: number;
  readonly bytes: number;
}

/**
 * Reuse of block-level states between runs (allocating the reservation tables dominated
 * the cost of small kernels). A state is fully reset before reuse, so results do not
 * depend on what ran before.
 */
const STATE_POOL: State[] = [];

function acquireState(ports: number, fqCap: number): State {
  const i = STATE_POOL.findIndex((s) => s.ports === ports && s.fqCap === fqCap);
  if (i < 0) return new State(ports, fqCap);
  const s = STATE_POOL.splice(i, 1)[0];
  s.reset();
  return s;
}

function releaseState(s: State): void {
  if (STATE_POOL.length < 16) STATE_POOL.push(s);
}

export interface FastResult {
  readonly stats: TileStats;
  /** block boundaries and communication points the model passed (its events) */
  readonly events: number;
}

export class FastTile {
  private readonly st: State;
  private readonly stats = new TileStats();
  private events = 0;
  private busy = 0;
  private readonly stallWeight = new Float64Array(8);
  private readonly fqCap: number;
  private readonly imemLimited: boolean;
  private readonly imemLines: number;
  /** static byte offset of each code block, and the direct-mapped IMEM tags */
  private readonly offsets = new Map<readonly Instr[], number>();
  private readonly imemTags: Int32Array;
  private readonly latCache = new Map<Instr, number>();
  // state of the block being list-scheduled (one block at a time)
  private pBusy = 0;
  private pFetchInGroup = 0;
  private pFetchCycle = 0;
  private pDispatch = 0;
  private pRsFull = false;
  /** waits of the current pass by cause (cycles x instructions), and the last wait's cause */
  private readonly pWait = new Float64Array(8);
  private pLastCause: number = Stall.raw;
  private readonly issueWait = new Float64Array(8);
  private pLastIssue = 0;
  private pN = 1;
  private pInstrs: readonly Instr[] = [];
  private pInfo: StaticInfo = { vec: new Uint8Array(0), lat: new Int32Array(0), occ: new Int32Array(0), noc: false };
  /** optional trace of (op, issue cycle) for debugging and tests */
  trace: number[] | null = null;

  constructor(
    private readonly T: TileTiming,
    private readonly program: Program,
    /** cycle at which a receive's data is available (stand-in network), given the cycle it is posted */
    private readonly recvArrival: (cycle: number, peer: number, tag: number) => number = (c) => c + 1,
  ) {
    this.hasNoc = (nodes) => nodes.some((n) => (n.kind === 'code' ? n.instrs.some((i) => i.op === Op.SEND || i.op === Op.RECV) : this.hasNoc(n.body)));
    this.fqCap = Math.max(2, 2 * T.fetchWidth);
    this.st = acquireState(T.dmemPorts, this.fqCap);
    this.imemLines = Math.max(1, Math.floor(T.imemBytes / IMEM_LINE_BYTES));
    this.imemLimited = staticInstructions(program.body) * INSTR_BYTES > T.imemBytes;
    this.imemTags = new Int32Array(this.imemLines);
    for (let i = 0; i < this.imemLines; i++) this.imemTags[i] = i;
    let off = 0;
    const walk = (nodes: readonly Node[]) => {
      for (const n of nodes) {
        if (n.kind === 'code') {
          this.offsets.set(n.instrs, off);
          off += n.instrs.length * INSTR_BYTES;
        } else walk(n.body);
      }
    };
    walk(program.body);
  }

  private readonly hasNoc: (nodes: readonly Node[]) => boolean;

  /** Run alone: network requests are answered by the stand-in `recvArrival`. */
  run(): FastResult {
    const gen = this.steps();
    let r = gen.next();
    while (!r.done) r = gen.next(r.value.kind === 'recv' ? this.recvArrival(r.value.cycle, r.value.peer, r.value.tag) : 0);
    return r.value;
  }

  /**
   * The model as a coroutine: it yields at every communication point (a send issuing, a
   * receive posted) and is resumed with the receive's arrival cycle, so a discrete-event
   * driver can put the tile on the network (sim/tile/process.ts).
   */
  *steps(): Generator<NocRequest, FastResult, number> {
    yield* this.nodes(this.program.body, 1);
    const s = this.stats;
    // rounding in the extrapolated periods must not let the run finish before its busiest
    // shared unit could have done the work (the resource bounds of docs/tile.md)
    const floor = Math.max(Math.ceil(s.vectorBusyCycles / this.T.vectorUnits), s.romBusyCycles, Math.ceil(s.dmemBusyCycles / this.T.dmemPorts));
    const cycles = Math.max(this.st.maxDone, this.st.lastIssue + 1, floor);
    s.cycles = cycles;
    s.busyCycles = Math.min(cycles, Math.round(this.busy));
    // stalls: the fill before the first issue is fetch; the rest is split in proportion
    // to the waits the list scheduler saw, charged by cause as the pipeline charges them
    const stallTotal = cycles - s.busyCycles;
    const w = this.stallWeight;
    const fill = Number.isFinite(this.st.firstIssue) ? Math.min(this.st.firstIssue, stallTotal) : 0;
    const rest = stallTotal - fill;
    const wSum = w.reduce((a, b) => a + b, 0);
    let assigned = 0;
    let largest: number = Stall.raw;
    for (let i = 0; i < 8; i++) {
      s.stall[i] = wSum > 0 ? Math.floor((w[i] * rest) / wSum) : 0;
      assigned += s.stall[i];
      if (w[i] > w[largest]) largest = i;
    }
    s.stall[largest] += rest - assigned;
    s.stall[Stall.fetch] += fill;
    releaseState(this.st); // a FastTile runs once
    return { stats: s, events: this.events };
  }

  private lat(i: Instr): number {
    let l = this.latCache.get(i);
    if (l === undefined) this.latCache.set(i, (l = latencyOf(this.T, i)));
    return l;
  }

  /** Run `nodes` once, scaled by `mult` executions for the counters. */
  private *nodes(nodes: readonly Node[], mult: number): Generator<NocRequest, void, number> {
    for (const n of nodes) {
      if (n.kind === 'code') yield* this.block(n.instrs, 1, mult);
      else if (n.body.length === 1 && n.body[0].kind === 'code') yield* this.block(n.body[0].instrs, n.iterations, mult);
      else yield* this.outerLoop(n.body, n.iterations, mult);
    }
  }

  /**
   * An outer loop: evaluate iterations until the period repeats (as for innermost loops,
   * at most MAX_OUTER_PASSES), then extrapolate the rest at that period.
   */
  private *outerLoop(body: readonly Node[], iterations: number, mult: number): Generator<NocRequest, void, number> {
    this.events++;
    // a body that talks to the network is not periodic in general: run every iteration
    if (iterations <= 3 || this.hasNoc(body)) {
      for (let k = 0; k < iterations; k++) yield* this.nodes(body, mult);
      return;
    }
    const snaps: Float64Array[] = [];
    const busy: number[] = [];
    const weights: Float64Array[] = [];
    const deltas: number[] = [];
    let avg = -1;
    let k = 0;
    while (k < iterations && k < MAX_OUTER_PASSES) {
      // counters: the last evaluated iteration stands for all the remaining ones
      yield* this.nodes(body, mult);
      snaps.push(this.st.snapshot());
      busy.push(this.busy);
      weights.push(Float64Array.from(this.stallWeight));
      k++;
      if (k >= 2) deltas.push(Math.max(snaps[k - 1][0] - snaps[k - 2][0], snaps[k - 1][3] - snaps[k - 2][3]));
      // outer loops are regular: two equal periods in a row settle them
      const m = deltas.length;
      if (m >= 2 && deltas[m - 1] === deltas[m - 2]) {
        avg = deltas[m - 1];
        break;
      }
    }
    const rest = iterations - k;
    if (rest <= 0) return;
    this.countNodes(body, mult * rest);
    if (avg < 0) {
      const tail = deltas.slice(-Math.max(1, Math.floor(deltas.length / 2)));
      avg = tail.reduce((a, b2) => a + b2, 0) / tail.length;
    }
    // an evaluated iteration can overlap its neighbours' fill and drain and come out
    // shorter than the steady state: never extrapolate below what one iteration keeps
    // the vector unit, scalar ALUs, ROM port or DMEM ports busy
    avg = Math.max(avg, this.occupancyFloor(body));
    this.st.restoreShifted(snaps[k - 2], snaps[k - 1], Math.round(rest * avg));
    this.busy += rest * (busy[k - 1] - busy[k - 2]);
    for (let i = 0; i < 8; i++) this.stallWeight[i] += rest * (weights[k - 1][i] - weights[k - 2][i]);
  }

  /**
   * Cycles one run of `nodes` occupies its busiest shared unit (vector unit, scalar ALUs,
   * ROM port, DMEM ports), summed over nested blocks: a lower bound on its period.
   */
  private occupancyFloor(nodes: readonly Node[]): number {
    const hit = this.floorCache.get(nodes);
    if (hit !== undefined) return hit;
    const use = { vector: 0, scalar: 0, rom: 0, dmem: 0 };
    const walk = (ns: readonly Node[], times: number) => {
      for (const n of ns) {
        if (n.kind === 'loop') walk(n.body, times * n.iterations);
        else {
          const b = this.bodyInfo(n.instrs).bounds;
          use.vector += times * b.vector;
          use.scalar += times * b.scalar;
          use.rom += times * b.rom;
          use.dmem += times * b.dmem;
        }
      }
    };
    walk(nodes, 1);
    const floor = Math.max(use.vector, use.scalar, use.rom, use.dmem);
    this.floorCache.set(nodes, floor);
    return floor;
  }

  private readonly floorCache = new Map<readonly Node[], number>();

  /** Counters of `nodes` run `mult` times (no timing). */
  private countNodes(nodes: readonly Node[], mult: number): void {
    for (const n of nodes) {
      if (n.kind === 'code') this.count(n.instrs, mult);
      else this.countNodes(n.body, mult * n.iterations);
    }
  }

  /** A straight-line block run `n` times in a row (a counted innermost loop when n > 1). */
  private *block(instrs: readonly Instr[], n: number, mult: number): Generator<NocRequest, void, number> {
    const T = this.T;
    const S = this.st;
    this.events++;
    const total = n * mult;
    this.count(instrs, total);
    // ---- list-schedule one iteration -------------------------------------------------
    this.pBusy = 0;
    this.pFetchInGroup = 0;
    this.pFetchCycle = Math.max(S.fetchAt, 0);
    let misses = 0;
    let missesLater = 0;
    if (this.imemLimited) {
      // direct-mapped IMEM lines: refills on the first pass, and on later passes when the
      // body itself is larger than IMEM
      const off = this.offsets.get(instrs) ?? 0;
      const firstLine = Math.floor(off / IMEM_LINE_BYTES);
      const lastLine = Math.floor((off + instrs.length * INSTR_BYTES - 1) / IMEM_LINE_BYTES);
      for (let pass = 0; pass < (n > 1 ? 2 : 1); pass++) {
        for (let line = firstLine; line <= lastLine; line++) {
          const slot = line % this.imemLines;
          if (this.imemTags[slot] !== line) {
            this.imemTags[slot] = line;
            if (pass === 0) misses++;
            else missesLater++;
          }
        }
      }
    }
    if (misses) this.pFetchCycle += misses * T.tile.imemRefillCycles;
    this.pDispatch = S.front;
    this.pRsFull = false;
    this.pLastIssue = 0;
    this.pInstrs = instrs;
    this.pInfo = this.staticInfo(instrs);
    this.pN = n;
    const noc = this.pInfo.noc;
    // ---- fill: the first iterations; steady state: the closed-form limits ------------
    // schedule iterations until the period settles into a repeating pattern (up to 4
    // iterations long, seen twice), at most MAX_PASSES; waits on values from an earlier
    // block and the window filling only disturb the first iterations
    // the last two snapshots (ping-pong buffers): snaps[k - 2], snaps[k - 1]
    const bufA = new Float64Array(70 + T.dmemPorts);
    const bufB = new Float64Array(70 + T.dmemPorts);
    const snaps: Float64Array[] = [];
    const sizes: number[] = [];
    const deltas: number[] = [];
    const marks: number[] = [];
    let settledAvg = -1;
    const lastWait = new Float64Array(8);
    const minDeltas = minDeltasFor(instrs.length);
    this.pWait.fill(0);
    let k = 0;
    while (k < n && (k < MAX_PASSES || noc)) {
      if (noc) yield* this.passNoc();
      else this.passSync();
      snaps.push(S.snapshot(k % 2 === 0 ? bufA : bufB));
      if (snaps.length > 2) snaps.shift();
      sizes.push(this.pBusy);
      lastWait.set(this.pWait);
      for (let i = 0; i < 8; i++) this.stallWeight[i] += this.pWait[i];
      this.pWait.fill(0);
      k++;
      marks.push(this.pLastIssue);
      if (k >= 2) deltas.push(marks[k - 1] - marks[k - 2]);
      settledAvg = repeatingAverage(deltas, minDeltas);
      if (settledAvg >= 0 && !noc) break;
    }
    if (n > k) {
      const info = this.bodyInfo(instrs);
      let ii = 0;
      let cause: number = Stall.raw;
      const cand: [number, number][] = [
        [info.bounds.fetch, Stall.fetch],
        [info.bounds.dispatch, Stall.dispatch],
        [info.bounds.vector, Stall.raw],
        [info.bounds.scalar, Stall.raw],
        [info.bounds.rom, Stall.romPort],
        [info.bounds.dmem, Stall.dmemPort],
        [info.bounds.writePort, Stall.writePort],
        [info.bounds.recurrence, Stall.raw],
      ];
      for (const [bound, c] of cand) if (bound > ii) [ii, cause] = [bound, c];
      ii += missesLater * T.tile.imemRefillCycles;
      // the window (reservation stations, in-order issue) can stretch the period beyond
      // every throughput limit: take the period the scheduled iterations actually reached
      const tail = deltas.slice(-Math.max(1, Math.floor(deltas.length / 2)));
      const measured = settledAvg >= 0 ? settledAvg : tail.reduce((a, b) => a + b, 0) / tail.length;
      if (measured > ii) {
        ii = measured;
        cause = this.pRsFull ? Stall.reservation : Stall.raw;
      }
      S.restoreShifted(snaps[0], snaps[1], Math.round((n - k) * ii));
      const busyIter = Math.min(ii, sizes[k - 1] - sizes[k - 2]);
      this.busy += sizes[k - 1] + (n - k) * busyIter;
      // stalls of the extrapolated iterations: like the last scheduled one's waits, or
      // (none seen) charged to the binding limit
      if (lastWait.some((x) => x > 0)) for (let i = 0; i < 8; i++) this.stallWeight[i] += (n - k) * lastWait[i];
      else this.stallWeight[cause] += (n - k) * Math.max(0, ii - busyIter);
    } else {
      this.busy += this.pBusy;
    }
  }

  private readonly staticCache = new Map<readonly Instr[], StaticInfo>();

  /** Per-instruction constants of a block (dispatch class, latency, port occupancy). */
  private staticInfo(instrs: readonly Instr[]) {
    let s = this.staticCache.get(instrs);
    if (!s) {
      // index loops: TypedArray.from with a mapping function runs V8's generic iterator path
      const n = instrs.length;
      const vec = new Uint8Array(n);
      const lat = new Int32Array(n);
      const occ = new Int32Array(n);
      let noc = false;
      for (let k = 0; k < n; k++) {
        const i = instrs[k];
        vec[k] = usesVectorPort(i) ? 1 : 0;
        lat[k] = this.lat(i);
        occ[k] = occupancyOf(this.T, i);
        if (i.op === Op.SEND || i.op === Op.RECV) noc = true;
      }
      s = { vec, lat, occ, noc };
      this.staticCache.set(instrs, s);
    }
    return s;
  }

    /** schedule instruction idx up to its issue cycle (resources taken); returns the cycle */
  private issueOne(idx: number): number {
    const S = this.st;
    const T = this.T;
    const F = T.fetchWidth;
    const ins = this.pInstrs[idx];
    const op = ins.op;
    // fetch: FETCH per cycle, no further than the fetch queue allows ahead of dispatch
    if (S.dqN >= this.fqCap) this.pFetchCycle = Math.max(this.pFetchCycle, S.dq[S.dqN % this.fqCap]);
    if (this.pFetchInGroup >= F) {
      this.pFetchCycle++;
      this.pFetchInGroup = 0;
    }
    const fetchedAt = this.pFetchCycle;
    this.pFetchInGroup++;
    // dispatch: in order, after fetch, a port free this cycle, a reservation station free
    let d = Math.max(this.pDispatch, fetchedAt + 1);
    const vec = this.pInfo.vec[idx];
    const ports = vec ? T.tile.vectorDispatchPorts : T.tile.scalarDispatchPorts;
    const RS = T.reservationStations;
    for (;;) {
      const slot = vec * RING + (d & MASK);
      if (S.dspT[slot] !== d) {
        S.dspT[slot] = d;
        S.dspC[slot] = 0;
      }
      // reservation stations: entries whose issue is after d are still occupied
      // (inFlight holds issue times in ascending order; dispatch times only grow)
      const fl = S.inFlight;
      while (S.ifHead < fl.length && fl[S.ifHead] <= d) S.ifHead++;
      if (fl.length - S.ifHead >= RS) {
        this.pRsFull = true;
        const nd = Math.max(d + 1, fl[fl.length - RS]);
        this.pWait[Stall.reservation] += nd - d;
        d = nd;
        continue;
      }
      if (S.dspC[slot] >= ports) {
        this.pWait[Stall.dispatch]++;
        d++;
        continue;
      }
      S.dspC[slot]++;
      break;
    }
    this.pDispatch = d;
    S.dq[S.dqN % this.fqCap] = d;
    S.dqN++;
    // issue: operands ready, unit free, write-back slot free
    // waits are weighted by their length and charged like the pipeline charges a stall:
    // by the producer of the missing operand, the busy port, or the full window
    let t = d + 1;
    let waitCause: number = Stall.raw;
    const t0 = t;
    const prevIssue = this.pLastIssue;
    const iw = this.issueWait;
    iw.fill(0);
    for (const r of ins.srcs) {
      if (S.ready[r] > t) {
        t = S.ready[r];
        const prod = S.producer[r];
        waitCause = prod === Op.LDROM ? Stall.romPort : prod === Op.LDDMEM ? Stall.dmemPort : prod === Op.RECV ? Stall.noc : Stall.raw;
      }
    }
    if (t > t0) iw[waitCause] += t - t0;
    if (T.inOrder && S.lastIssue > t) {
      iw[this.pLastCause] += S.lastIssue - t;
      waitCause = this.pLastCause;
      t = S.lastIssue;
    }
    if (t < S.barrierAt) t = S.barrierAt;
    if (op === Op.BARRIER) t = Math.max(t, S.maxDone, S.lastIssue);
    const lat = this.pInfo.lat[idx];
    const occ = this.pInfo.occ[idx];
    let port = -1;
    for (;;) {
      let ok = true;
      if (isVectorAlu(op)) ok = this.free(S.vecT, S.vecC, 0, t, T.vectorUnits);
      else if (op === Op.SALU || op === Op.LOOP) ok = this.free(S.salT, S.salC, 0, t, T.scalarAlus);
      else if (op === Op.SEND || op === Op.RECV) ok = this.free(S.nocT, S.nocC, 0, t, 1);
      else if (op === Op.LDROM) {
        // the ROM port: occ consecutive free cycles (a younger load may use a gap)
        if (t < S.romFloor) {
          iw[Stall.romPort] += S.romFloor - t;
          waitCause = Stall.romPort;
          t = S.romFloor;
          continue;
        }
        ok = this.portFree(S.romT, 0, t, occ);
      } else if (op === Op.LDDMEM || op === Op.STDMEM) {
        port = -1;
        for (let q = 0; q < T.dmemPorts && port < 0; q++) if (t >= S.dmemFloor[q] && this.portFree(S.dmemT, q * RING, t, occ)) port = q;
        ok = port >= 0;
      }
      let wbFull = false;
      if (ok && ins.dst >= 0 && usesWritePort(op)) {
        const file = isVectorReg(ins.dst) ? 1 : 0;
        ok = this.free(S.wbT, S.wbC, file * RING, t + lat, file ? T.tile.vectorWritePorts : T.tile.scalarWritePorts);
        // an older instruction that issues after t took the slot: in the pipeline this
        // one issues first and keeps it, the older one slips (not re-scheduled here)
        if (!ok && S.wbIssue[file * RING + ((t + lat) & MASK)] > t) ok = true;
        wbFull = !ok;
      }
      if (!ok) {
        // a busy ALU means something else issued (a busy cycle, not a stall)
        const c = op === Op.LDROM ? Stall.romPort : op === Op.LDDMEM || op === Op.STDMEM ? Stall.dmemPort : op === Op.SEND || op === Op.RECV ? Stall.noc : wbFull ? Stall.writePort : -1;
        if (c >= 0) {
          iw[c]++;
          waitCause = c;
        }
        t++;
        continue;
      }
      break;
    }
    if (t > t0) {
      this.pLastCause = waitCause;
      // only the part of the wait beyond the previous instruction's issue holds up the
      // machine the way a stall does (the pipeline charges the oldest waiting instruction)
      const total = t - t0;
      const beyond = Math.max(0, t - Math.max(t0, prevIssue));
      if (beyond > 0) for (let i = 0; i < 8; i++) if (iw[i]) this.pWait[i] += (iw[i] * beyond) / total;
    }
    // take the resources
    if (isVectorAlu(op)) this.take(S.vecT, S.vecC, 0, t);
    else if (op === Op.SALU || op === Op.LOOP) this.take(S.salT, S.salC, 0, t);
    else if (op === Op.SEND || op === Op.RECV) this.take(S.nocT, S.nocC, 0, t);
    else if (op === Op.LDROM) {
      S.romFree = Math.max(S.romFree, t + occ);
      for (let c = t; c < t + occ; c++) S.romT[c & MASK] = c;
    } else if (port >= 0) {
      S.dmemFree[port] = Math.max(S.dmemFree[port], t + occ);
      for (let c = t; c < t + occ; c++) S.dmemT[port * RING + (c & MASK)] = c;
    }
    return t;
  }
    /** record instruction idx's result, issued in t and done in `done` */
  private finishOne(idx: number, t: number, done: number): void {
    const S = this.st;
    const ins = this.pInstrs[idx];
    const op = ins.op;
    if (ins.dst >= 0) {
      if (usesWritePort(op)) {
        const file = isVectorReg(ins.dst) ? 1 : 0;
        this.take(S.wbT, S.wbC, file * RING, done);
        const wk = file * RING + (done & MASK);
        S.wbIssue[wk] = S.wbC[wk] === 1 ? t : Math.min(S.wbIssue[wk], t);
      }
      S.ready[ins.dst] = done;
      S.producer[ins.dst] = op;
    }
    if (op === Op.BARRIER) S.barrierAt = t;
    if (done > S.maxDone) S.maxDone = done;
    S.lastIssue = Math.max(S.lastIssue, t);
    if (t < S.firstIssue) S.firstIssue = t;
    if (S.busyT[t & MASK] !== t) {
      S.busyT[t & MASK] = t;
      this.pBusy++;
    }
    this.pLastIssue = t;
    if (this.trace) this.trace.push(op, t);
    {
      const fl = S.inFlight;
      let lo = S.ifHead;
      let hi = fl.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (fl[mid] <= t) lo = mid + 1;
        else hi = mid;
      }
      // insert at lo (splice would allocate the removed-elements array every time)
      fl.push(t);
      for (let j = fl.length - 1; j > lo; j--) fl[j] = fl[j - 1];
      fl[lo] = t;
      if (S.ifHead > 256) {
        S.inFlight = fl.slice(S.ifHead);
        S.ifHead = 0;
      }
    }
    if (op === Op.LOOP && this.pN > 1) {
      // the taken branch ends the fetch group
      this.pFetchCycle++;
      this.pFetchInGroup = 0;
    }
  }

  private endPass(): void {
    const S = this.st;
    const F = this.T.fetchWidth;
    S.front = this.pDispatch;
    S.fetchAt = this.pFetchCycle + (this.pFetchInGroup >= F ? 1 : 0);
  }

  private passSync(): void {
    for (let idx = 0; idx < this.pInstrs.length; idx++) {
      const t = this.issueOne(idx);
      this.finishOne(idx, t, t + this.pInfo.lat[idx]);
    }
    this.endPass();
  }

  /** With NoC instructions: a coroutine that yields at each communication point. */
  private *passNoc(): Generator<NocRequest, void, number> {
    for (let idx = 0; idx < this.pInstrs.length; idx++) {
      const t = this.issueOne(idx);
      const ins = this.pInstrs[idx];
      let done = t + this.pInfo.lat[idx];
      if (ins.op === Op.RECV) {
        done = Math.max(t + 1, yield { kind: 'recv', cycle: t, peer: ins.peer, tag: ins.tag, bytes: ins.bytes });
        this.events += 2;
      } else if (ins.op === Op.SEND) {
        yield { kind: 'send', cycle: t, peer: ins.peer, tag: ins.tag, bytes: ins.bytes };
        this.events++;
      }
      this.finishOne(idx, t, done);
    }
    this.endPass();
  }

  private portFree(tags: Float64Array, base: number, t: number, occ: number): boolean {
    for (let c = t; c < t + occ; c++) if (tags[base + (c & MASK)] === c) return false;
    return true;
  }

  private free(tags: Float64Array, counts: Int32Array, base: number, t: number, cap: number): boolean {
    const k = base + (t & MASK);
    return tags[k] !== t || counts[k] < cap;
  }

  private take(tags: Float64Array, counts: Int32Array, base: number, t: number): void {
    const k = base + (t & MASK);
    if (tags[k] !== t) {
      tags[k] = t;
      counts[k] = 0;
    }
    counts[k]++;
  }

  private readonly infoCache = new Map<readonly Instr[], BodyInfo>();

  /** Closed-form per-iteration limits of a loop body. */
  private bodyInfo(instrs: readonly Instr[]): BodyInfo {
    const hit = this.infoCache.get(instrs);
    if (hit) return hit;
    const T = this.T;
    let nv = 0;
    let ns = 0;
    let vecAlu = 0;
    let scal = 0;
    let rom = 0;
    let dmem = 0;
    let wbV = 0;
    let wbS = 0;
    for (const i of instrs) {
      if (usesVectorPort(i)) nv++;
      else ns++;
      if (isVectorAlu(i.op)) vecAlu++;
      if (i.op === Op.SALU || i.op === Op.LOOP) scal++;
      if (i.op === Op.LDROM) rom += occupancyOf(T, i);
      if (i.op === Op.LDDMEM || i.op === Op.STDMEM) dmem += occupancyOf(T, i);
      if (i.dst >= 0 && usesWritePort(i.op)) {
        if (isVectorReg(i.dst)) wbV++;
        else wbS++;
      }
    }
    const recurrence = loopRecurrence(instrs, (i) => this.lat(i));
    const info: BodyInfo = {
      bounds: {
        fetch: Math.ceil(instrs.length / T.fetchWidth),
        dispatch: Math.max(nv / T.tile.vectorDispatchPorts, ns / T.tile.scalarDispatchPorts),
        vector: vecAlu / T.vectorUnits,
        scalar: scal / T.scalarAlus,
        rom,
        dmem: dmem / T.dmemPorts,
        writePort: Math.max(wbV / T.tile.vectorWritePorts, wbS / T.tile.scalarWritePorts),
        recurrence,
      },
    };
    this.infoCache.set(instrs, info);
    return info;
  }

  private readonly regBitsCache = new WeakMap<readonly Instr[], { read: number; write: number }>();

  /** Register-file bits one pass over `instrs` reads and writes (registerTraffic.ts). */
  private registerBitsOf(instrs: readonly Instr[]): { read: number; write: number } {
    let b = this.regBitsCache.get(instrs);
    if (!b) {
      b = { read: 0, write: 0 };
      for (const i of instrs) {
        const r = registerBits(i, this.T.tile.vlenBits, PRECISION_BITS[this.T.precision.activations]);
        b.read += r.readBits;
        b.write += r.writeBits;
      }
      this.regBitsCache.set(instrs, b);
    }
    return b;
  }

  /** Counters from static counts x executions (identical to the detailed model's by construction of the ISA). */
  private count(instrs: readonly Instr[], times: number): void {
    const s = this.stats;
    const bits = this.registerBitsOf(instrs);
    s.registerReadBits += times * bits.read;
    s.registerWriteBits += times * bits.write;
    for (const i of instrs) {
      s.instructionsFetched += times;
      s.instructionsIssued += times;
      s.registerReads += times * i.srcs.length;
      if (i.dst >= 0) s.registerWrites += times;
      const op = i.op;
      if (isVectorAlu(op)) {
        s.vectorInstructions += times;
        s.vectorBusyCycles += times;
        if (op === Op.VMAC) s.macs += times * i.elems;
        else if (op === Op.VEXP || op === Op.VRSQRT) s.sfuOps += times * i.elems;
        else s.vectorAluOps += times * i.elems;
      } else if (op === Op.SALU) s.scalarInstructions += times;
      else if (op === Op.LOOP || op === Op.BARRIER) s.controlInstructions += times;
      else if (op === Op.LDROM) {
        s.memoryInstructions += times;
        s.romBytesRead += times * i.bytes;
        s.romScaleBytesRead += times * i.scaleBytes;
        s.romBusyCycles += times * occupancyOf(this.T, i);
      } else if (op === Op.LDDMEM || op === Op.STDMEM) {
        s.memoryInstructions += times;
        s.dmemBusyCycles += times * occupancyOf(this.T, i);
        if (op === Op.LDDMEM) {
          s.dmemBytesRead += times * i.bytes;
          if (i.kv) s.kvBytesRead += times * i.bytes;
        } else {
          s.dmemBytesWritten += times * i.bytes;
          if (i.kv) s.kvBytesWritten += times * i.bytes;
        }
      } else if (op === Op.SEND || op === Op.RECV) s.nocInstructions += times;
    }
  }
}
