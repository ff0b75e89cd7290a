import { Priority as KernelPriority } from '../kernel/priority.js';
import type { SimEvent, Simulator } from '../kernel/simulator.js';
import type { Design } from '../design/design.js';
import type { DeliveryHandler } from './port.js';
import { LOCAL as MESH_LOCAL, PORTS as MESH_PORTS, PORT_NAMES, hopCount, makeMesh, oppositePort, routerName, routingFunction, type Mesh, type RoutingFunction } from './mesh.js';
import { EJECTION_CYCLES, INJECTION_CYCLES, packetFlits } from './packet.js';
import { NocDeadlockError, type Network, type NetworkOptions, type NocPacket } from './network.js';
import { registerNocCounters } from './counters.js';


// Module-local copies: imported bindings can compile to getters, too slow for the hot loops.
const PORTS = MESH_PORTS;
const LOCAL = MESH_LOCAL;
const PRIORITY_DEFAULT = KernelPriority.Default;
const PRIORITY_LOW = KernelPriority.Low;
const PRIORITY_EXIT = KernelPriority.Exit;

/**
 * Flit-level mesh NoC: input-queued wormhole routers with virtual channels and credit-based
 * flow control (Dally & Towles ch. 13-16; Peh & Dally's router pipeline).
 *
 * Router pipeline (each stage's delay from the design): a head flit written into an input
 * VC at cycle t has its route computed by t + RC (route computation), requests an output VC
 * from then on (VC allocation, result usable VA cycles after the grant), then each flit of
 * the packet competes in switch allocation; a flit granted in cycle s leaves its buffer,
 * crosses the crossbar and the link and is written downstream at s + SA + ST + LT. The
 * credit for its slot reaches the upstream router at s + 1 + creditReturnCycles.
 * An output VC is released when the tail flit wins switch allocation and may be
 * reallocated from the next cycle, so an input VC buffer may hold the tail of one packet
 * followed by the head of the next (BookSim's behaviour); a head starts route
 * computation when it reaches the front of its VC.
 *
 * Tree multicast: route computation splits a multicast packet's destinations by output
 * port into branch packets; the head needs an output VC on every branch port, and each
 * flit crosses to all branches in one switch allocation (synchronous replication).
 *
 * Evaluation: all of one router's stages run in one evaluation per cycle; every effect
 * on another router (flit arrival, credit) lands at least one cycle later, so routers of
 * one cycle may be evaluated in any order (two-phase semantics). The event engine
 * evaluates a router only at cycles where switch allocation can act and computes that
 * next cycle after each evaluation (VC allocation is caught up lazily, see
 * catchUpVcAllocation); the cycle engine evaluates every router every cycle. Both call
 * the same code and give identical results.
 *
 * Data layout: flat typed arrays. Input VC i = (r x 5 + port) x V + vc; its buffer slots
 * are i x D .. i x D + D - 1 (a ring). Output VC o = (r x 6 + port) x V + vc, where port 5
 * of router r stands for the network interface of tile r feeding router r's local input.
 */

const IDLE = 0;
const ROUTING = 1;
const WAIT_VC = 2;
const ACTIVE = 3;
/** Output-VC slots per router: the five router output ports plus the interface's injection side. */
const OP = 6;
const NI_SIDE = 5;
/** SINGLE[mask]: the port of a one-port mask, -1 for none or several (fast path for unicast). */
const SINGLE = Int8Array.from({ length: 32 }, (_, m) => (m !== 0 && (m & (m - 1)) === 0 ? 31 - Math.clz32(m) : -1));

export class FlitNetwork implements Network {
  readonly model = 'flit' as const;
  routerEvaluations = 0;
  maxBufferOccupancyFlits = 0;
  minCredits = Number.POSITIVE_INFINITY;

  private readonly mesh: Mesh;
  private readonly route: RoutingFunction;
  private readonly R: number;
  private readonly V: number;
  private readonly D: number;
  private readonly RC: number;
  private readonly VA: number;
  /** switch allocation + switch traversal: grant to crossbar exit */
  private readonly SAST: number;
  private readonly LT: number;
  private readonly CR: number;
  private readonly perVcQueues: boolean;
  private readonly event: boolean;
  private readonly watchdogCycles: number;

