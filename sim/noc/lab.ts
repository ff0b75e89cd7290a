import { Simulator } from '../kernel/simulator.js';
import { Priority } from '../kernel/priority.js';
import { Rng } from '../random/rng.js';
import { CounterRegistry } from '../counters/registry.js';
import type { CounterRecord } from '../counters/counter.js';
import type { Design } from '../design/design.js';
import { createNetwork } from './create.js';
import type { Network, NetworkOptions, NocModel } from './network.js';
import type { NetworkMessage } from './port.js';
import { zeroLoadLatencyCycles } from './packet.js';
import { destinationFunction, type PatternOptions, type TrafficPattern } from './traffic.js';

/**
 * The synthetic-traffic lab (Dally & Towles ch. 23; BookSim's methodology). Every node
 * injects packets of `packetFlits` flits by a Bernoulli process: in each cycle it creates
 * a packet with probability rate / packetFlits, so the offered load is `rate`
 * flits/node/cycle. Packets wait in the unbounded source queue (that wait counts in the
 * packet latency). Phases: warm-up (`warmupCycles`), then a measurement window
 * (`measureCycles`): packets created in the window are the measured ones. Injection
 * continues while the measured packets drain, for at most `drainCycles`; a point whose
 * measured packets have not all arrived by then did not converge. A point is saturated
 * when it did not converge or its average packet latency exceeds 3x the zero-load latency.
 */
export interface LoadPointOptions {
  pattern: TrafficPattern;
  /** offered load in flits/node/cycle, in (0, 1] */
  rate: number;
  packetFlits: number;
  seed: number;
  model: NocModel;
  engine?: NetworkOptions['engine'];
  /** message model only: per-hop events (default) or whole-path reservation at injection (the chip's fast fidelity) */
  reservation?: NetworkOptions['reservation'];
  /** message model only: calibration constants (default: the frozen ones) */
  calibration?: NetworkOptions['calibration'];
  warmupCycles: number;
  measureCycles: number;
  drainCycles: number;
  patternOptions?: PatternOptions;
  watchdogCycles?: number;
  /** Called now and then during the run with the simulated cycle and the measurement window's end (progress at the edge). */
  onProgress?: (simulatedCycles: number, measureEndCycles: number) => void;
}

export interface LoadPointResult {
  offeredFlitsPerNodeCycle: number;
  acceptedFlitsPerNodeCycle: number;
  avgPacketLatencyCycles: number;
  avgNetworkLatencyCycles: number;
  p99PacketLatencyCycles: number;
  avgHops: number;
  zeroLoadLatencyCycles: number;
  saturated: boolean;
  converged: boolean;
  packetsMeasured: number;
  simulatedCycles: number;
  routerEvaluations: number;
  eventsDispatched: number;
  maxBufferOccupancyFlits: number;
  minCredits: number;
  flitsInFlightAtEnd: number;
  /** flits sent per router port over the whole run (r x 5 + port), and the cycles they span */
  linkFlits: number[];
  counters: CounterRecord;
}

/** Geometric gap (>= 1) to the next success of a Bernoulli(p) trial per cycle. */
function geometricGap(rng: Rng, p: number): number {
  if (p >= 1) return 1;
  const u = 1 - rng.next(); // (0, 1]
  return Math.floor(Math.log(u) / Math.log1p(-p)) + 1;
}

