import { PriorityQueue } from '@datastructures-js/priority-queue';
import { Priority as KernelPriority } from '../kernel/priority.js';
import type { SimEvent, Simulator } from '../kernel/simulator.js';
import type { Design } from '../design/design.js';
import type { DeliveryHandler } from './port.js';
import { LOCAL as MESH_LOCAL, PORTS as MESH_PORTS, NORTH, EAST, SOUTH, WEST, hopCount, oppositePort, makeMesh, routingFunction, type Mesh, type RoutingFunction } from './mesh.js';
import { EJECTION_CYCLES as EJ, INJECTION_CYCLES as INJ, packetFlits, routerDelayCycles } from './packet.js';
import { registerNocCounters } from './counters.js';
import { cyclesPerFlit, injectionCreditRoundTripCycles, linkCreditRoundTripCycles, spanCycles as creditSpan } from './creditFlow.js';
import { VcReservations } from './vcReservations.js';
import type { CalendarTable } from './busyCalendar.js';
import { interleave, type InterleavedPacket } from './roundRobinInjection.js';
import { EjectionSharing } from './ejectionSharing.js';
import { activeCalibration } from './messageCalibration.js';
import type { Network, NetworkOptions, NocPacket } from './network.js';

// Module-local copies: imported bindings can compile to getters, too slow for the hot loops.
const PORTS = MESH_PORTS;
const LOCAL = MESH_LOCAL;
const PRIORITY_DEFAULT = KernelPriority.Default;
const PRIORITY_LOW = KernelPriority.Low;
const EJECTION_CYCLES = EJ;
const INJECTION_CYCLES = INJ;
const spanCycles = creditSpan;

/**
 * Message-level mesh NoC (the fast model for whole-chip runs; docs/noc.md, "Message-level
 * model", has the equations and the measured agreement). A packet moves as a unit, one
 * computation per router on its route, no per-flit events, and keeps what sets its timing in
 * the wormhole router with virtual channels and credits (sim/noc/flitNetwork.ts, the
 * reference):
 *
 * - credits: a VC with D slots and credit round trip R carries at most D / R flits per cycle,
 *   so the tail trails the head by span(L, D, R) (creditFlow.ts);
 * - virtual channels: each output port has V VCs (vcReservations.ts); a head needs one free
 *   long enough, holds it until its tail has left, the tail has left the buffer downstream
 *   and the downstream slot of its flit L - D is free again;
 * - links: one flit per cycle, shared flit by flit by the packets on different VCs; the
 *   head leaves in the link's first free cycle, the tail when the link has carried all L;
 * - back-pressure: a packet longer than a buffer that is held up downstream holds its tails,
 *   VCs and injection FIFO upstream (`backPressureRoute`);
 * - interfaces: one injection FIFO, or per-VC FIFOs interleaved round-robin
 *   (roundRobinInjection.ts); ejection ports shared by the packets holding their VCs
 *   (ejectionSharing.ts).
 *
 * A packet's head reaches router k at a_k and leaves at d_k = max(a_k + RC + VA + SA + ST,
 * a fitting output VC, the link's first free cycle); its tail leaves at t_k = max(d_k + span,
 * tail arrival + SA + ST, the link's L-th cycle); the next router sees the head at d_k + LT
 * and the tail at t_k + LT; the tail is ejected at t + EJ. With ample buffers (D >= R) and
 * one packet in the network this is exactly the zero-load formula (sim/noc/packet.ts).
 *
 * `reservation: 'hop'` (default) handles each router on the route as an event, in
 * head-arrival order; `'path'` reserves the whole route when the message is injected (one
 * event per delivery: the full-chip fast fidelity), every resource keeping a calendar of
 * busy intervals so that a message reserved later can take a gap before one reserved earlier
 * (busyCalendar.ts), and a cycle's packets are injected at its end, nearest arrival first.
 *
 * Tree multicast (`noc.multicast = 'tree'`): the packet follows the XY tree of its
 * destinations; where branches part, the router copies it (`noc.flitsReplicated`) and all
 * copies leave together once every branch has a VC (synchronous replication, as in the flit
 * model). With path reservation a dimension-order tree is walked directly as a trunk along
 * the first dimension and branches along the second (`reserveTree`), then the wormhole
 * back-pressure of its branches is applied (`treeBackPressure`: a branch held up downstream
 * holds the tail where the branches part, and so every other branch). Hop reservation (the
 * lab's) gives trees no back-pressure term.
 *
 * The empirical constants are in messageCalibration.ts.
 */
export class MessageNetwork implements Network {
  readonly model = 'message' as const;
  readonly routerEvaluations = 0;
  readonly maxBufferOccupancyFlits = 0;
  readonly minCredits = 0;