  // input VCs
  private readonly ivState: Uint8Array;
  /** ROUTING: cycle the route is ready; ACTIVE: cycle the output VC is usable */
  private readonly ivReadyAt: Float64Array;
  /** output ports the front packet needs (one bit per port; several for a multicast branch point) */
  private readonly ivMask: Uint8Array;
  /** output ports still waiting for an output VC */
  private readonly ivPending: Uint8Array;
  /** per (input VC, output port): the output VC allocated and the packet slot its copies carry */
  private readonly ivBranchVc: Int16Array;
  private readonly ivBranchSlot: Int32Array;
  private readonly ivHead: Int32Array;
  private readonly ivCount: Int32Array;
  /** output VC (o index) that feeds this input VC, i.e. who gets our credits */
  private readonly ivUpstream: Int32Array;
  // buffers
  private readonly bufPkt: Int32Array;
  private readonly bufFlit: Int32Array;
  private readonly bufArrival: Float64Array;
  // output VCs
  private readonly ovCredits: Int32Array;
  private readonly ovFreeAt: Float64Array;
  private readonly ovRing: Float64Array;
  private readonly ovRingHead: Int32Array;
  private readonly ovRingCount: Int32Array;
  // allocator round-robin pointers
  private readonly vaPtr: Int32Array; // per (router, output port): next input VC to favour
  private readonly saInPtr: Int32Array; // per (router, input port): next VC
  private readonly saOutPtr: Int32Array; // per (router, output port): next input port
  private readonly saLostAt: Float64Array; // per (router, input port): cycle its waiting multicast first lost an output (Infinity: none)
  private readonly reqVc = new Int32Array(PORTS);
  private readonly reqMask = new Int32Array(PORTS);
  private readonly grant = new Int32Array(PORTS);
  // per router
  private readonly buffered: Int32Array;
  private readonly waiting: Int32Array;
  /** last cycle whose VC allocation router r has done */
  private readonly lastVa: Float64Array;
  private readonly links: Float64Array;
  // network interfaces
  private readonly queues: Packet[][];
  private readonly queueHead: Int32Array;
  private readonly queued: Int32Array;
  /** per (tile, queue): packet being injected (slot) or -1, next flit index */
  private readonly niCur: Int32Array;
  private readonly niCurVc: Int32Array;
  private readonly niNextFlit: Int32Array;
  private readonly niQueuePtr: Int32Array;
  private readonly niAssign: Int32Array;
  // packets
  private readonly packets: (Packet | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private nextId = 0;
  private inFlightFlits = 0;
  private inFlightPackets = 0;
  private lastProgress = 0;
  private watchdog: SimEvent | null = null;
  // scheduling
  private readonly nextAt: Float64Array;
  private readonly lastEval: Float64Array;
  private readonly pendingEv: (SimEvent | null)[];
  private tickPending = false;
  private lastTick = -1;
  // counters
  private readonly cBufW: Float64Array;
  private readonly cBufR: Float64Array;
  private readonly cRC: Float64Array;
  private readonly cVA: Float64Array;
  private readonly cSA: Float64Array;
  private readonly cXB: Float64Array;
  private readonly cLink: Float64Array;
  private readonly cCred: Float64Array;
  private readonly cRep: Float64Array;
  private readonly cPktIn: Float64Array;
  private readonly cFlitIn: Float64Array;
  private readonly cFlitOut: Float64Array;

  private readonly evalHandler = (k: number) => this.onWake(k);
  private readonly tickHandler = () => this.tick();
  private readonly deliverHandler = (t: number) => this.deliverDue(t);
  private readonly dueDeliveries = new Map<number, number[]>();
  private readonly watchdogHandler = () => this.checkWatchdog();

  constructor(
    private readonly sim: Simulator,
    readonly design: Design,
    options: NetworkOptions,
  ) {
    const noc = design.noc;
    this.mesh = makeMesh(design.mesh.rows, design.mesh.cols);
    this.route = routingFunction(design, this.mesh);
    const R = (this.R = this.mesh.routers);
    const V = (this.V = noc.virtualChannels);
    const D = (this.D = noc.bufferDepthFlits);
    this.RC = noc.routeComputeCycles;
    this.VA = noc.vcAllocCycles;
    this.SAST = noc.switchAllocCycles + noc.switchTraversalCycles;
    this.LT = noc.linkTraversalCycles;
    this.CR = noc.creditReturnCycles;
    this.perVcQueues = noc.injectionQueues === 'per-vc';
    this.event = (options.engine ?? 'event') === 'event';
    this.watchdogCycles = options.watchdogCycles ?? 100_000;
    if (!(Number.isSafeInteger(this.watchdogCycles) && this.watchdogCycles >= 1)) throw new RangeError(`watchdogCycles ${this.watchdogCycles} must be a positive integer`);

    const nIv = R * PORTS * V;
    this.ivState = new Uint8Array(nIv);
    this.ivReadyAt = new Float64Array(nIv);
    this.ivMask = new Uint8Array(nIv);
    this.ivPending = new Uint8Array(nIv);
    this.ivBranchVc = new Int16Array(nIv * PORTS);
    this.ivBranchSlot = new Int32Array(nIv * PORTS);
    this.ivHead = new Int32Array(nIv);
    this.ivCount = new Int32Array(nIv);
    this.ivUpstream = new Int32Array(nIv).fill(-1);
    this.bufPkt = new Int32Array(nIv * D);
    this.bufFlit = new Int32Array(nIv * D);
    this.bufArrival = new Float64Array(nIv * D);
    const nOv = R * OP * V;
    this.ovCredits = new Int32Array(nOv).fill(D);
    this.ovFreeAt = new Float64Array(nOv);
    this.ovRing = new Float64Array(nOv * D);
    this.ovRingHead = new Int32Array(nOv);
    this.ovRingCount = new Int32Array(nOv);
    for (let r = 0; r < R; r++) {
      for (let p = 0; p < PORTS; p++) {
        for (let v = 0; v < V; v++) {
          const i = (r * PORTS + p) * V + v;
          if (p === LOCAL) this.ivUpstream[i] = (r * OP + NI_SIDE) * V + v;
          else {
            const n = this.mesh.neighbour[r * PORTS + p];
            if (n >= 0) this.ivUpstream[i] = (n * OP + oppositePort(p)) * V + v;
          }
        }
      }
    }
    this.vaPtr = new Int32Array(R * PORTS);
    this.saInPtr = new Int32Array(R * PORTS);
    this.saOutPtr = new Int32Array(R * PORTS);
    this.saLostAt = new Float64Array(R * PORTS).fill(Number.POSITIVE_INFINITY);
    this.buffered = new Int32Array(R);
    this.waiting = new Int32Array(R);
    this.lastVa = new Float64Array(R).fill(-1);
    this.links = new Float64Array(R * PORTS);
    const nQ = this.perVcQueues ? V : 1;
    this.queues = Array.from({ length: R * nQ }, () => []);
    this.queueHead = new Int32Array(R * nQ);
    this.queued = new Int32Array(R);
    this.niCur = new Int32Array(R * nQ).fill(-1);
    this.niCurVc = new Int32Array(R * nQ);
    this.niNextFlit = new Int32Array(R * nQ);
    this.niQueuePtr = new Int32Array(R);
    this.niAssign = new Int32Array(R);
    this.nextAt = new Float64Array(2 * R).fill(Number.POSITIVE_INFINITY);
    this.lastEval = new Float64Array(2 * R).fill(-1);
    this.pendingEv = new Array(2 * R).fill(null);

    ({
      bufferWrites: this.cBufW,
      bufferReads: this.cBufR,
      routeComputations: this.cRC,
      vcAllocations: this.cVA,
      switchAllocations: this.cSA,
      crossbarTraversals: this.cXB,
      linkFlitHops: this.cLink,
      creditsReturned: this.cCred,
      flitsReplicated: this.cRep,
      packetsInjected: this.cPktIn,
      flitsInjected: this.cFlitIn,
      flitsEjected: this.cFlitOut,
    } = registerNocCounters(options.counters, R, this.mesh.cols));
  }

  // ---- the port --------------------------------------------------------------------

  send(src: number, dst: number, bytes: number, onDelivered: DeliveryHandler, tag = 0): NocPacket {
    if (!(Number.isSafeInteger(bytes) && bytes >= 0)) throw new RangeError(`send: bytes ${bytes} must be a non-negative integer`);
    return this.enqueue(src, dst, packetFlits(this.design.noc, bytes), bytes, onDelivered, tag);
  }

  sendPacket(src: number, dst: number, flits: number, onDelivered: DeliveryHandler, tag = 0): NocPacket {
    if (!(Number.isSafeInteger(flits) && flits >= 1)) throw new RangeError(`sendPacket: flits ${flits} must be a positive integer`);
    const payloadBits = Math.max(0, flits * this.design.noc.flitBits - this.design.noc.headerBits);
    return this.enqueue(src, dst, flits, Math.floor(payloadBits / 8), onDelivered, tag);
  }

  multicast(src: number, dsts: readonly number[], bytes: number, onDelivered: DeliveryHandler, tag = 0): void {
    if (!(Number.isSafeInteger(bytes) && bytes >= 0)) throw new RangeError(`multicast: bytes ${bytes} must be a non-negative integer`);
    const unique = [...new Set(dsts)];
    if (this.design.noc.multicast !== 'tree' || unique.length < 2) {
      for (const d of unique) this.send(src, d, bytes, onDelivered, tag);
      return;
    }
    for (const d of unique) this.checkTile(d, 'destination');
    this.enqueue(src, unique[0], packetFlits(this.design.noc, bytes), bytes, onDelivered, tag, unique);
  }

  // ---- inspection ------------------------------------------------------------------

  flitsInFlight(): number {
    return this.inFlightFlits;
  }

  packetsInFlight(): number {
    return this.inFlightPackets;
  }

  linkFlits(): Float64Array {
    return this.links.slice();
  }

  linkUtilisation(cycles = this.sim.now): Float64Array {
    const u = this.links.slice();
    for (let k = 0; k < u.length; k++) u[k] = cycles > 0 ? u[k] / cycles : 0;
    return u;
  }

  /**
   * Bring the lazily evaluated VC allocation of every router up to date through cycle
   * `throughCycles` (default: now), so counters read mid-run match the cycle-by-cycle
   * engine. Call it after the run has finished the cycle.
   */
  settle(throughCycles = this.sim.now): void {
    for (let r = 0; r < this.R; r++) if (this.buffered[r] > 0 && this.lastVa[r] < throughCycles) this.catchUpVcAllocation(r, throughCycles);
  }

  // ---- injection -------------------------------------------------------------------

  private checkTile(t: number, what: string): void {
    if (!(Number.isInteger(t) && t >= 0 && t < this.R)) throw new RangeError(`${what} tile ${t} is not in 0..${this.R - 1}`);
  }

  /** Put a packet in the packet table; returns its slot. */
  private store(pkt: Packet): number {
    const slot = this.freeSlots.length ? this.freeSlots.pop()! : this.packets.length;
    this.packets[slot] = pkt;
    pkt.slot = slot;
    return slot;
  }

  private release(slot: number): void {
    this.packets[slot] = undefined;
    this.freeSlots.push(slot);
  }

  private enqueue(src: number, dst: number, flits: number, bytes: number, onDelivered: DeliveryHandler, tag: number, dsts: number[] | null = null): NocPacket {
    this.checkTile(src, 'source');
    this.checkTile(dst, 'destination');
    const pkt = new Packet(this.nextId++, src, dst, bytes, tag, this.sim.now, flits, hopCount(this.mesh.cols, src, dst), onDelivered);
    pkt.dsts = dsts;
    this.store(pkt);
    const q = this.perVcQueues ? src * this.V + (this.niAssign[src]++ % this.V) : src;
    this.queues[q].push(pkt);
    this.queued[src]++;
    this.inFlightPackets += dsts ? dsts.length : 1;
    this.startWatchdog();
    this.wake(this.R + src, this.sim.now);
    return pkt;
  }

  // ---- scheduling ------------------------------------------------------------------

  /** Make component k (router r = k, or interface k - R) evaluate at cycle t (>= now). */
  private wake(k: number, t: number): void {
    if (!this.event) {
      this.ensureTick();
      return;
    }
    if (t <= this.lastEval[k]) t = this.lastEval[k] + 1;
    if (t >= this.nextAt[k]) return;
    const old = this.pendingEv[k];
    if (old) this.sim.cancel(old);
    this.nextAt[k] = t;
    this.pendingEv[k] = this.sim.scheduleAt(t, this.evalHandler, k, PRIORITY_LOW);
  }

  private onWake(k: number): void {
    this.pendingEv[k] = null;
    this.nextAt[k] = Number.POSITIVE_INFINITY;
    const now = this.sim.now;
    this.lastEval[k] = now;
    const next = k < this.R ? this.evalRouter(k, now) : this.evalInterface(k - this.R, now);
    if (next !== Number.POSITIVE_INFINITY) this.wake(k, next);
  }

  private ensureTick(): void {
    if (this.tickPending) return;
    this.tickPending = true;
    this.sim.scheduleAt(Math.max(this.sim.now, this.lastTick + 1), this.tickHandler, undefined, PRIORITY_LOW);
  }

  /** Cycle-by-cycle reference: every router and interface, every cycle, while traffic remains. */
  private tick(): void {
    this.tickPending = false;
    const now = this.sim.now;
    this.lastTick = now;
    for (let r = 0; r < this.R; r++) this.evalRouter(r, now);
    for (let t = 0; t < this.R; t++) this.evalInterface(t, now);
    if (this.inFlightPackets > 0) this.ensureTick();
  }

  // ---- credits ---------------------------------------------------------------------

  /** Credits of output VC o at cycle `now`, after absorbing those that have arrived. */
  private creditsAt(o: number, now: number): number {
    let n = this.ovRingCount[o];
    if (n > 0) {
      const D = this.D;
      const base = o * D;
      let h = this.ovRingHead[o];
      let c = this.ovCredits[o];
      while (n > 0 && this.ovRing[base + h] <= now) {
        c++;
        h = h + 1 === D ? 0 : h + 1;
        n--;
      }
      this.ovCredits[o] = c;
      this.ovRingHead[o] = h;
      this.ovRingCount[o] = n;
      return c;
    }
    return this.ovCredits[o];
  }

  /** The cycle the next returning credit of output VC o arrives (Infinity if none is on its way). */
  private nextCreditAt(o: number): number {
    return this.ovRingCount[o] > 0 ? this.ovRing[o * this.D + this.ovRingHead[o]] : Number.POSITIVE_INFINITY;
  }

  /** Send a credit for input VC i's freed slot upstream; it arrives at `t`. */
  private returnCredit(r: number, i: number, t: number): void {
    const o = this.ivUpstream[i];
    const D = this.D;
    const n = this.ovRingCount[o];
    this.ovRing[o * D + ((this.ovRingHead[o] + n) % D)] = t;
    this.ovRingCount[o] = n + 1;
    if (n + 1 + this.ovCredits[o] > D) throw new Error(`internal: output VC ${o} would hold more than ${D} credits`);
    this.cCred[r]++;
    const up = Math.floor(o / (OP * this.V));
    const upPort = Math.floor(o / this.V) % OP;
    if (upPort === NI_SIDE) {
      if (this.queued[up] > 0) this.wake(this.R + up, t);
    } else if (this.buffered[up] > 0) this.wake(up, t);
  }

  // ---- buffers ---------------------------------------------------------------------

  /** Write flit `f` of packet `slot` into input VC i, arriving at cycle `arrival`. */
  private writeFlit(r: number, i: number, slot: number, f: number, arrival: number): void {
    const D = this.D;
    const n = this.ivCount[i];
    if (n >= D) throw new Error(`internal: input VC ${i} of ${routerName(this.mesh.cols, r)} overflows its ${D} slots`);
    const s = i * D + ((this.ivHead[i] + n) % D);
    this.bufPkt[s] = slot;
    this.bufFlit[s] = f;
    this.bufArrival[s] = arrival;
    this.ivCount[i] = n + 1;
    if (n + 1 > this.maxBufferOccupancyFlits) this.maxBufferOccupancyFlits = n + 1;
    this.buffered[r]++;
    this.cBufW[r]++;
    if (n > 0) return; // behind other flits: handled when it reaches the front
    if (f === 0) this.startRouting(r, i, slot, arrival);
    else this.wake(r, Math.max(arrival, this.ivReadyAt[i]));
  }

  /**
   * A head flit reached the front of input VC i at cycle `front`: route computation,
   * ready RC cycles later. A tree-multicast packet is split here by output port into one
   * branch packet per port (the router replicates its flits as they cross the crossbar).
   */
  private startRouting(r: number, i: number, slot: number, front: number): void {
    if (this.ivState[i] !== IDLE) throw new Error(`internal: head flit at the front of busy VC ${i}`);
    const pkt = this.packets[slot]!;
    const bb = i * PORTS;
    let mask = 0;
    if (pkt.dsts === null) {
      const op = this.route(r, pkt.dst);
      mask = 1 << op;
      this.ivBranchSlot[bb + op] = slot;
    } else {
      const groups: number[][] = [[], [], [], [], []];
      for (const d of pkt.dsts) groups[this.route(r, d)].push(d);
      for (let op = 0; op < PORTS; op++) {
        const g = groups[op];
        if (g.length === 0) continue;
        mask |= 1 << op;
        const dst = op === LOCAL ? r : g[0];
        const b = new Packet(this.nextId++, pkt.src, dst, pkt.bytes, pkt.tag, pkt.createdAtCycles, pkt.flits, hopCount(this.mesh.cols, pkt.src, dst), pkt.onDelivered);
        b.headInjectedAtCycles = pkt.headInjectedAtCycles;
        if (op !== LOCAL && g.length > 1) b.dsts = g;
        this.ivBranchSlot[bb + op] = this.store(b);
      }
    }
    this.ivMask[i] = mask;
    this.ivPending[i] = mask;
    this.ivState[i] = ROUTING;
    this.ivReadyAt[i] = front + this.RC;
    this.cRC[r]++;
    this.wake(r, Math.max(front + this.RC, this.pendingFreeAt(r, i, 0)) + this.VA);
  }

  /** One router, one cycle: route computation, VC allocation, switch allocation and traversal. Returns the next cycle with work. */
  private evalRouter(r: number, now: number): number {
    if (this.buffered[r] === 0) return Number.POSITIVE_INFINITY;
    this.routerEvaluations++;
    const V = this.V;
    const base = r * PORTS * V;

    this.catchUpVcAllocation(r, now);

    // Switch allocation, input first (iSLIP, one iteration): each input port picks one
    // ready VC with a credit on every output it needs, round-robin; each output port
    // grants one requesting input (inputs whose multicast lost an output first, longest
    // waiting first: `saBefore`). A multicast flit crosses only when all its outputs
    // granted it in the same cycle.
    const reqVc = this.reqVc;
    const reqMask = this.reqMask;
    let requests = 0;
    let wanted = 0;
    for (let p = 0; p < PORTS; p++) {
      reqVc[p] = -1;
      const pb = base + p * V;
      const start = this.saInPtr[r * PORTS + p];
      for (let k = 0; k < V; k++) {
        const v = (start + k) % V;
        const i = pb + v;
        if (this.ivState[i] !== ACTIVE || this.ivCount[i] === 0 || this.ivReadyAt[i] > now) continue;
        if (this.bufArrival[i * this.D + this.ivHead[i]] > now) continue;
        if (!this.hasCredits(r, i, now)) continue;
        reqVc[p] = v;
        reqMask[p] = this.ivMask[i];
        wanted |= this.ivMask[i];
        requests++;
        break;
      }
    }
    if (requests === 0) return this.nextRouterWork(r, now);
    const grant = this.grant;
    for (let op = 0; op < PORTS; op++) {
      grant[op] = -1;
      if ((wanted & (1 << op)) === 0) continue;
      const ptr = r * PORTS + op;
      const start = this.saOutPtr[ptr];
      for (let k = 0; k < PORTS; k++) {
        const p = (start + k) % PORTS;
        if (reqVc[p] < 0 || (reqMask[p] & (1 << op)) === 0) continue;
        if (grant[op] < 0 || this.saBefore(r, p, grant[op])) grant[op] = p;
      }
    }
    for (let p = 0; p < PORTS; p++) {
      if (reqVc[p] < 0) continue;
      const m = reqMask[p];
      const one = SINGLE[m];
      let all = one >= 0 ? grant[one] === p : true;
      if (one < 0) for (let op = 0; op < PORTS; op++) if (m & (1 << op) && grant[op] !== p) all = false;
      if (!all) {
        // a multicast that lost an output: preferred from now on
        if (m & (m - 1) && this.saLostAt[r * PORTS + p] === Number.POSITIVE_INFINITY) this.saLostAt[r * PORTS + p] = now;
        continue;
      }
      this.saLostAt[r * PORTS + p] = Number.POSITIVE_INFINITY;
      for (let op = 0; op < PORTS; op++) if (m & (1 << op)) this.saOutPtr[r * PORTS + op] = (p + 1) % PORTS;
      this.saInPtr[r * PORTS + p] = (reqVc[p] + 1) % V;
      this.traverse(r, base + p * V + reqVc[p], now);
    }
    return this.nextRouterWork(r, now);
  }

  /**
   * Switch allocation, output side: does input port p of router r beat input port q? Inputs
   * whose multicast lost an output go first, the one that has waited longest first (ties: the
   * lower port), in the same order at every output, so one of them wins every output it
   * needs. (Preferring them in each output's round-robin order instead let two multicasts
   * that share two outputs win one each, cycle after cycle: a livelock the watchdog reported
   * as a deadlock.) Other inputs keep the output's round-robin order (the caller's scan).
   */
  private saBefore(r: number, p: number, q: number): boolean {
    const a = this.saLostAt[r * PORTS + p];
    const b = this.saLostAt[r * PORTS + q];
    return a < b || (a === b && a !== Number.POSITIVE_INFINITY && p < q);
  }

  /** Does every output input VC i needs have a credit at cycle `now` (ejection always does)? */
  private hasCredits(r: number, i: number, now: number): boolean {
    const m = this.ivMask[i];
    const one = SINGLE[m];
    if (one >= 0) return one === LOCAL || this.creditsAt((r * OP + one) * this.V + this.ivBranchVc[i * PORTS + one], now) > 0;
    for (let op = 1; op < PORTS; op++) {
      if ((m & (1 << op)) === 0) continue;
      if (this.creditsAt((r * OP + op) * this.V + this.ivBranchVc[i * PORTS + op], now) <= 0) return false;
    }
    return true;
  }

  /**
   * Route computation and VC allocation for every cycle x in (last done, now] in which
   * they can act, in order. The event engine wakes a router for the switch allocation
   * that follows a VC allocation (cycle x + VA), not for the VC allocation itself, and
   * performs the VC allocation of cycle x here. This is exact: what VC allocation at x
   * reads (heads ready by x, output VCs free at x, credits arrived by x, the round-robin
   * pointers) changes only through this router's own evaluations or through arrivals
   * stamped with their cycle, and no evaluation of this router happened in between.
   */
  private catchUpVcAllocation(r: number, now: number): void {
    const PV = PORTS * this.V;
    const base = r * PV;
    let from = this.lastVa[r] + 1;
    for (;;) {
      // the first cycle >= from at which a head is ready and an output VC it needs is free
      let x = Number.POSITIVE_INFINITY;
      for (let i = base; i < base + PV; i++) {
        const st = this.ivState[i];
        if (st === ROUTING) x = Math.min(x, Math.max(from, this.ivReadyAt[i], this.pendingFreeAt(r, i, from)));
        else if (st === WAIT_VC) x = Math.min(x, this.pendingFreeAt(r, i, from));
      }
      if (x > now) break;
      this.allocateVcs(r, x);
      from = x + 1;
    }
    this.lastVa[r] = now;
  }

  /** The first cycle >= from at which an output VC of port op of router r is free (Infinity if none will be without further events). */
  private firstFreeAt(r: number, op: number, from: number): number {
    const ovBase = (r * OP + op) * this.V;
    let t = Number.POSITIVE_INFINITY;
    for (let v = 0; v < this.V; v++) t = Math.min(t, this.ovFreeAt[ovBase + v]);
    return Math.max(t, from);
  }

  /** The first cycle >= from at which some output still wanted by input VC i has a free VC. */
  private pendingFreeAt(r: number, i: number, from: number): number {
    const m = this.ivPending[i];
    const one = SINGLE[m];
    if (one >= 0) return this.firstFreeAt(r, one, from);
    let t = Number.POSITIVE_INFINITY;
    for (let op = 0; op < PORTS; op++) if (m & (1 << op)) t = Math.min(t, this.firstFreeAt(r, op, from));
    return t;
  }

  /** Route computation done and VC allocation, as in cycle x. */
  private allocateVcs(r: number, x: number): void {
    const V = this.V;
    const PV = PORTS * V;
    const base = r * PV;
    // Route computation done: the head now waits for output VCs.
    let wanted = 0;
    for (let i = base; i < base + PV; i++) {
      const st = this.ivState[i];
      if (st === ROUTING && this.ivReadyAt[i] <= x) {
        this.ivState[i] = WAIT_VC;
        this.waiting[r]++;
        wanted |= this.ivPending[i];
      } else if (st === WAIT_VC) wanted |= this.ivPending[i];
    }
    if (wanted === 0) return;
    // VC allocation (separable, round-robin): per output port, waiting heads in
    // round-robin order from the port's pointer each take the free output VC with the
    // most credits (the emptiest downstream buffer; lowest index on ties). A multicast
    // head holds the VCs it got until it has one on every output it needs.
    for (let op = 0; op < PORTS; op++) {
      const bit = 1 << op;
      if ((wanted & bit) === 0) continue;
      const ptr = r * PORTS + op;
      const start = this.vaPtr[ptr];
      const ovBase = (r * OP + op) * V;
      for (let k = 0; k < PV; k++) {
        const li = (start + k) % PV;
        const i = base + li;
        if (this.ivState[i] !== WAIT_VC || (this.ivPending[i] & bit) === 0) continue;
        const freeV = this.emptiestFreeVc(ovBase, op !== LOCAL, x);
        if (freeV < 0) break;
        this.ovFreeAt[ovBase + freeV] = Number.POSITIVE_INFINITY;
        this.ivBranchVc[i * PORTS + op] = freeV;
        this.ivPending[i] &= ~bit;
        this.cVA[r]++;
        this.vaPtr[ptr] = (li + 1) % PV;
        if (this.ivPending[i] === 0) {
          this.ivState[i] = ACTIVE;
          this.ivReadyAt[i] = x + this.VA;
          this.waiting[r]--;
        }
      }
    }
  }

  /** Credits of output VC o at cycle x, counting returned credits without absorbing them. */
  private creditsAtTime(o: number, x: number): number {
    let c = this.ovCredits[o];
    const D = this.D;
    const base = o * D;
    let h = this.ovRingHead[o];
    for (let n = this.ovRingCount[o]; n > 0 && this.ovRing[base + h] <= x; n--) {
      c++;
      h = h + 1 === D ? 0 : h + 1;
    }
    return c;
  }

  /** The free output VC (from ovBase) with the most credits at cycle x, or -1 if none is free. */
  private emptiestFreeVc(ovBase: number, withCredits: boolean, x: number): number {
    let best = -1;
    let bestCredits = -1;
    for (let v = 0; v < this.V; v++) {
      const o = ovBase + v;
      if (this.ovFreeAt[o] > x) continue;
      const c = withCredits ? this.creditsAtTime(o, x) : 0;
      if (c > bestCredits) {
        best = v;
        bestCredits = c;
      }
    }
    return best;
  }

  /** A granted flit leaves input VC i through its output port(s) (switch + link traversal). */
  private traverse(r: number, i: number, now: number): void {
    const D = this.D;
    const V = this.V;
    const s = i * D + this.ivHead[i];
    const slot = this.bufPkt[s];
    const f = this.bufFlit[s];
    this.ivHead[i] = this.ivHead[i] + 1 === D ? 0 : this.ivHead[i] + 1;
    this.ivCount[i]--;
    this.buffered[r]--;
    this.cBufR[r]++;
    this.lastProgress = now;
    const pkt = this.packets[slot]!;
    const tail = f === pkt.flits - 1;
    this.returnCredit(r, i, now + 1 + this.CR);
    const m = this.ivMask[i];
    let copies = 0;
    for (let op = 0; op < PORTS; op++) {
      if ((m & (1 << op)) === 0) continue;
      copies++;
      const ov = this.ivBranchVc[i * PORTS + op];
      const bslot = this.ivBranchSlot[i * PORTS + op];
      this.cSA[r]++;
      this.cXB[r]++;
      this.links[r * PORTS + op]++;
      // the output VC is released with the tail and may be reallocated from the next cycle
      if (tail) this.ovFreeAt[(r * OP + op) * V + ov] = now + 1;
      if (op === LOCAL) {
        // ejection channel into the interface's unbounded sink
        this.cFlitOut[r]++;
        this.inFlightFlits--;
        if (tail) this.scheduleDelivery(bslot, now + this.SAST + EJECTION_CYCLES);
        continue;
      }
      const o = (r * OP + op) * V + ov;
      const c = --this.ovCredits[o];
      if (c < this.minCredits) this.minCredits = c;
      if (c < 0) throw new Error(`internal: negative credits on output VC ${o}`);
      this.cLink[r]++;
      const n = this.mesh.neighbour[r * PORTS + op];
      this.writeFlit(n, (n * PORTS + oppositePort(op)) * V + ov, bslot, f, now + this.SAST + this.LT);
    }
    if (copies > 1) {
      this.cRep[r] += copies - 1;
      this.inFlightFlits += copies - 1;
    }
    if (tail) {
      this.ivState[i] = IDLE;
      if (pkt.dsts !== null) this.release(slot); // a split multicast packet lives on in its branches
      // the next packet's head, if already queued behind, now reaches the front
      if (this.ivCount[i] > 0) {
        const h = i * D + this.ivHead[i];
        this.startRouting(r, i, this.bufPkt[h], Math.max(this.bufArrival[h], now + 1));
      }
    }
  }

  /** Earliest cycle after `now` at which router r can act (Infinity: only an arrival or credit can give it work). */
  private nextRouterWork(r: number, now: number): number {
    if (this.buffered[r] === 0) return Number.POSITIVE_INFINITY;
    const V = this.V;
    const PV = PORTS * V;
    const base = r * PV;
    let next = Number.POSITIVE_INFINITY;
    for (let i = base; i < base + PV; i++) {
      if (this.ivCount[i] === 0) continue;
      const st = this.ivState[i];
      let t = Number.POSITIVE_INFINITY;
      // heads: the first switch allocation they could win follows VC allocation by VA cycles
      if (st === ROUTING) t = Math.max(this.ivReadyAt[i], this.pendingFreeAt(r, i, now + 1)) + this.VA;
      else if (st === WAIT_VC) t = this.pendingFreeAt(r, i, now + 1) + this.VA;
      else if (st === ACTIVE) {
        const e = Math.max(this.bufArrival[i * this.D + this.ivHead[i]], this.ivReadyAt[i]);
        if (e > now) t = e;
        else {
          // every needed output must have a credit: wait for the latest of the missing ones
          t = now + 1;
          const m = this.ivMask[i];
          for (let op = 1; op < PORTS; op++) {
            if ((m & (1 << op)) === 0) continue;
            const o = (r * OP + op) * V + this.ivBranchVc[i * PORTS + op];
            if (this.creditsAt(o, now) <= 0) t = Math.max(t, this.nextCreditAt(o));
          }
        }
      }
      if (t < next) next = t;
    }
    return next;
  }

  // ---- the network interface -------------------------------------------------------

  /** One interface, one cycle: start the next packet on a free VC and inject at most one flit. */
  private evalInterface(t: number, now: number): number {
    if (this.queued[t] === 0) return Number.POSITIVE_INFINITY;
    const V = this.V;
    const nQ = this.perVcQueues ? V : 1;
    const ovBase = (t * OP + NI_SIDE) * V;
    let sent = false;
    let next = Number.POSITIVE_INFINITY;
    const startQ = this.niQueuePtr[t];
    for (let k = 0; k < nQ; k++) {
      const qi = (startQ + k) % nQ;
      const q = t * nQ + qi;
      // a queue with no packet in progress takes its front packet once a VC is free
      if (this.niCur[q] < 0) {
        if (this.queueHead[q] === this.queues[q].length) continue;
        let vc = -1;
        if (this.perVcQueues) {
          if (this.ovFreeAt[ovBase + qi] <= now) vc = qi;
        } else vc = this.emptiestFreeVc(ovBase, true, now);
        if (vc < 0) {
          // head-of-line: the front packet waits for a VC; so does everything behind it
          if (this.perVcQueues) next = Math.min(next, this.ovFreeAt[ovBase + qi]);
          else for (let v = 0; v < V; v++) next = Math.min(next, this.ovFreeAt[ovBase + v]);
          continue;
        }
        const pkt = this.queues[q][this.queueHead[q]++];
        if (this.queueHead[q] > 1024 && this.queueHead[q] * 2 > this.queues[q].length) {
          this.queues[q].splice(0, this.queueHead[q]);
          this.queueHead[q] = 0;
        }
        this.niCur[q] = pkt.slot;
        this.niCurVc[q] = vc;
        this.niNextFlit[q] = 0;
        this.ovFreeAt[ovBase + vc] = Number.POSITIVE_INFINITY;
      }
      const o = ovBase + this.niCurVc[q];
      if (this.creditsAt(o, now) <= 0) {
        next = Math.min(next, this.nextCreditAt(o));
        continue;
      }
      if (sent) {
        next = now + 1; // one flit per cycle on the injection channel
        continue;
      }
      sent = true;
      this.niQueuePtr[t] = (qi + 1) % nQ;
      const slot = this.niCur[q];
      const pkt = this.packets[slot]!;
      const f = this.niNextFlit[q]++;
      const c = --this.ovCredits[o];
      if (c < this.minCredits) this.minCredits = c;
      this.cFlitIn[t]++;
      this.inFlightFlits++;
      this.lastProgress = now;
      if (f === 0) {
        pkt.headInjectedAtCycles = now;
        this.cPktIn[t]++;
      }
      if (f === pkt.flits - 1) {
        this.niCur[q] = -1;
        this.queued[t]--;
        this.ovFreeAt[o] = now + 1;
      }
      this.writeFlit(t, (t * PORTS + LOCAL) * V + this.niCurVc[q], slot, f, now + INJECTION_CYCLES);
      if (this.niCur[q] >= 0 || this.queueHead[q] < this.queues[q].length) next = Math.min(next, now + 1);
    }
    return this.queued[t] > 0 ? Math.max(next, now + 1) : Number.POSITIVE_INFINITY;
  }

  /**
   * Deliveries due in the same cycle run in one event, ordered by (destination, packet id),
   * so the order of onDelivered calls does not depend on the order routers were evaluated.
   */
  private scheduleDelivery(slot: number, t: number): void {
    const list = this.dueDeliveries.get(t);
    if (list) list.push(slot);
    else {
      this.dueDeliveries.set(t, [slot]);
      this.sim.scheduleAt(t, this.deliverHandler, t, PRIORITY_DEFAULT);
    }
  }

  private deliverDue(t: number): void {
    const slots = this.dueDeliveries.get(t)!;
    this.dueDeliveries.delete(t);
    const pkts = this.packets;
    if (slots.length > 1) slots.sort((a, b) => pkts[a]!.dst - pkts[b]!.dst || pkts[a]!.id - pkts[b]!.id);
    for (const s of slots) this.deliver(s);
  }

  private deliver(slot: number): void {
    const pkt = this.packets[slot]!;
    this.release(slot);
    if (--this.inFlightPackets === 0) this.stopWatchdog();
    pkt.onDelivered(pkt, this.sim.now);
  }

  // ---- watchdog --------------------------------------------------------------------

  private startWatchdog(): void {
    if (this.watchdog) return;
    this.lastProgress = Math.max(this.lastProgress, this.sim.now);
    this.watchdog = this.sim.scheduleAt(this.lastProgress + this.watchdogCycles, this.watchdogHandler, undefined, PRIORITY_EXIT);
  }

  /**
   * The network drained: drop the pending watchdog check, so no bookkeeping event outlives
   * the traffic (it would stretch the simulated window past the last work, issue 11).
   */
  private stopWatchdog(): void {
    if (this.watchdog) this.sim.cancel(this.watchdog);
    this.watchdog = null;
  }

  private checkWatchdog(): void {
    this.watchdog = null;
    if (this.inFlightPackets === 0) return;
    const now = this.sim.now;
    if (now - this.lastProgress >= this.watchdogCycles) throw new NocDeadlockError(this.describeStuck(now));
    this.watchdog = this.sim.scheduleAt(this.lastProgress + this.watchdogCycles, this.watchdogHandler, undefined, PRIORITY_EXIT);
  }

  /** One line naming the routers and VCs that hold flits (for the watchdog's error). */
  describeStuck(now: number): string {
    const names = ['idle', 'routing', 'waiting for VC', 'active'];
    const stuck: string[] = [];
    for (let i = 0; i < this.ivCount.length && stuck.length < 8; i++) {
      if (this.ivCount[i] === 0) continue;
      const r = Math.floor(i / (PORTS * this.V));
      const p = Math.floor(i / this.V) % PORTS;
      stuck.push(`${routerName(this.mesh.cols, r)} ${PORT_NAMES[p]} vc${i % this.V} (${names[this.ivState[i]]}, ${this.ivCount[i]} flits)`);
    }
    return `NoC watchdog: ${this.inFlightPackets} packets in flight and no flit moved for ${now - this.lastProgress} cycles (since cycle ${this.lastProgress}); stuck: ${stuck.join('; ') || 'only injection queues'}`;
  }
}

class Packet implements NocPacket {
  headInjectedAtCycles = -1;
  slot = -1;
  /** tree multicast: the destinations this copy still serves (null: unicast to dst) */
  dsts: number[] | null = null;
  constructor(
    readonly id: number,
    readonly src: number,
    readonly dst: number,
    readonly bytes: number,
    readonly tag: number,
    readonly createdAtCycles: number,
    readonly flits: number,
    readonly hops: number,
    readonly onDelivered: DeliveryHandler,
  ) {}
}