export function runLoadPoint(design: Design, o: LoadPointOptions): LoadPointResult {
  const sim = new Simulator();
  const counters = new CounterRegistry();
  const net: Network = createNetwork(sim, design, { model: o.model, counters, engine: o.engine, reservation: o.reservation, calibration: o.calibration, watchdogCycles: o.watchdogCycles });
  const { rows, cols } = design.mesh;
  const n = rows * cols;
  const dest = destinationFunction(o.pattern, rows, cols, o.patternOptions);
  const p = o.rate / o.packetFlits;
  const root = new Rng(o.seed, 'noc/lab');
  const rngs = Array.from({ length: n }, (_, i) => root.stream(`node/${i}`));
  const start = o.warmupCycles;
  const end = o.warmupCycles + o.measureCycles;
  const deadline = end + o.drainCycles;

  let outstanding = 0; // measured packets not yet delivered
  let windowClosed = false;
  let acceptedFlits = 0;
  const latencies: number[] = [];
  let sumNet = 0;
  let sumHops = 0;
  let sumZero = 0;
  let stopped = false;
  let halted = false;

  // runs end after every evaluation of their last cycle, so both engines stop at the same state
  const stopAtCycleEnd = () => {
    if (stopped) return;
    stopped = true;
    sim.scheduleAt(sim.now, () => {
      halted = true;
      sim.stop();
    }, undefined, Priority.Exit);
  };
  const onDelivered = (msg: NetworkMessage, at: number) => {
    const pkt = msg as NetworkMessage & { flits: number; headInjectedAtCycles: number; hops: number };
    if (at >= start && at < end) acceptedFlits += pkt.flits;
    if (msg.tag === 1) {
      latencies.push(at - msg.createdAtCycles);
      sumNet += at - pkt.headInjectedAtCycles;
      sumHops += pkt.hops;
      sumZero += zeroLoadLatencyCycles(design.noc, pkt.hops, pkt.flits);
      outstanding--;
      if (windowClosed && outstanding === 0) stopAtCycleEnd();
    }
  };
  const create = (src: number) => {
    if (stopped) return;
    const now = sim.now;
    const measured = now >= start && now < end;
    if (measured) outstanding++;
    net.sendPacket(src, dest(src, rngs[src]), o.packetFlits, onDelivered, measured ? 1 : 0);
    sim.schedule(geometricGap(rngs[src], p), create, src, Priority.Default);
  };
  for (let s = 0; s < n; s++) sim.scheduleAt(geometricGap(rngs[s], p) - 1, create, s, Priority.Default);
  sim.scheduleAt(end, () => {
    windowClosed = true;
    if (outstanding === 0) stopAtCycleEnd();
  }, undefined, Priority.Urgent);
  sim.scheduleAt(deadline, stopAtCycleEnd, undefined, Priority.Exit);
  // with a progress callback the same run goes in slices of events (no event is added)
  const slice = o.onProgress ? 200_000 : Number.POSITIVE_INFINITY;
  while (sim.run(slice) === slice && !halted) o.onProgress?.(sim.now, end);
  net.settle(sim.now);
  const converged = windowClosed && outstanding === 0;

  const m = latencies.length;
  latencies.sort((a, b) => a - b);
  const avg = m ? latencies.reduce((a, b) => a + b, 0) / m : Number.NaN;
  const zero = m ? sumZero / m : zeroLoadLatencyCycles(design.noc, 0, o.packetFlits);
  const avgPacket = converged ? avg : Number.POSITIVE_INFINITY;
  return {
    offeredFlitsPerNodeCycle: o.rate,
    acceptedFlitsPerNodeCycle: acceptedFlits / (n * o.measureCycles),
    avgPacketLatencyCycles: m ? avg : Number.NaN,
    avgNetworkLatencyCycles: m ? sumNet / m : Number.NaN,
    p99PacketLatencyCycles: m ? latencies[Math.min(m - 1, Math.ceil(0.99 * m) - 1)] : Number.NaN,
    avgHops: m ? sumHops / m : Number.NaN,
    zeroLoadLatencyCycles: zero,
    saturated: !converged || avgPacket > 3 * zero,
    converged,
    packetsMeasured: m,
    simulatedCycles: sim.now,
    routerEvaluations: net.routerEvaluations,
    eventsDispatched: sim.eventsDispatched,
    maxBufferOccupancyFlits: net.maxBufferOccupancyFlits,
    minCredits: net.minCredits,
    flitsInFlightAtEnd: net.flitsInFlight(),
    linkFlits: Array.from(net.linkFlits()),
    counters: counters.totals(),
  };
}

/** A sweep longer than this is a typo in the step, not a study (each point is a full run). */
export const MAX_SWEEP_POINTS = 1000;

/** How many loads lo, lo + step, ..., hi holds. */
export function sweepPointCount(lo: number, hi: number, step: number): number {
  return Math.floor((hi - lo) / step + 1e-9) + 1;
}

/** Offered loads lo, lo + step, ..., hi (inclusive, rounded to the step's decimals). */
export function sweepLoads(lo: number, hi: number, step: number): number[] {
  if (!(step > 0) || !(hi >= lo) || sweepPointCount(lo, hi, step) > MAX_SWEEP_POINTS) throw new RangeError(`sweepLoads: needs lo <= hi, step > 0 and at most ${MAX_SWEEP_POINTS} points`);
  const decimals = Math.min(10, Math.max(0, -Math.floor(Math.log10(step)) + 2));
  const out: number[] = [];
  for (let k = 0; ; k++) {
    const v = Number((lo + k * step).toFixed(decimals));
    if (v > hi + step * 1e-9) break;
    out.push(v);
  }
  return out;
}

/**
 * Run the loads in order; unless `pastSaturation`, stop after the first saturated point
 * (saturation is detected and reported, not waited out).
 */
export function runSweep(design: Design, loads: readonly number[], base: Omit<LoadPointOptions, 'rate'>, pastSaturation = false, onPoint?: (r: LoadPointResult) => void): LoadPointResult[] {
  const out: LoadPointResult[] = [];
  for (const rate of loads) {
    const r = runLoadPoint(design, { ...base, rate });
    out.push(r);
    onPoint?.(r);
    if (r.saturated && !pastSaturation) break;
  }
  return out;
}

/** Saturation throughput of a sweep: the highest offered load not saturated (0 if none). */
export function saturationLoad(points: readonly LoadPointResult[]): number {
  let best = 0;
  for (const p of points) {
    if (p.saturated) break;
    best = p.offeredFlitsPerNodeCycle;
  }
  return best;
}