  private readonly mesh: Mesh;
  private readonly route: RoutingFunction;
  private readonly R: number;
  private readonly V: number;
  private readonly D: number;
  private readonly routerDelay: number;
  private readonly SAST: number;
  private readonly VA: number;
  private readonly LT: number;
  /** credit round trips of a link and of the injection channel */
  private readonly rLink: number;
  private readonly rInj: number;
  /** cycles per flit at the bottleneck of a path with and without a link */
  private readonly cpfLink: number;
  private readonly cpfInj: number;
  private readonly CR: number;
  private readonly perVcQueues: boolean;
  /** per-VC FIFOs and more than one VC: an interface interleaves the packets of a cycle */
  private readonly interleaved: boolean;
  /** per interface, the packets handed to it this cycle (injected at the end of the cycle) */
  private readonly batches: (PacketBatch | undefined)[] = [];
  /** interfaces with packets this cycle, in the order they first sent (`sendingCount` of them) */
  private readonly sending: Int32Array;
  private sendingCount = 0;
  private flushPending = false;
  private readonly flushQueue = new PriorityQueue<FlushGroup>((a, b) => a.key - b.key || a.order - b.order);
  /** per interface, its entry in `flushQueue` (reused) */
  private readonly flushEntries: (FlushGroup | undefined)[] = [];
  private readonly flushHandler = () => this.flushCycle();
  private readonly res: VcReservations;
  /** the calendars of `res` */
  private readonly cals: CalendarTable;
  private readonly niAssign: Int32Array;
  private readonly links: Float64Array;
  private nextId = 0;
  private inFlightFlits = 0;
  private inFlightPackets = 0;
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
  private readonly hopHandler = (h: Hop) => this.atRouter(h, this.sim.now);
  /** `path`: reserve the whole route when the message is injected (one event per delivery). */
  private readonly pathReservation: boolean;
  private readonly deliverHandler = (p: MessagePacket) => this.deliver(p);
  /** Processor sharing at ejection ports (ejectionSharing.ts). */
  private readonly ejections: EjectionSharing<MessagePacket>;
  /** A packet ejected earlier finishes later because one reserved after it shares its ejection port. */
  private readonly movedHandler = (q: MessagePacket, tail: number) => {
    if (q.delivery) this.sim.cancel(q.delivery);
    q.delivery = this.sim.scheduleAt(tail + EJECTION_CYCLES, this.deliverHandler, q, PRIORITY_DEFAULT);
    // it holds its ejection VC longer
    this.cals.add(this.res.vc(q.ejectK, q.ejectV), this.sim.now, q.ejectTail + 1 + this.VA, tail + 1 + this.VA);
  };
  /** Dimension-order routing (xy or yx): a multicast tree is a trunk plus branches. */
  private readonly xyFirst: boolean | null;
  /** Scratch for `reserveTree`: per trunk coordinate, the branch extent; per router, the packet ending there. */
  private readonly branchMin: Int32Array;
  private readonly branchMax: Int32Array;
  private readonly endingAt: (MessagePacket | undefined)[];
  /** Scratch for `reserveTree`: per router of the tree, head and tail exits; per port, the VC taken. */
  private readonly treeDepart: Float64Array;
  private readonly treeTail: Float64Array;
  private readonly treeVc: Int32Array;
  /** Scratch for `reserveTree`: per router of the tree, its parent router (-1: the interface) and output mask; the routers in visiting order. */
  private readonly treeParent: Int32Array;
  private readonly treeMask: Int32Array;
  private readonly treeOrder: Int32Array;
  /** Scratch hop records for path-reserved unicast (one route at a time). */
  private readonly scratch: HopRecords;
  /** hop reservation: records of delivered packets, for reuse */
  private readonly recPool: HopRecords[] = [];
  private readonly dequeScratch: Int32Array;
  /** `switchOnce` results: departure, tail, and the output VC taken per port. */
  private swDepart = 0;
  private swTail = 0;
  private readonly swVc = new Int32Array(MESH_PORTS);
  /** `distinct`: per tile, the stamp of the last call that saw it */
  private readonly marks: Int32Array;
  private markStamp = 0;

