import { Priority as KernelPriority } from '../kernel/priority.js';
import type { Simulator } from '../kernel/simulator.js';
import type { Design } from '../design/design.js';
import type { Counter } from '../counters/counter.js';
import type { DeliveryHandler } from './port.js';
import { LOCAL as MESH_LOCAL, PORTS as MESH_PORTS, NORTH, EAST, SOUTH, WEST, hopCount, oppositePort, makeMesh, routingFunction, type Mesh, type RoutingFunction } from './mesh.js';
import { EJECTION_CYCLES, INJECTION_CYCLES, packetFlits, routerDelayCycles } from './packet.js';
import { registerNocCounters } from './counters.js';
import { cyclesPerFlit, injectionCreditRoundTripCycles, linkCreditRoundTripCycles, spanCycles } from './creditFlow.js';
import { VcReservations } from './vcReservations.js';
import type { Network, NetworkOptions, NocPacket } from './network.js';

// Module-local copies: imported bindings can compile to getters, too slow for the hot loops.
const PORTS = MESH_PORTS;
const LOCAL = MESH_LOCAL;
const PRIORITY_DEFAULT = KernelPriority.Default;

/**
 * Message-level mesh NoC (the fast model for whole-chip runs; docs/noc.md, "Message-level
 * model"). A packet moves as a unit, one computation per router on its route, no per-flit
 * events, and keeps the behaviours of the wormhole router with virtual channels and credits
 * that set its timing (sim/noc/flitNetwork.ts is the reference):
 *
 * - Credits: a VC with D buffer slots and credit round trip R carries at most D / R flits
 *   per cycle, so a packet's tail trails its head by span(L, D, R) cycles (creditFlow.ts).
 * - Virtual channels: every router output port has V VCs (`VcReservations`); a head needs
 *   a free one to leave, holds it until its tail has left, and a VC is reusable one VA
 *   later. A new head reaches the front of an input VC only after the previous tail has
 *   left it, then pays RC + VA: with one VC back-to-back packets cannot overlap that.
 * - Bandwidth: packets on different VCs of a port share its one flit per cycle (a fluid
 *   queue per port); the head leaves as soon as it has a VC, the tail no earlier than the
 *   port has carried every flit granted before it.
 * - Back-pressure: when a packet longer than a buffer is held up downstream, its flits
 *   fill the D slots there and its upstream tail (and the VC it holds, and the
 *   interface's injection FIFO) waits: t_up >= t_down - (D x cyclesPerFlit + SA + ST - 1 - CR).
 *
 * A packet's head reaches router k at a_k and leaves at d_k = max(front_k + RC + VA + SA + ST,
 * output VC free); its tail leaves at t_k = max(d_k + span, tail arrival + SA + ST, port
 * backlog); the next router sees the head at d_k + LT and the tail at t_k + LT. The tail is
 * ejected at t + EJ. With ample buffers (D >= R) and one packet in the network this is
 * exactly the zero-load formula (sim/noc/packet.ts).
 *
 * `reservation: 'hop'` (default) handles each router on the route as an event, in
 * head-arrival order; `'path'` reserves the whole route when the message is injected
 * (links granted in injection order), one event per delivery: the full-chip fast fidelity.
 *
 * Tree multicast (`noc.multicast = 'tree'`): the packet follows the XY tree of its
 * destinations; where branches part, the router copies it (`noc.flitsReplicated`) and all
 * copies leave together once every branch has a VC (synchronous replication, as in the flit
 * model). With path reservation a dimension-order tree is walked directly as a trunk along
 * the first dimension and branches along the second (`reserveTree`). Trees get no
 * back-pressure term.
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
  private readonly res: VcReservations;
  private readonly niAssign: Int32Array;
  private readonly links: Float64Array;
  private nextId = 0;
  private inFlightFlits = 0;
  private inFlightPackets = 0;
  private readonly cBufW: Counter[];
  private readonly cBufR: Counter[];
  private readonly cRC: Counter[];
  private readonly cVA: Counter[];
  private readonly cSA: Counter[];
  private readonly cXB: Counter[];
  private readonly cLink: Counter[];
  private readonly cCred: Counter[];
  private readonly cRep: Counter[];
  private readonly cPktIn: Counter[];
  private readonly cFlitIn: Counter[];
  private readonly cFlitOut: Counter[];
  private readonly hopHandler = (h: Hop) => this.atRouter(h, this.sim.now);
  /** `path`: reserve the whole route when the message is injected (one event per delivery). */
  private readonly pathReservation: boolean;
  private readonly deliverHandler = (p: MessagePacket) => this.deliver(p);
  /** Dimension-order routing (xy or yx): a multicast tree is a trunk plus branches. */
  private readonly xyFirst: boolean | null;
  /** Scratch for `reserveTree`: per trunk coordinate, the branch extent; per router, the packet ending there. */
  private readonly branchMin: Int32Array;
  private readonly branchMax: Int32Array;
  private readonly endingAt: (MessagePacket | undefined)[];
  /** Scratch hop records for path-reserved unicast (one route at a time). */
  private readonly scratch: HopRecords;
  /** `switchOnce` results: departure, tail, and the output VC taken per port. */
  private swDepart = 0;
  private swTail = 0;
  private readonly swVc = new Int32Array(MESH_PORTS);

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
    this.res = new VcReservations(R, this.V);
    this.niAssign = new Int32Array(R);
    this.links = new Float64Array(R * PORTS);
    this.scratch = newHopRecords(this.mesh.rows + this.mesh.cols + 1);
    this.xyFirst = noc.routing === 'xy' ? true : noc.routing === 'yx' ? false : null;
    const trunkLength = this.xyFirst === false ? this.mesh.rows : this.mesh.cols;
    this.branchMin = new Int32Array(trunkLength).fill(2 ** 30);
    this.branchMax = new Int32Array(trunkLength).fill(-1);
    this.endingAt = new Array<MessagePacket | undefined>(R);
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
    const unique = [...new Set(dsts)];
    if (this.design.noc.multicast !== 'tree' || unique.length < 2) {
      for (const d of unique) this.send(src, d, bytes, onDelivered, tag);
      return;
    }
    const L = packetFlits(this.design.noc, bytes);
    if (this.pathReservation && this.xyFirst !== null) this.reserveTree(src, unique, L, bytes, onDelivered, tag);
    else this.injectTree(src, unique, L, bytes, onDelivered, tag);
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

  /** Cycles from head to tail at the bottleneck of a route with or without a link. */
  private span(L: number, hasLink: boolean): number {
    return spanCycles(L, this.D, hasLink ? this.rLink : this.rInj);
  }

  /**
   * The interface of tile `src` injects an L-flit packet: it takes an injection VC (the
   * first free one, or its own FIFO's with per-VC queues), sends the head once the VC and
   * (single FIFO) the previous packet's tail allow, and the tail span(L, D, R_inj) later or
   * when the injection channel has carried everything before it. Returns the VC and sets
   * `p.headInjectedAtCycles` and `p.niTail`.
   */
  private injectAt(p: MessagePacket, src: number, L: number): number {
    const res = this.res;
    const V = this.V;
    const v = this.perVcQueues ? this.niAssign[src]++ % V : res.earliestInjVc(src);
    let n0 = Math.max(this.sim.now, res.injVcFree[src * V + v], res.injVcCredit[src * V + v]);
    if (!this.perVcQueues && res.niFree[src] > n0) n0 = res.niFree[src];
    const tail = Math.max(n0 + spanCycles(L, this.D, this.rInj), res.shareInjection(src, n0, L));
    p.headInjectedAtCycles = n0;
    p.niTail = tail;
    p.injVc = v;
    this.commitInjection(src, v, tail);
    this.cPktIn[src].value++;
    this.cFlitIn[src].value += L;
    this.inFlightFlits += L;
    return v;
  }

  /** The interface's tail left at `tail`: its VC and (single FIFO) the FIFO are free the cycle after. */
  private commitInjection(src: number, v: number, tail: number): void {
    const res = this.res;
    const i = src * this.V + v;
    if (res.injVcFree[i] < tail + 1) res.injVcFree[i] = tail + 1;
    if (res.niFree[src] < tail + 1) res.niFree[src] = tail + 1;
  }

  private injectUnicast(src: number, dst: number, L: number, bytes: number, onDelivered: DeliveryHandler, tag: number): MessagePacket {
    this.checkTile(src, 'source');
    this.checkTile(dst, 'destination');
    const H = hopCount(this.mesh.cols, src, dst);
    const p = new MessagePacket(this.nextId++, src, dst, bytes, tag, this.sim.now, L, H, onDelivered);
    p.span = this.span(L, H > 0);
    p.cpf = H > 0 ? this.cpfLink : this.cpfInj;
    p.roundTrip = H > 0 ? this.rLink : this.rInj;
    const v = this.injectAt(p, src, L);
    this.inFlightPackets++;
    const rec = this.pathReservation ? this.scratch : (p.rec = newHopRecords(H + 2));
    // record 0 is the interface, as if it were a router whose crossbar exit is SA + ST after sending
    rec.d[0] = p.headInjectedAtCycles + this.SAST;
    rec.t[0] = p.niTail + this.SAST;
    const a = p.headInjectedAtCycles + INJECTION_CYCLES;
    const inVc = (src * PORTS + LOCAL) * this.V + v;
    const tailIn = p.niTail + INJECTION_CYCLES;
    if (!this.pathReservation) {
      this.sim.scheduleAt(a, this.hopHandler, { router: src, inVc, tailIn, pkts: [p], hop: 0 }, PRIORITY_DEFAULT);
      return p;
    }
    let r = src;
    let iv = inVc;
    let head = a;
    let tIn = tailIn;
    for (let x = 1; ; x++) {
      const op = this.unicastHop(p, rec, x, r, iv, head, tIn);
      if (op === LOCAL) {
        this.sim.scheduleAt(rec.t[x] + EJECTION_CYCLES, this.deliverHandler, p, PRIORITY_DEFAULT);
        return p;
      }
      r = this.mesh.neighbour[r * PORTS + op];
      iv = (r * PORTS + oppositePort(op)) * this.V + rec.v[x];
      head = rec.d[x] + this.LT;
      tIn = rec.t[x] + this.LT;
    }
  }

  // ---- one router --------------------------------------------------------------------

  /**
   * The head of unicast packet p reaches router r on input VC `iv` at cycle a, its tail at
   * `tailIn`: route computation, an output VC, the port's bandwidth. Records the hop as
   * record x (input VC, port, VC, head and tail exit), reserves it, applies its
   * back-pressure upstream and returns the output port.
   */
  private unicastHop(p: MessagePacket, rec: HopRecords, x: number, r: number, iv: number, a: number, tailIn: number): number {
    const L = p.flits;
    this.countArrival(r, L);
    const op = this.route(r, p.dst);
    const k = r * PORTS + op;
    const res = this.res;
    const v = res.earliestOutVc(k);
    const front = res.inVcFront[iv] > a ? res.inVcFront[iv] : a;
    let d = front + this.routerDelay;
    const vcReady = res.outVcReady(k, v);
    if (vcReady > d) d = vcReady;
    let t = d + p.span;
    if (tailIn + this.SAST > t) t = tailIn + this.SAST;
    const shared = res.shareLink(k, d, L);
    if (shared > t) t = shared;
    rec.iv[x] = iv;
    rec.k[x] = k;
    rec.v[x] = v;
    rec.d[x] = d;
    rec.t[x] = t;
    this.commitHop(iv, k, v, t);
    this.commitCredit(p, rec, x);
    this.backPressure(p, rec, x);
    this.grant(r, k, L);
    if (op !== LOCAL) this.cLink[r].value += L;
    return op;
  }

  /** Hop reserved until its tail leaves at t: output VC reusable at t + 1 + VA, input VC front free at t - SA - ST + 1. */
  private commitHop(iv: number, k: number, v: number, t: number): void {
    const res = this.res;
    const o = k * this.V + v;
    if (res.outVcFree[o] < t + 1 + this.VA) res.outVcFree[o] = t + 1 + this.VA;
    const front = t - this.SAST + 1;
    if (res.inVcFront[iv] < front) res.inVcFront[iv] = front;
  }

  /** Record x's tail exit moved to t: re-reserve it (record 0: the interface's tail was sent SA + ST earlier). */
  private recommit(p: MessagePacket, rec: HopRecords, x: number, t: number): void {
    rec.t[x] = t;
    if (x === 0) {
      p.niTail = t - this.SAST;
      this.commitInjection(p.src, p.injVc, p.niTail);
    } else {
      this.commitHop(rec.iv[x], rec.k[x], rec.v[x], t);
      this.commitCredit(p, rec, x);
    }
  }

  /** Cycle flit m of p left record x: interpolated between its head and tail exits (whole cycles). */
  private flitExit(p: MessagePacket, rec: HopRecords, x: number, m: number): number {
    return p.flits > 1 ? rec.d[x] + Math.round(((rec.t[x] - rec.d[x]) * m) / (p.flits - 1)) : rec.d[x];
  }

  /**
   * Wormhole back-pressure once record x (hop x - 1) is known. A flit leaves a router only
   * with a credit for the buffer ahead, so for a packet longer than a buffer:
   * - flit m at record i waits for flit m - D at record i + 1: the tail,
   *     t_i >= e_{i+1}(L - 1 - D) + 1 + CR,
   *   with e interpolated between head and tail exits (`flitExit`);
   * - by the same chain, flit jD at record x - j waits for the head at record x:
   *     t_{x-j} >= d_x + j (1 + CR) + span(L - jD),  1 <= j <= (L - 1) / D,
   *   which carries a head held up downstream (no free VC, RC + VA at every router) back to
   *   the tails, VCs and injection FIFO upstream.
   */
  private backPressure(p: MessagePacket, rec: HopRecords, x: number): void {
    const L = p.flits;
    const D = this.D;
    if (L <= D) return;
    const step = 1 + this.CR;
    const jMax = Math.min(Math.floor((L - 1) / D), x);
    for (let j = 1; j <= jMax; j++) {
      const need = rec.d[x] + j * step + spanCycles(L - j * D, D, p.roundTrip);
      if (need > rec.t[x - j]) this.recommit(p, rec, x - j, need);
    }
    for (let i = x - 1; i >= 0; i--) {
      const need = this.flitExit(p, rec, i + 1, L - 1 - D) + step;
      if (need <= rec.t[i]) break;
      this.recommit(p, rec, i, need);
    }
  }

  /**
   * Record x is known: the VC that fed it (record x - 1's output VC, or the interface's
   * injection VC) gets the slot of flit L - D back at e_x(L - D) + 1 + CR (the interface
   * can send SA + ST earlier than a router's exit); a next head on that VC needs it: credits
   * span packets. A packet shorter than a buffer leaves slots free.
   */
  private commitCredit(p: MessagePacket, rec: HopRecords, x: number): void {
    const L = p.flits;
    if (L < this.D) return;
    const at = this.flitExit(p, rec, x, L - this.D) + 1 + this.CR;
    const res = this.res;
    if (x === 1) {
      const o = p.src * this.V + p.injVc;
      if (res.injVcCredit[o] < at - this.SAST) res.injVcCredit[o] = at - this.SAST;
    } else {
      const o = rec.k[x - 1] * this.V + rec.v[x - 1];
      if (res.outVcCredit[o] < at) res.outVcCredit[o] = at;
    }
  }

  /** A head of L flits enters router r: one route computation, L buffer writes, reads and credits. */
  private countArrival(r: number, L: number): void {
    this.cRC[r].value++;
    this.cBufW[r].value += L;
    this.cBufR[r].value += L;
    this.cCred[r].value += L;
  }

  /** Output port k of router r carries L flits (VC and switch allocation, crossbar). */
  private grant(r: number, k: number, L: number): void {
    this.links[k] += L;
    this.cVA[r].value++;
    this.cSA[r].value += L;
    this.cXB[r].value += L;
  }

  /** Hop reservation: the head of a packet (or tree branch) reaches a router now. */
  private atRouter(h: Hop, now: number): void {
    const pkts = h.pkts;
    if (pkts.length === 1 && pkts[0].rec) {
      const p = pkts[0];
      const rec = p.rec!;
      const x = h.hop + 1;
      const op = this.unicastHop(p, rec, x, h.router, h.inVc, now, h.tailIn);
      if (op === LOCAL) {
        this.sim.scheduleAt(rec.t[x] + EJECTION_CYCLES, this.deliverHandler, p, PRIORITY_DEFAULT);
        return;
      }
      const n = this.mesh.neighbour[h.router * PORTS + op];
      const iv = (n * PORTS + oppositePort(op)) * this.V + rec.v[x];
      this.sim.scheduleAt(rec.d[x] + this.LT, this.hopHandler, { router: n, inVc: iv, tailIn: rec.t[x] + this.LT, pkts, hop: h.hop + 1 }, PRIORITY_DEFAULT);
      return;
    }
    this.treeHop(h, now);
  }

  // ---- tree multicast ----------------------------------------------------------------

  /** Tree multicast with hop reservation: one packet per destination, forked where the routes part. */
  private injectTree(src: number, dsts: number[], L: number, bytes: number, onDelivered: DeliveryHandler, tag: number): void {
    this.checkTile(src, 'source');
    for (const d of dsts) this.checkTile(d, 'destination');
    const now = this.sim.now;
    const pkts = dsts.map((d) => new MessagePacket(this.nextId++, src, d, bytes, tag, now, L, hopCount(this.mesh.cols, src, d), onDelivered));
    const hasLink = pkts.some((p) => p.hops > 0);
    for (const p of pkts) p.span = this.span(L, hasLink);
    const v = this.injectAt(pkts[0], src, L);
    for (const p of pkts) p.headInjectedAtCycles = pkts[0].headInjectedAtCycles;
    this.inFlightPackets += pkts.length;
    const at = pkts[0].headInjectedAtCycles + INJECTION_CYCLES;
    this.sim.scheduleAt(at, this.hopHandler, { router: src, inVc: (src * PORTS + LOCAL) * this.V + v, tailIn: pkts[0].niTail + INJECTION_CYCLES, pkts, hop: 0 }, PRIORITY_DEFAULT);
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
    const L = h.pkts[0].flits;
    const ending = groups.get(LOCAL)?.[0];
    this.switchOnce(r, h.inVc, now, h.tailIn, mask, L, h.pkts[0].span, ending);
    for (const [op, pkts] of groups) {
      if (op === LOCAL) continue;
      const n = this.mesh.neighbour[r * PORTS + op];
      const iv = (n * PORTS + oppositePort(op)) * this.V + this.swVc[op];
      this.sim.scheduleAt(this.swDepart + this.LT, this.hopHandler, { router: n, inVc: iv, tailIn: this.swTail + this.LT, pkts, hop: h.hop + 1 }, PRIORITY_DEFAULT);
    }
  }

  /**
   * One switch allocation at router r for a head arriving at `arrive` on input VC `inVc`
   * (tail arriving at `tailIn`), copied to every output port in `mask` (bit p = port p):
   * all copies leave together once every output has a VC, and the tail leaves when the
   * slowest output has carried it. Sets `swDepart`, `swTail`, `swVc`; schedules the
   * ejection of `ending` when the local port is in the mask.
   */
  private switchOnce(r: number, inVc: number, arrive: number, tailIn: number, mask: number, L: number, span: number, ending: MessagePacket | undefined): void {
    this.countArrival(r, L);
    const res = this.res;
    const V = this.V;
    let depart = Math.max(arrive, res.inVcFront[inVc]) + this.routerDelay;
    let outs = 0;
    for (let op = 0; op < PORTS; op++) {
      if (!(mask & (1 << op))) continue;
      outs++;
      const k = r * PORTS + op;
      const v = res.earliestOutVc(k);
      this.swVc[op] = v;
      const ready = res.outVcReady(k, v);
      if (ready > depart) depart = ready;
    }
    let tail = Math.max(depart + span, tailIn + this.SAST);
    for (let op = 0; op < PORTS; op++) if (mask & (1 << op)) tail = Math.max(tail, res.shareLink(r * PORTS + op, depart, L));
    if (outs > 1) {
      this.cRep[r].value += (outs - 1) * L;
      this.inFlightFlits += (outs - 1) * L;
    }
    for (let op = 0; op < PORTS; op++) {
      if (!(mask & (1 << op))) continue;
      const k = r * PORTS + op;
      this.commitHop(inVc, k, this.swVc[op], tail);
      this.grant(r, k, L);
      if (op === LOCAL) this.sim.scheduleAt(tail + EJECTION_CYCLES, this.deliverHandler, ending!, PRIORITY_DEFAULT);
      else this.cLink[r].value += L;
    }
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
    const V = this.V;
    const xy = this.xyFirst === true;
    // coordinates: t along the trunk (first dimension), u along the branches
    const tOf = (r: number) => (xy ? r % cols : Math.floor(r / cols));
    const uOf = (r: number) => (xy ? Math.floor(r / cols) : r % cols);
    const at = (t: number, u: number) => (xy ? u * cols + t : t * cols + u);
    const tPlus = xy ? EAST : SOUTH;
    const tMinus = xy ? WEST : NORTH;
    const uPlus = xy ? SOUTH : EAST;
    const uMinus = xy ? NORTH : WEST;
    this.checkTile(src, 'source');
    for (const d of dstList) this.checkTile(d, 'destination');
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
    const span = this.span(L, dstList.some((d) => d !== src));
    for (const d of dstList) {
      const p = new MessagePacket(this.nextId++, src, d, bytes, tag, now, L, hopCount(cols, src, d), onDelivered);
      p.span = span;
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
    const v0 = this.injectAt(first!, src, L);
    for (const d of dstList) endingAt[d]!.headInjectedAtCycles = first!.headInjectedAtCycles;
    this.inFlightPackets += n;

    // output ports of trunk router (t, su): on along the trunk, into the branches, local
    const trunkPorts = (t: number, r: number, onward: number) => onward | (bMin[t] < su ? 1 << uMinus : 0) | (bMax[t] > su ? 1 << uPlus : 0) | (endingAt[r] ? 1 : 0);
    // switch router r and return [departure, tail, VC index into the next router per port]
    const hop = (r: number, inVc: number, arrive: number, tailIn: number, mask: number): [number, number, Int32Array] => {
      this.switchOnce(r, inVc, arrive, tailIn, mask, L, span, endingAt[r]);
      return [this.swDepart, this.swTail, this.swVc.slice()];
    };
    const nextVc = (r: number, op: number, vcs: Int32Array) => (this.mesh.neighbour[r * PORTS + op] * PORTS + oppositePort(op)) * V + vcs[op];
    const branches = (t: number, r0: number, departed: number, tail0: number, vcs0: Int32Array, mask: number) => {
      for (const [dir, end, port] of [[-1, bMin[t], uMinus], [1, bMax[t], uPlus]] as const) {
        if (!(mask & (1 << port))) continue;
        let [dep, tail, vcs, prev] = [departed, tail0, vcs0, r0];
        for (let u = su + dir; dir > 0 ? u <= end : u >= end; u += dir) {
          const r = at(t, u);
          [dep, tail, vcs] = hop(r, nextVc(prev, port, vcs), dep + this.LT, tail + this.LT, (u !== end ? 1 << port : 0) | (endingAt[r] ? 1 : 0));
          prev = r;
        }
      }
    };
    const m0 = trunkPorts(st, src, (tHi > st ? 1 << tPlus : 0) | (tLo < st ? 1 << tMinus : 0));
    const [d0, t0, vcs0] = hop(src, (src * PORTS + LOCAL) * V + v0, first!.headInjectedAtCycles + INJECTION_CYCLES, first!.niTail + INJECTION_CYCLES, m0);
    branches(st, src, d0, t0, vcs0, m0);
    for (const [dir, end] of [[1, tHi], [-1, tLo]] as const) {
      let [dep, tail, vcs, prev] = [d0, t0, vcs0, src];
      const onward = dir > 0 ? tPlus : tMinus;
      for (let t = st + dir; dir > 0 ? t <= end : t >= end; t += dir) {
        const r = at(t, su);
        const m = trunkPorts(t, r, t !== end ? 1 << onward : 0);
        [dep, tail, vcs] = hop(r, nextVc(prev, onward, vcs), dep + this.LT, tail + this.LT, m);
        branches(t, r, dep, tail, vcs, m);
        prev = r;
      }
    }
    // clear the scratch
    for (const d of dstList) {
      endingAt[d] = undefined;
      const t = tOf(d);
      bMin[t] = 2 ** 30;
      bMax[t] = -1;
    }
  }

  /** The tail of a branch with one destination reaches its ejection port. */
  private deliver(p: MessagePacket): void {
    this.cFlitOut[p.dst].value += p.flits;
    this.inFlightFlits -= p.flits;
    this.inFlightPackets--;
    p.onDelivered(p, this.sim.now);
  }
}