  constructor(
    private readonly sim: Simulator,
    readonly design: Design,
    options: NetworkOptions,
  ) {
    const noc = design.noc;
    this.mesh = makeMesh(design.mesh.rows, design.mesh.cols);
    this.route = routingFunction(design, this.mesh);
    this.pathReservation = options.reservation === 'path';
    const R = (this.R = this.mesh.routers);
    this.V = noc.virtualChannels;
    this.D = noc.bufferDepthFlits;
    this.routerDelay = routerDelayCycles(noc);
    this.SAST = noc.switchAllocCycles + noc.switchTraversalCycles;
    this.VA = noc.vcAllocCycles;
    this.LT = noc.linkTraversalCycles;
    this.rLink = linkCreditRoundTripCycles(noc);
    this.rInj = injectionCreditRoundTripCycles(noc);
    this.cpfLink = cyclesPerFlit(this.D, this.rLink);
    this.cpfInj = cyclesPerFlit(this.D, this.rInj);
    this.CR = noc.creditReturnCycles;
    this.perVcQueues = noc.injectionQueues === 'per-vc';
    this.interleaved = this.perVcQueues && this.V > 1;
    const cal = options.calibration ?? activeCalibration();
    this.res = new VcReservations(R, this.V, cal.calendarGaps);
    this.cals = this.res.calendars;
    this.ejections = new EjectionSharing<MessagePacket>(R, this.V, cal.ejectionInterleave, cal.ejectionWindowPerVc);
    this.niAssign = new Int32Array(R);
    this.sending = new Int32Array(R);
    this.marks = new Int32Array(R);
    this.links = new Float64Array(R * PORTS);
    this.scratch = newHopRecords(this.mesh.rows + this.mesh.cols + 1);
    this.dequeScratch = new Int32Array(this.mesh.rows + this.mesh.cols + 1);
    this.xyFirst = noc.routing === 'xy' ? true : noc.routing === 'yx' ? false : null;
    const trunkLength = this.xyFirst === false ? this.mesh.rows : this.mesh.cols;
    this.branchMin = new Int32Array(trunkLength).fill(2 ** 30);
    this.branchMax = new Int32Array(trunkLength).fill(-1);
    this.endingAt = new Array<MessagePacket | undefined>(R);
    this.treeDepart = new Float64Array(R);
    this.treeTail = new Float64Array(R);
    this.treeVc = new Int32Array(R * PORTS);
    this.treeParent = new Int32Array(R);
    this.treeMask = new Int32Array(R);
    this.treeOrder = new Int32Array(R);
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

  send(src: number, dst: number, bytes: number, onDelivered: DeliveryHandler, tag = 0): NocPacket {
    if (!(Number.isSafeInteger(bytes) && bytes >= 0)) throw new RangeError(`send: bytes ${bytes} must be a non-negative integer`);
    return this.injectUnicast(src, dst, packetFlits(this.design.noc, bytes), bytes, onDelivered, tag);
  }

  sendPacket(src: number, dst: number, flits: number, onDelivered: DeliveryHandler, tag = 0): NocPacket {
    if (!(Number.isSafeInteger(flits) && flits >= 1)) throw new RangeError(`sendPacket: flits ${flits} must be a positive integer`);
    const bytes = Math.floor(Math.max(0, flits * this.design.noc.flitBits - this.design.noc.headerBits) / 8);
    return this.injectUnicast(src, dst, flits, bytes, onDelivered, tag);
  }

  multicast(src: number, dsts: readonly number[], bytes: number, onDelivered: DeliveryHandler, tag = 0): void {
    if (!(Number.isSafeInteger(bytes) && bytes >= 0)) throw new RangeError(`multicast: bytes ${bytes} must be a non-negative integer`);
    const unique = this.distinct(dsts);
    if (this.design.noc.multicast !== 'tree' || unique.length < 2) {
      for (const d of unique) this.send(src, d, bytes, onDelivered, tag);
      return;
    }
    const L = packetFlits(this.design.noc, bytes);
    if (this.pathReservation && this.xyFirst !== null) this.reserveTree(src, unique, L, bytes, onDelivered, tag);
    else this.injectTree(src, unique, L, bytes, onDelivered, tag);
  }

  /** `dsts` without repeats, first occurrences in order (`dsts` itself when it has none, the usual case: no Set per multicast). */
  private distinct(dsts: readonly number[]): readonly number[] {
    const mark = ++this.markStamp;
    for (let i = 0; i < dsts.length; i++) {
      const d = dsts[i];
      if (!(Number.isInteger(d) && d >= 0 && d < this.R) || this.marks[d] === mark) return [...new Set(dsts)];
      this.marks[d] = mark;
    }
    return dsts;
  }

  settle(): void {
    // nothing is evaluated lazily at message level
  }

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

  // ---- injection -------------------------------------------------------------------

  private checkTile(t: number, what: string): void {
    if (!(Number.isInteger(t) && t >= 0 && t < this.R)) throw new RangeError(`${what} tile ${t} is not in 0..${this.R - 1}`);
  }

  /** Route-wide credit figures of an L-flit packet (with or without a link on its route). */
  private shape(p: MessagePacket, hasLink: boolean): void {
    p.roundTrip = hasLink ? this.rLink : this.rInj;
    p.cpf = hasLink ? this.cpfLink : this.cpfInj;
    p.span = spanCycles(p.flits, this.D, p.roundTrip);
  }

  /**
   * The interface of tile `src` injects packet p: it takes an injection VC (the first free
   * one, or its own FIFO's with per-VC queues), sends the head once the VC and (single FIFO)
   * the previous packet's tail allow, and the tail span(L, D, R_inj) later or when the
   * injection channel has carried everything before it. Sets `headInjectedAtCycles`,
   * `niTail` and `injVc`.
   */
  private injectAt(p: MessagePacket, src: number): void {
    const res = this.res;
    const V = this.V;
    const L = p.flits;
    const v = this.perVcQueues ? this.niAssign[src]++ % V : res.earliestInjVc(src);
    let n0 = Math.max(this.sim.now, res.injVcFree[src * V + v]);
    if (!this.perVcQueues && res.niFree[src] > n0) n0 = res.niFree[src];
    // the channel carries one flit per cycle: the head takes its first free cycle
    const last = this.cals.take(res.injection(src), this.sim.now, n0, L);
    n0 = this.cals.firstTaken;
    p.headInjectedAtCycles = n0;
    p.niTail = Math.max(n0 + spanCycles(L, this.D, this.rInj), last);
    p.injVc = v;
    this.countInjection(src, L);
  }

  private countInjection(src: number, L: number): void {
    this.cPktIn[src]++;
    this.cFlitIn[src] += L;
    this.inFlightFlits += L;
  }

  /**
   * Packets handed to interfaces in one cycle are injected at the end of the cycle
   * (`flushCycle`), so that a cycle's packets are reserved in the order they would meet:
   * each interface keeps its own order, and interfaces go by the zero-load arrival of their
   * next packet's head at its destination (path reservation would otherwise grant a shared
   * port, such as the ejection port of a gather's root, in the order the sends were made,
   * leaving idle gaps where a nearer source's packet would have filled them).
   */
  private enqueue(p: MessagePacket): void {
    const src = p.src;
    const batch = (this.batches[src] ??= new PacketBatch());
    if (batch.n === 0) this.sending[this.sendingCount++] = src;
    batch.items[batch.n++] = p;
    if (!this.flushPending) {
      this.flushPending = true;
      // never cancelled: a pooled event (one per cycle in which anything is sent)
      this.sim.postAt(this.sim.now, this.flushHandler, undefined, PRIORITY_LOW);
    }
  }

  private flushCycle(): void {
    this.flushPending = false;
    const sending = this.sending;
    const count = this.sendingCount;
    this.sendingCount = 0;
    if (count === 1) {
      // one interface sent this cycle: its order is the order
      const src = sending[0];
      const batch = this.batches[src]!;
      this.injectGroup(src, batch);
      batch.clear();
      return;
    }
    // interfaces by the key of their next packet (ties: the order they first sent in)
    const queue = this.flushQueue;
    for (let i = 0; i < count; i++) {
      const src = sending[i];
      const batch = this.batches[src]!;
      const g = (this.flushEntries[src] ??= { src, batch, next: 0, order: 0, key: 0 });
      g.next = 0;
      g.order = i;
      g.key = this.groupKey(src, batch, 0);
      queue.enqueue(g);
    }
    while (!queue.isEmpty()) {
      const g = queue.dequeue()!;
      if (this.interleaved) {
        this.flushInterleaved(g.src, g.batch);
        continue;
      }
      const p = g.batch.items[g.next++]!;
      this.injectAt(p, g.src);
      this.launchUnicast(p);
      if (g.next < g.batch.n) {
        g.key = this.groupKey(g.src, g.batch, g.next);
        queue.enqueue(g);
      }
    }
    for (let i = 0; i < count; i++) this.batches[sending[i]]!.clear();
  }

  /** Inject an interface's packets of this cycle, in order. */
  private injectGroup(src: number, batch: PacketBatch): void {
    if (this.interleaved) this.flushInterleaved(src, batch);
    else {
      for (let i = 0; i < batch.n; i++) {
        const p = batch.items[i]!;
        this.injectAt(p, src);
        this.launchUnicast(p);
      }
    }
  }

  /**
   * The zero-load cycle at which the head of an interface's next packet (from `next` on; with
   * per-VC FIFOs, the first of them all) reaches its ejection port.
   */
  private groupKey(src: number, batch: PacketBatch, next: number): number {
    const start = this.interleaved ? this.sim.now : Math.max(this.sim.now, this.res.niFree[src]);
    let key = Number.POSITIVE_INFINITY;
    for (let i = next; i < (this.interleaved ? batch.n : next + 1); i++) {
      const p = batch.items[i]!;
      const at = start + INJECTION_CYCLES + (p.hops + 1) * this.routerDelay + p.hops * this.LT;
      if (at < key) key = at;
    }
    return key;
  }

  /**
   * Per-VC injection FIFOs (more than one VC): the packets an interface is handed in one
   * cycle are injected together, their flits interleaved round-robin
   * (roundRobinInjection.ts); each route is reserved as soon as its injection is known.
   */
  private flushInterleaved(src: number, packets: PacketBatch): void {
    const res = this.res;
    const V = this.V;
    const batch = packets.items.slice(0, packets.n) as MessagePacket[];
    let flits = 0;
    for (const p of batch) flits += p.flits;
    this.cals.take(res.injection(src), this.sim.now, this.sim.now, flits);
    const start = this.cals.firstTaken;
    const jobs = new Map<InterleavedPacket, MessagePacket>();
    for (const p of batch) {
      const q = this.niAssign[src]++ % V;
      p.injVc = q;
      jobs.set({ fifo: q, flits: p.flits, cyclesPerFlit: p.cpf, fifoFree: res.injVcFree[src * V + q], head: 0, tail: 0 }, p);
    }
    // each packet's route is reserved as soon as its injection is known; the VC it leaves
    // behind (front of the first router's buffer, credits) then gates its FIFO's next packet
    interleave([...jobs.keys()], start, (job) => {
      const p = jobs.get(job)!;
      p.headInjectedAtCycles = job.head;
      p.niTail = Math.max(job.tail, job.head + spanCycles(p.flits, this.D, this.rInj));
      this.countInjection(src, p.flits);
      this.launchUnicast(p);
      return res.injVcFree[src * V + p.injVc];
    });
  }

  /**
   * The interface's VC and FIFO after packet p: the FIFO starts its next packet after the
   * tail; the VC is free for a next head once the tail was sent, the tail has left the first
   * router's input buffer (`tailExit0`, less the injection channel) and the credit of flit
   * L - D is back (`creditAt`, a router exit time: the interface sends SA + ST before it).
   */
  private commitInjection(p: MessagePacket, tailExit0: number, creditAt: number): void {
    const res = this.res;
    const i = p.src * this.V + p.injVc;
    const free = Math.max(p.niTail + 1, tailExit0 - this.SAST + 1 - INJECTION_CYCLES, creditAt - this.SAST);
    if (res.injVcFree[i] < free) res.injVcFree[i] = free;
    if (res.niFree[p.src] < p.niTail + 1) res.niFree[p.src] = p.niTail + 1;
  }

  /**
   * Output VC v of port k held from the head's exit d until a next head could use it: the
   * tail left (exit t) and the VC was re-allocated (t + 1 + VA); the tail left the buffer
   * downstream (`tailExitNext`, whose head arrives LT after leaving here); the downstream slot
   * of flit L - D is free (`creditAt`). -Infinity for what is not known yet.
   */
  private commitVc(k: number, v: number, d: number, t: number, tailExitNext: number, creditAt: number): void {
    let end = t + 1 + this.VA;
    const front = tailExitNext - this.SAST + 1 - this.LT;
    if (front > end) end = front;
    if (creditAt > end) end = creditAt;
    this.cals.add(this.res.vc(k, v), this.sim.now, d, end);
  }

  /** When the slot of flit L - D of p, which left a router at exit `d`..`t`, is back upstream (-Infinity: the packet is shorter than a buffer). */
  private creditBack(p: MessagePacket, d: number, t: number): number {
    const L = p.flits;
    if (L < this.D) return Number.NEGATIVE_INFINITY;
    return flitExit(d, t, L, L - this.D) + 1 + this.CR;
  }

  private injectUnicast(src: number, dst: number, L: number, bytes: number, onDelivered: DeliveryHandler, tag: number): MessagePacket {
    const p = this.newUnicast(src, dst, L, bytes, onDelivered, tag);
    if (this.interleaved || this.pathReservation) {
      this.enqueue(p);
      return p;
    }
    this.injectAt(p, src);
    this.launchUnicast(p);
    return p;
  }

  private newUnicast(src: number, dst: number, L: number, bytes: number, onDelivered: DeliveryHandler, tag: number): MessagePacket {
    this.checkTile(src, 'source');
    this.checkTile(dst, 'destination');
    const H = hopCount(this.mesh.cols, src, dst);
    const p = new MessagePacket(this.nextId++, src, dst, bytes, tag, this.sim.now, L, H, onDelivered);
    this.shape(p, H > 0);
    this.inFlightPackets++;
    return p;
  }

  /** Packet p has left (or is scheduled to leave) its interface: reserve its route, or start it router by router. */
  private launchUnicast(p: MessagePacket): MessagePacket {
    const src = p.src;
    const rec = this.pathReservation ? this.scratch : (p.rec = this.recPool.pop() ?? newHopRecords(this.mesh.rows + this.mesh.cols + 1));
    // record 0 is the interface, as if it were a router whose crossbar exit is SA + ST after sending
    rec.d[0] = p.headInjectedAtCycles + this.SAST;
    rec.t[0] = p.niTail + this.SAST;
    this.commitInjection(p, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY);
    const a = p.headInjectedAtCycles + INJECTION_CYCLES;
    const tailIn = p.niTail + INJECTION_CYCLES;
    if (!this.pathReservation) {
      this.sim.scheduleAt(a, this.hopHandler, { router: src, tailIn, pkts: [p], hop: 0, parentK: -1, parentV: 0, parentD: 0 }, PRIORITY_DEFAULT);
      return p;
    }
    // the whole route now: every hop forward, the back-pressure backward, then reserve
    let r = src;
    let head = a;
    let tIn = tailIn;
    let x = 1;
    for (; ; x++) {
      const op = this.unicastHop(p, rec, x, r, head, tIn);
      if (op === LOCAL) break;
      r = this.mesh.neighbour[r * PORTS + op];
      head = rec.d[x] + this.LT;
      tIn = rec.t[x] + this.LT;
    }
    this.backPressureRoute(p, rec, x);
    for (let i = 0; i <= x; i++) this.commitRecord(p, rec, i, x);
    p.delivery = this.sim.scheduleAt(rec.t[x] + EJECTION_CYCLES, this.deliverHandler, p, PRIORITY_DEFAULT);
    return p;
  }

  // ---- one router --------------------------------------------------------------------

  /**
   * The head of unicast packet p reaches router r at cycle a, its tail at `tailIn`: route
   * computation and VC allocation, an output VC free long enough, the port's link. Records
   * the hop as record x (port, VC, head and tail exit) and returns the output port; the
   * caller applies the back-pressure and reserves the VCs.
   */
  private unicastHop(p: MessagePacket, rec: HopRecords, x: number, r: number, a: number, tailIn: number): number {
    const L = p.flits;
    const now = this.sim.now;
    this.countArrival(r, L);
    const op = this.route(r, p.dst);
    const k = r * PORTS + op;
    const res = this.res;
    const v = res.pickVc(now, k, a + this.routerDelay, p.span + 1 + this.VA);
    // the port carries one flit per cycle: the head leaves in its first free cycle (at the
    // ejection port, flits of the packets holding the ejection VCs interleave instead)
    const linked = this.cals.take(res.port(k), now, res.fitAt, L);
    const d = op === LOCAL ? res.fitAt : this.cals.firstTaken;
    const t = Math.max(d + p.span, tailIn + this.SAST, linked);
    if (op === LOCAL) this.eject(p, r, k, v, d, t);
    rec.k[x] = k;
    rec.v[x] = v;
    rec.d[x] = d;
    rec.t[x] = t;
    this.grant(r, k, L);
    if (op !== LOCAL) this.cLink[r] += L;
    return op;
  }

  /**
   * Packet p's head leaves router r through ejection port k on VC v at d, its tail at t:
   * packets ejected before it that it interleaves with finish later (ejectionSharing.ts).
   */
  private eject(p: MessagePacket, r: number, k: number, v: number, d: number, t: number): void {
    p.ejectK = k;
    p.ejectV = v;
    p.ejectRelease = d;
    p.ejectTail = t;
    this.ejections.add(r, p, p.flits, this.movedHandler);
  }

  /** Packet p leaves through router r's ejection port on VC v, head at d and tail at t: its ejection and delivery. */
  private ejectAndDeliver(p: MessagePacket, r: number, v: number, d: number, t: number): void {
    this.eject(p, r, r * PORTS + LOCAL, v, d, t);
    p.delivery = this.sim.scheduleAt(t + EJECTION_CYCLES, this.deliverHandler, p, PRIORITY_DEFAULT);
  }

  /** (Re-)reserve record i of p's route, records up to `known` being computed. */
  private commitRecord(p: MessagePacket, rec: HopRecords, i: number, known: number): void {
    const next = i + 1 <= known;
    const tailExitNext = next ? rec.t[i + 1] : Number.NEGATIVE_INFINITY;
    const creditAt = next ? this.creditBack(p, rec.d[i + 1], rec.t[i + 1]) : Number.NEGATIVE_INFINITY;
    if (i === 0) {
      p.niTail = rec.t[0] - this.SAST;
      this.commitInjection(p, tailExitNext, creditAt);
    } else this.commitVc(rec.k[i], rec.v[i], rec.d[i], rec.t[i], tailExitNext, creditAt);
  }

  /**
   * Wormhole back-pressure. A flit leaves a router only with a credit for the buffer ahead,
   * so for a packet longer than a buffer (L > D):
   * - flit m at record i waits for flit m - D at record i + 1; for the tail,
   *     t_i >= e_{i+1}(L - 1 - D) + 1 + CR,
   *   with e interpolated between head and tail exits (`flitExit`);
   * - by the same chain, flit jD at record i waits for the head at record i + j:
   *     t_i >= d_{i+j} + j (1 + CR) + span(L - jD),  1 <= j <= (L - 1) / D,
   *   and span(L - jD) = span(L) - j max(D, R), so this is span(L) plus the largest
   *   d_m + (m - i)(1 + CR - max(D, R)) over the next (L - 1) / D records m.
   * This carries a head held up downstream (no free VC, RC + VA at every router) back to the
   * tails, VCs and injection FIFO upstream. `backPressureRoute` applies it to a whole route
   * (records 0..n) in one backward pass (a sliding-window maximum for the head chain).
   */
  private backPressureRoute(p: MessagePacket, rec: HopRecords, n: number): void {
    const L = p.flits;
    const D = this.D;
    if (L <= D) return;
    const step = 1 + this.CR;
    const c = step - Math.max(D, p.roundTrip);
    const J = Math.floor((L - 1) / D);
    const dq = this.dequeScratch;
    let head = 0;
    let tail = 0; // dq[head..tail): record indices, values d_m + m c decreasing
    for (let i = n - 1; i >= 0; i--) {
      const m = i + 1;
      const vm = rec.d[m] + m * c;
      while (tail > head && rec.d[dq[tail - 1]] + dq[tail - 1] * c <= vm) tail--;
      dq[tail++] = m;
      if (dq[head] > i + J) head++;
      const chain = p.span + rec.d[dq[head]] + (dq[head] - i) * c;
      const cascade = flitExit(rec.d[m], rec.t[m], L, L - 1 - D) + step;
      const need = chain > cascade ? chain : cascade;
      if (need > rec.t[i]) rec.t[i] = need;
    }
  }

  /** `backPressureRoute` for hop reservation, once record x is known: updates and re-reserves the records upstream. */
  private backPressureHop(p: MessagePacket, rec: HopRecords, x: number): void {
    const L = p.flits;
    const D = this.D;
    if (L <= D) return;
    const step = 1 + this.CR;
    const jMax = Math.min(Math.floor((L - 1) / D), x);
    let changedFrom = x;
    for (let j = 1; j <= jMax; j++) {
      const need = rec.d[x] + j * step + spanCycles(L - j * D, D, p.roundTrip);
      if (need > rec.t[x - j]) {
        rec.t[x - j] = need;
        changedFrom = x - j;
      }
    }
    for (let i = x - 1; i >= 0; i--) {
      const need = flitExit(rec.d[i + 1], rec.t[i + 1], L, L - 1 - D) + step;
      if (need > rec.t[i]) {
        rec.t[i] = need;
        changedFrom = i;
      } else if (i < changedFrom) break;
    }
    for (let i = changedFrom; i < x; i++) this.commitRecord(p, rec, i, x);
  }

  /** A head of L flits enters router r: one route computation, L buffer writes, reads and credits. */
  private countArrival(r: number, L: number): void {
    this.cRC[r]++;
    this.cBufW[r] += L;
    this.cBufR[r] += L;
    this.cCred[r] += L;
  }

  /** Output port k of router r carries L flits (VC and switch allocation, crossbar). */
  private grant(r: number, k: number, L: number): void {
    this.links[k] += L;
    this.cVA[r]++;
    this.cSA[r] += L;
    this.cXB[r] += L;
  }

  /** Hop reservation: the head of a packet (or tree branch) reaches a router now. */
  private atRouter(h: Hop, now: number): void {
    const pkts = h.pkts;
    if (pkts.length === 1 && pkts[0].rec) {
      const p = pkts[0];
      const rec = p.rec!;
      const x = h.hop + 1;
      const op = this.unicastHop(p, rec, x, h.router, now, h.tailIn);
      this.commitRecord(p, rec, x, x);
      this.commitRecord(p, rec, x - 1, x);
      this.backPressureHop(p, rec, x);
      if (op === LOCAL) {
        p.delivery = this.sim.scheduleAt(rec.t[x] + EJECTION_CYCLES, this.deliverHandler, p, PRIORITY_DEFAULT);
        return;
      }
      const n = this.mesh.neighbour[h.router * PORTS + op];
      this.sim.scheduleAt(rec.d[x] + this.LT, this.hopHandler, { router: n, tailIn: rec.t[x] + this.LT, pkts, hop: x, parentK: -1, parentV: 0, parentD: 0 }, PRIORITY_DEFAULT);
      return;
    }
    this.treeHop(h, now);
  }

  // ---- tree multicast ----------------------------------------------------------------

  /** Tree multicast with hop reservation: one packet per destination, forked where the routes part. */
  private injectTree(src: number, dsts: readonly number[], L: number, bytes: number, onDelivered: DeliveryHandler, tag: number): void {
    this.checkTile(src, 'source');
    for (const d of dsts) this.checkTile(d, 'destination');
    const now = this.sim.now;
    const pkts = dsts.map((d) => new MessagePacket(this.nextId++, src, d, bytes, tag, now, L, hopCount(this.mesh.cols, src, d), onDelivered));
    const hasLink = pkts.some((p) => p.hops > 0);
    for (const p of pkts) this.shape(p, hasLink);
    const first = pkts[0];
    this.injectAt(first, src);
    for (const p of pkts) p.headInjectedAtCycles = first.headInjectedAtCycles;
    this.inFlightPackets += pkts.length;
    this.commitInjection(first, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY);
    this.sim.scheduleAt(first.headInjectedAtCycles + INJECTION_CYCLES, this.hopHandler, { router: src, tailIn: first.niTail + INJECTION_CYCLES, pkts, hop: 0, parentK: -1, parentV: 0, parentD: 0 }, PRIORITY_DEFAULT);
  }

  /** A tree head (one packet per destination still served) at router r: group by output port, switch once. */
  private treeHop(h: Hop, now: number): void {
    const r = h.router;
    const groups = new Map<number, MessagePacket[]>();
    let mask = 0;
    for (const p of h.pkts) {
      const op = this.route(r, p.dst);
      mask |= 1 << op;
      const g = groups.get(op);
      if (g) g.push(p);
      else groups.set(op, [p]);
    }
    const first = h.pkts[0];
    this.switchOnce(first, r, now, h.tailIn, mask, groups.get(LOCAL)?.[0], h.parentK, h.parentV, h.parentD);
    for (const [op, pkts] of groups) {
      if (op === LOCAL) continue;
      const n = this.mesh.neighbour[r * PORTS + op];
      this.sim.scheduleAt(this.swDepart + this.LT, this.hopHandler, { router: n, tailIn: this.swTail + this.LT, pkts, hop: h.hop + 1, parentK: r * PORTS + op, parentV: this.swVc[op], parentD: this.swDepart }, PRIORITY_DEFAULT);
    }
  }

  /**
   * One switch allocation at router r for the head of tree packet p arriving at `arrive`
   * (tail at `tailIn`), copied to every output port in `mask` (bit p = port p): all copies
   * leave together once every output has a VC, and the tail leaves when the slowest output
   * has carried it. Completes the reservation of the VC it came on (`parentK`/`parentV`,
   * held from `parentD`; parentK -1: the source interface). Sets `swDepart`, `swTail`,
   * `swVc`; schedules the ejection of `ending` when the local port is in the mask (unless
   * `ending` is undefined: the caller ejects it once the tree's tails are final).
   */
  private switchOnce(p: MessagePacket, r: number, arrive: number, tailIn: number, mask: number, ending: MessagePacket | undefined, parentK: number, parentV: number, parentD: number): void {
    const L = p.flits;
    const now = this.sim.now;
    this.countArrival(r, L);
    const res = this.res;
    const ready = arrive + this.routerDelay;
    let depart = ready;
    let outs = 0;
    for (let op = 0; op < PORTS; op++) {
      if (!(mask & (1 << op))) continue;
      outs++;
      this.swVc[op] = res.pickVc(now, r * PORTS + op, ready, p.span + 1 + this.VA);
      if (res.fitAt > depart) depart = res.fitAt;
    }
    let tail = Math.max(depart + p.span, tailIn + this.SAST);
    for (let op = 0; op < PORTS; op++) if (mask & (1 << op)) tail = Math.max(tail, this.cals.take(res.port(r * PORTS + op), now, depart, L));
    if (outs > 1) {
      this.cRep[r] += (outs - 1) * L;
      this.inFlightFlits += (outs - 1) * L;
    }
    for (let op = 0; op < PORTS; op++) {
      if (!(mask & (1 << op))) continue;
      const k = r * PORTS + op;
      this.commitVc(k, this.swVc[op], depart, tail, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY);
      this.grant(r, k, L);
      if (op !== LOCAL) this.cLink[r] += L;
      else if (ending) this.ejectAndDeliver(ending, r, this.swVc[op], depart, tail);
    }
    const credit = this.creditBack(p, depart, tail);
    if (parentK < 0) this.commitInjection(p, tail, credit);
    else this.commitVc(parentK, parentV, parentD, Number.NEGATIVE_INFINITY, tail, credit);
    this.swDepart = depart;
    this.swTail = tail;
  }

  /**
   * Tree multicast under path reservation and dimension-order routing, without grouping
   * destinations router by router: the tree is a trunk along the first dimension (through
   * the source's row for xy) and, off each trunk router, a branch each way along the
   * second dimension as far as the farthest destination. Each router on it switches once
   * (`switchOnce`) to all its output ports, exactly as `treeHop` does.
   */
  private reserveTree(src: number, dstList: readonly number[], L: number, bytes: number, onDelivered: DeliveryHandler, tag: number): void {
    const cols = this.mesh.cols;
    const xy = this.xyFirst === true;
    // coordinates: t along the trunk (first dimension), u along the branches
    const tOf = (r: number) => (xy ? r % cols : Math.floor(r / cols));
    const uOf = (r: number) => (xy ? Math.floor(r / cols) : r % cols);
    const at = (t: number, u: number) => (xy ? u * cols + t : t * cols + u);
    const tPlus = xy ? EAST : SOUTH;
    const tMinus = xy ? WEST : NORTH;
    const uPlus = xy ? SOUTH : EAST;
    const uMinus = xy ? NORTH : WEST;
    // index loops over the destinations: this runs a few hundred times a run, mostly
    // unoptimised, where `for...of` allocates an iterator result per destination
    const nd = dstList.length;
    this.checkTile(src, 'source');
    for (let i = 0; i < nd; i++) this.checkTile(dstList[i], 'destination');
    const now = this.sim.now;
    const endingAt = this.endingAt;
    const bMin = this.branchMin;
    const bMax = this.branchMax;
    const st = tOf(src);
    const su = uOf(src);
    let tLo = st;
    let tHi = st;
    let n = 0;
    let first: MessagePacket | undefined;
    const hasLink = dstList.some((d) => d !== src);
    for (let i = 0; i < nd; i++) {
      const d = dstList[i];
      const p = new MessagePacket(this.nextId++, src, d, bytes, tag, now, L, hopCount(cols, src, d), onDelivered);
      this.shape(p, hasLink);
      first ??= p;
      endingAt[d] = p;
      n++;
      const t = tOf(d);
      const u = uOf(d);
      if (u < bMin[t]) bMin[t] = u;
      if (u > bMax[t]) bMax[t] = u;
      if (t < tLo) tLo = t;
      if (t > tHi) tHi = t;
    }
    const p0 = first!;
    this.injectAt(p0, src);
    for (let i = 0; i < nd; i++) endingAt[dstList[i]]!.headInjectedAtCycles = p0.headInjectedAtCycles;
    this.inFlightPackets += n;
    this.commitInjection(p0, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY);

    // output ports of trunk router (t, su): on along the trunk, into the branches, local
    const trunkPorts = (t: number, r: number, onward: number) => onward | (bMin[t] < su ? 1 << uMinus : 0) | (bMax[t] > su ? 1 << uPlus : 0) | (endingAt[r] ? 1 : 0);
    // switch router r of the tree, reached from port `fromPort` of router `prev` (-1: the
    // interface); its head and tail exits and output VCs go to the per-router scratch, the
    // routers in visiting order (parents first) to `treeOrder`
    const { treeDepart, treeTail, treeVc, treeParent, treeMask, treeOrder } = this;
    let visited = 0;
    const hop = (prev: number, fromPort: number, r: number, mask: number): number => {
      const arrive = prev >= 0 ? treeDepart[prev] + this.LT : p0.headInjectedAtCycles + INJECTION_CYCLES;
      const tailIn = prev >= 0 ? treeTail[prev] + this.LT : p0.niTail + INJECTION_CYCLES;
      const parentK = prev >= 0 ? prev * PORTS + fromPort : -1;
      this.switchOnce(p0, r, arrive, tailIn, mask, undefined, parentK, prev >= 0 ? treeVc[parentK] : 0, prev >= 0 ? treeDepart[prev] : 0);
      treeDepart[r] = this.swDepart;
      treeTail[r] = this.swTail;
      for (let op = 0; op < PORTS; op++) treeVc[r * PORTS + op] = this.swVc[op];
      treeParent[r] = prev;
      treeMask[r] = mask;
      treeOrder[visited++] = r;
      return r;
    };
    const branches = (t: number, node: number, mask: number) => {
      // towards lower u, then higher (no array per call: this runs once per trunk router)
      for (let side = 0; side < 2; side++) {
        const dir = side === 0 ? -1 : 1;
        const end = side === 0 ? bMin[t] : bMax[t];
        const port = side === 0 ? uMinus : uPlus;
        if (!(mask & (1 << port))) continue;
        let prev = node;
        for (let u = su + dir; dir > 0 ? u <= end : u >= end; u += dir) {
          const r = at(t, u);
          prev = hop(prev, port, r, (u !== end ? 1 << port : 0) | (endingAt[r] ? 1 : 0));
        }
      }
    };
    const m0 = trunkPorts(st, src, (tHi > st ? 1 << tPlus : 0) | (tLo < st ? 1 << tMinus : 0));
    const root = hop(-1, LOCAL, src, m0);
    branches(st, root, m0);
    for (const [dir, end] of [[1, tHi], [-1, tLo]] as const) {
      let prev = root;
      const onward = dir > 0 ? tPlus : tMinus;
      for (let t = st + dir; dir > 0 ? t <= end : t >= end; t += dir) {
        const r = at(t, su);
        const m = trunkPorts(t, r, t !== end ? 1 << onward : 0);
        prev = hop(prev, onward, r, m);
        branches(t, prev, m);
      }
    }
    this.treeBackPressure(p0, visited);
    for (let i = 0; i < visited; i++) {
      const r = treeOrder[i];
      const q = endingAt[r];
      if (q) this.ejectAndDeliver(q, r, treeVc[r * PORTS + LOCAL], treeDepart[r], treeTail[r]);
    }
    // clear the scratch
    for (let i = 0; i < nd; i++) {
      const d = dstList[i];
      endingAt[d] = undefined;
      const t = tOf(d);
      bMin[t] = 2 ** 30;
      bMax[t] = -1;
    }
  }

  /**
   * Wormhole back-pressure in a tree (path reservation), the tree's routers in `treeOrder`
   * (parents first) with their head and tail exits: a flit is copied to every branch at once
   * and needs a credit on each, so a branch held up downstream holds the tail at the router
   * where it parts and, through it, every other branch. Backward (children first), each
   * router's tail is held by each child as a unicast hop is (`backPressureRoute`: the cascade
   * t_parent >= e_child(L - 1 - D) + 1 + CR and the head chain one level down); forward
   * (parents first), a child's tail leaves no earlier than its parent's tail arrives; then
   * the VCs and the injection FIFO are reserved again with the final tails.
   */
  private treeBackPressure(p: MessagePacket, n: number): void {
    const L = p.flits;
    const D = this.D;
    if (L <= D || n === 0) return;
    const { treeDepart: d, treeTail: t, treeParent: parent, treeOrder: order, treeMask: mask, treeVc: vc } = this;
    const step = 1 + this.CR;
    const chain = p.span + step - Math.max(D, p.roundTrip);
    const root = order[0];
    let niTail = p.niTail + this.SAST; // the interface, as record 0 of a route
    for (let i = n - 1; i >= 0; i--) {
      const r = order[i];
      const need = Math.max(flitExit(d[r], t[r], L, L - 1 - D) + step, d[r] + chain);
      if (parent[r] < 0) niTail = Math.max(niTail, need);
      else if (need > t[parent[r]]) t[parent[r]] = need;
    }
    t[root] = Math.max(t[root], niTail + INJECTION_CYCLES); // its tail arrives INJ after the interface sends it, leaves SA + ST later
    for (let i = 1; i < n; i++) {
      const r = order[i];
      const arrives = t[parent[r]] + this.LT + this.SAST;
      if (arrives > t[r]) t[r] = arrives;
    }
    p.niTail = niTail - this.SAST;
    this.commitInjection(p, t[root], this.creditBack(p, d[root], t[root]));
    for (let i = 0; i < n; i++) {
      const r = order[i];
      for (let op = 0; op < PORTS; op++) {
        if (!(mask[r] & (1 << op))) continue;
        const k = r * PORTS + op;
        const child = op === LOCAL ? -1 : this.mesh.neighbour[k];
        const tailNext = child < 0 ? Number.NEGATIVE_INFINITY : t[child];
        const credit = child < 0 ? Number.NEGATIVE_INFINITY : this.creditBack(p, d[child], t[child]);
        this.commitVc(k, vc[k], d[r], t[r], tailNext, credit);
      }
    }
  }

  /** The tail of a branch with one destination reaches its ejection port. */
  private deliver(p: MessagePacket): void {
    if (p.rec) {
      this.recPool.push(p.rec);
      p.rec = null;
    }
    this.ejections.delivered(p);
    this.cFlitOut[p.dst] += p.flits;
    this.inFlightFlits -= p.flits;
    this.inFlightPackets--;
    p.onDelivered(p, this.sim.now);
  }
}

/**
 * Per record of a route (0: the source interface, x: hop x - 1's router): output port
 * (r x 5 + port), output VC, head and tail exit cycles.
 */
interface HopRecords {
  readonly k: Int32Array;
  readonly v: Int32Array;
  readonly d: Float64Array;
  readonly t: Float64Array;
}

function newHopRecords(n: number): HopRecords {
  return { k: new Int32Array(n), v: new Int32Array(n), d: new Float64Array(n), t: new Float64Array(n) };
}

/**
 * The packets an interface was handed in one cycle: `items[0..n)`. Emptied by count, not by
 * `length = 0`, which would drop the array's storage and make the next cycle allocate it
 * again (measured: that was a tenth of the fast run's garbage).
 */
class PacketBatch {
  readonly items: (MessagePacket | undefined)[] = [];
  n = 0;

  /** Forget the packets (no delivered packet is kept alive from here). */
  clear(): void {
    for (let i = 0; i < this.n; i++) this.items[i] = undefined;
    this.n = 0;
  }
}

/** An interface's packets of this cycle in `flushCycle`: the next to inject and its key. */
interface FlushGroup {
  readonly src: number;
  readonly batch: PacketBatch;
  next: number;
  order: number;
  key: number;
}

interface Hop {
  router: number;
  /** cycle the tail reaches this router */
  tailIn: number;
  pkts: MessagePacket[];
  /** hop index along the route (0: the source router) */
  hop: number;
  /** tree branches: the output port (r x 5 + port, -1: the source interface), VC and head exit that brought it here */
  parentK: number;
  parentV: number;
  parentD: number;
}

/**
 * One packet (a unicast, or one destination of a tree multicast). Fields are `declare`d and
 * every one is assigned in the constructor, in one order: tens of thousands are made per
 * run, and class-field initialisers (define semantics) first add each field as undefined,
 * which costs time per object and widens the fields' representation.
 */
class MessagePacket implements NocPacket {
  declare readonly id: number;
  declare readonly src: number;
  declare readonly dst: number;
  declare readonly bytes: number;
  declare readonly tag: number;
  declare readonly createdAtCycles: number;
  declare readonly flits: number;
  declare readonly hops: number;
  declare readonly onDelivered: DeliveryHandler;
  declare headInjectedAtCycles: number;
  /** cycle the interface sent the tail */
  declare niTail: number;
  /** injection VC taken at the source */
  declare injVc: number;
  /** head-to-tail cycles at the route's bottleneck VC */
  declare span: number;
  /** cycles per flit at the route's bottleneck VC (D / R flits per cycle, at most 1) */
  declare cpf: number;
  /** credit round trip at the route's bottleneck */
  declare roundTrip: number;
  /** its scheduled delivery (moved when a later-reserved packet shares its ejection port) */
  declare delivery: SimEvent | null;
  /** its ejection port, VC, start and end */
  declare ejectK: number;
  declare ejectV: number;
  declare ejectRelease: number;
  declare ejectTail: number;
  declare ejectSlot: number;
  /** hop reservation: this packet's hop records (path reservation uses the network's scratch) */
  declare rec: HopRecords | null;
  constructor(id: number, src: number, dst: number, bytes: number, tag: number, createdAtCycles: number, flits: number, hops: number, onDelivered: DeliveryHandler) {
    this.id = id;
    this.src = src;
    this.dst = dst;
    this.bytes = bytes;
    this.tag = tag;
    this.createdAtCycles = createdAtCycles;
    this.flits = flits;
    this.hops = hops;
    this.onDelivered = onDelivered;
    this.headInjectedAtCycles = -1;
    this.niTail = 0;
    this.injVc = 0;
    this.span = 0;
    this.cpf = 1;
    this.roundTrip = 1;
    this.delivery = null;
    this.ejectK = 0;
    this.ejectV = 0;
    this.ejectRelease = 0;
    this.ejectTail = 0;
    this.ejectSlot = 0;
    this.rec = null;
  }
}

/** Exit cycle of flit m of an L-flit packet whose head left at d and tail at t: interpolated, whole cycles. */
function flitExit(d: number, t: number, L: number, m: number): number {
  return L > 1 ? d + Math.round(((t - d) * m) / (L - 1)) : d;
}