/**
 * Per record of a route (0: the source interface, x: hop x - 1's router): input VC, output
 * port (r x 5 + port), output VC, head and tail exit cycles.
 */
interface HopRecords {
  readonly iv: Int32Array;
  readonly k: Int32Array;
  readonly v: Int32Array;
  readonly d: Float64Array;
  readonly t: Float64Array;
}

function newHopRecords(n: number): HopRecords {
  return { iv: new Int32Array(n), k: new Int32Array(n), v: new Int32Array(n), d: new Float64Array(n), t: new Float64Array(n) };
}

interface Hop {
  router: number;
  /** input VC index ((router x 5 + port) x V + vc) the head arrives on */
  inVc: number;
  /** cycle the tail reaches this router */
  tailIn: number;
  pkts: MessagePacket[];
  /** hop index along a unicast route */
  hop: number;
}

class MessagePacket implements NocPacket {
  headInjectedAtCycles = -1;
  /** cycle the interface sent the tail */
  niTail = 0;
  /** injection VC taken at the source */
  injVc = 0;
  /** head-to-tail cycles at the route's bottleneck VC */
  span = 0;
  /** cycles per flit at the route's bottleneck VC (D / R flits per cycle, at most 1) */
  cpf = 1;
  /** credit round trip at the route's bottleneck */
  roundTrip = 1;
  /** hop reservation: this packet's hop records (path reservation uses the network's scratch) */
  rec: HopRecords | null = null;
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
