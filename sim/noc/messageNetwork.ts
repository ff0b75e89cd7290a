import { Priority as KernelPriority } from '../kernel/priority.js';
import type { Simulator } from '../kernel/simulator.js';
import type { Design } from '../design/design.js';
import type { Counter } from '../counters/counter.js';
import type { DeliveryHandler } from './port.js';
import { LOCAL as MESH_LOCAL, PORTS as MESH_PORTS, NORTH, EAST, SOUTH, WEST, hopCount, oppositePort, makeMesh, routingFunction, type Mesh, type RoutingFunction } from './mesh.js';
import { EJECTION_CYCLES, INJECTION_CYCLES, packetFlits, routerDelayCycles } from './packet.js';
import { registerNocCounters } from './counters.js';
import type { Network, NetworkOptions, NocPacket } from './network.js';


// Module-local copies: imported bindings can compile to getters, too slow for the hot loops.
const PORTS = MESH_PORTS;
const LOCAL = MESH_LOCAL;
const PRIORITY_DEFAULT = KernelPriority.Default;

/**
 * Message-level mesh NoC (the fast model for whole-chip runs). A packet of L flits moves
 * as a unit: its head reaches router k at a_k, leaves on the routed output port at
 * d_k = max(a_k + routerDelay, output port free, input port free), and reserves the output
 * link and the crossbar input for L cycles
 * (its serialisation time); the next router sees the head at d_k + linkTraversal. The
 * injection channel and the ejection port are reserved the same way; the tail is ejected
 * L - 1 cycles after the head. Contention therefore still delays messages (first come,
 * first served per link, in head-arrival order), but there are no per-flit events: one
 * event per router on the path. With `reservation: 'path'` the whole route is reserved
 * when the message is injected (links are granted in injection order rather than
 * head-arrival order), leaving one event per delivery: the full-chip fast fidelity. Buffers are not modelled (no wormhole back-pressure), so
 * near saturation it is optimistic; docs/noc.md gives the measured agreement.
 *
 * Tree multicast (`noc.multicast = 'tree'`): the packet follows the XY tree of its
 * destination set; where branches part, the router copies it (`noc.flitsReplicated`).
 * With path reservation a dimension-order tree is walked directly as a trunk along the
 * first dimension and branches along the second (`reserveTree`), with the same timing
 * and counts as grouping the destinations router by router.
 */
export class MessageNetwork implements Network {
  readonly model = 'message' as const;
  readonly routerEvaluations = 0;
  readonly maxBufferOccupancyFlits = 0;
  readonly minCredits = 0;

  private readonly mesh: Mesh;
  private readonly route: RoutingFunction;
  private readonly R: number;
  private readonly routerDelay: number;
  private readonly LT: number;
  /** cycle from which each router output port (r x 5 + port) is free */
  private readonly portFree: Float64Array;
  /** cycle from which each router input port (r x 5 + port) can send through the crossbar again */
  private readonly inputFree: Float64Array;
  /** cycle from which each tile's injection channel is free */
  private readonly injectFree: Float64Array;
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
  private readonly hopHandler = (h: Hop) => this.atRouter(h.router, h.inPort, h.pkts, h.flits, this.sim.now);
  /** `path`: reserve the whole route when the message is injected (one event per delivery). */
  private readonly pathReservation: boolean;
  private readonly deliverHandler = (p: MessagePacket) => this.deliver(p);
  /** Dimension-order routing (xy or yx): a multicast tree is a trunk plus branches. */
  private readonly xyFirst: boolean | null;
  /** Scratch for `reserveTree`: per trunk coordinate, the branch extent; per router, the packet ending there. */
  private readonly branchMin: Int32Array;
  private readonly branchMax: Int32Array;
  private readonly endingAt: (MessagePacket | undefined)[];

  constructor(
    private readonly sim: Simulator,
    readonly design: Design,
    options: NetworkOptions,
  ) {
    this.mesh = makeMesh(design.mesh.rows, design.mesh.cols);
    this.route = routingFunction(design, this.mesh);
    this.pathReservation = options.reservation === 'path';
    const R = (this.R = this.mesh.routers);
    this.routerDelay = routerDelayCycles(design.noc);
    this.LT = design.noc.linkTraversalCycles;
    this.portFree = new Float64Array(R * PORTS);
    this.injectFree = new Float64Array(R);
    this.inputFree = new Float64Array(R * PORTS);
    this.links = new Float64Array(R * PORTS);
    this.xyFirst = design.noc.routing === 'xy' ? true : design.noc.routing === 'yx' ? false : null;
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
    if (this.pathReservation) return this.injectUnicast(src, dst, packetFlits(this.design.noc, bytes), bytes, onDelivered, tag);
    return this.inject(src, [dst], packetFlits(this.design.noc, bytes), bytes, onDelivered, tag)[0];
  }

  /** `inject` for one destination under path reservation (no arrays: the full-chip hot path). */
  private injectUnicast(src: number, dst: number, L: number, bytes: number, onDelivered: DeliveryHandler, tag: number): MessagePacket {
    if (!(Number.isInteger(src) && src >= 0 && src < this.R)) throw new RangeError(`source tile ${src} is not in 0..${this.R - 1}`);
    if (!(Number.isInteger(dst) && dst >= 0 && dst < this.R)) throw new RangeError(`destination tile ${dst} is not in 0..${this.R - 1}`);
    const now = this.sim.now;
    const p = new MessagePacket(this.nextId++, src, dst, bytes, tag, now, L, hopCount(this.mesh.cols, src, dst), onDelivered);
    const depart = Math.max(now, this.injectFree[src]);
    this.injectFree[src] = depart + L;
    p.headInjectedAtCycles = depart;
    this.cPktIn[src].value++;
    this.cFlitIn[src].value += L;
    this.inFlightFlits += L;
    this.inFlightPackets++;
    this.reserveUnicast(src, LOCAL, p, L, depart + INJECTION_CYCLES, true);
    return p;
  }

  sendPacket(src: number, dst: number, flits: number, onDelivered: DeliveryHandler, tag = 0): NocPacket {
    if (!(Number.isSafeInteger(flits) && flits >= 1)) throw new RangeError(`sendPacket: flits ${flits} must be a positive integer`);
    const bytes = Math.floor(Math.max(0, flits * this.design.noc.flitBits - this.design.noc.headerBits) / 8);
    return this.inject(src, [dst], flits, bytes, onDelivered, tag)[0];
  }

  multicast(src: number, dsts: readonly number[], bytes: number, onDelivered: DeliveryHandler, tag = 0): void {
    if (!(Number.isSafeInteger(bytes) && bytes >= 0)) throw new RangeError(`multicast: bytes ${bytes} must be a non-negative integer`);
    if (this.design.noc.multicast === 'tree') {
      if (dsts.length > 1 && this.pathReservation && this.xyFirst !== null) this.reserveTree(src, dsts, packetFlits(this.design.noc, bytes), bytes, onDelivered, tag);
      else if (dsts.length) this.inject(src, [...new Set(dsts)], packetFlits(this.design.noc, bytes), bytes, onDelivered, tag);
    } else for (const d of dsts) this.send(src, d, bytes, onDelivered, tag);
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

  private inject(src: number, dsts: number[], flits: number, bytes: number, onDelivered: DeliveryHandler, tag: number): NocPacket[] {
    const check = (t: number, what: string) => {
      if (!(Number.isInteger(t) && t >= 0 && t < this.R)) throw new RangeError(`${what} tile ${t} is not in 0..${this.R - 1}`);
    };
    check(src, 'source');
    for (const d of dsts) check(d, 'destination');
    const now = this.sim.now;
    const pkts = dsts.map((d) => new MessagePacket(this.nextId++, src, d, bytes, tag, now, flits, hopCount(this.mesh.cols, src, d), onDelivered));
    // the injection channel carries one flit per cycle
    const depart = Math.max(now, this.injectFree[src]);
    this.injectFree[src] = depart + flits;
    for (const p of pkts) p.headInjectedAtCycles = depart;
    this.cPktIn[src].value++;
    this.cFlitIn[src].value += flits;
    this.inFlightFlits += flits;
    this.inFlightPackets += pkts.length;
    if (this.pathReservation) this.atRouter(src, LOCAL, pkts, flits, depart + INJECTION_CYCLES);
    else this.sim.scheduleAt(depart + INJECTION_CYCLES, this.hopHandler, { router: src, inPort: LOCAL, pkts, flits }, PRIORITY_DEFAULT);
    return pkts;
  }

  /**
   * The head of a message (or tree branch) reaches router r at cycle `now` (the current
   * cycle with per-hop events; a future cycle when the whole path is reserved at injection).
   */
  private atRouter(r: number, inPort: number, headPkts: MessagePacket[], L: number, now: number): void {
    // one route computation and one buffer write/read per flit at every router
    this.countArrival(r, L);
    if (headPkts.length === 1) {
      // unicast (or a tree branch with one destination left): no grouping needed
      if (this.pathReservation) this.reserveUnicast(r, inPort, headPkts[0], L, now);
      else this.forward(r, inPort, this.route(r, headPkts[0].dst), headPkts, L, now);
      return;
    }
    // group the destinations by output port
    const groups = new Map<number, MessagePacket[]>();
    for (const p of headPkts) {
      const op = this.route(r, p.dst);
      const g = groups.get(op);
      if (g) g.push(p);
      else groups.set(op, [p]);
    }
    if (groups.size > 1) {
      this.cRep[r].value += (groups.size - 1) * L;
      this.inFlightFlits += (groups.size - 1) * L;
    }
    // the crossbar replicates each flit to every branch in one switch allocation (as the
    // flit model does), so all branches leave together once every output port is free
    let depart = Math.max(now + this.routerDelay, this.inputFree[r * PORTS + inPort]);
    for (const op of groups.keys()) depart = Math.max(depart, this.portFree[r * PORTS + op]);
    for (const [op, pkts] of groups) this.forward(r, inPort, op, pkts, L, now, depart);
  }

  /**
   * Path reservation of one destination from router r on (whose route computation and
   * buffer counts `atRouter` has made unless `countFirst`): the same per-router rule as
   * `forward`, as a loop.
   */
  private reserveUnicast(r: number, inPort: number, p: MessagePacket, L: number, arrive: number, countFirst = false): void {
    const dst = p.dst;
    for (let first = true; ; first = false) {
      if (!first || countFirst) {
        this.countArrival(r, L);
      }
      const op = this.route(r, dst);
      const k = r * PORTS + op;
      const kin = r * PORTS + inPort;
      let depart = arrive + this.routerDelay;
      if (this.portFree[k] > depart) depart = this.portFree[k];
      if (this.inputFree[kin] > depart) depart = this.inputFree[kin];
      this.grant(r, k, kin, depart, L);
      if (op === LOCAL) {
        this.sim.scheduleAt(depart + EJECTION_CYCLES + L - 1, this.deliverHandler, p, PRIORITY_DEFAULT);
        return;
      }
      this.cLink[r].value += L;
      r = this.mesh.neighbour[k];
      inPort = oppositePort(op);
      arrive = depart + this.LT;
    }
  }

  /** A head of L flits enters router r: one route computation, L buffer writes, reads and credits. */
  private countArrival(r: number, L: number): void {
    this.cRC[r].value++;
    this.cBufW[r].value += L;
    this.cBufR[r].value += L;
    this.cCred[r].value += L;
  }

  /** Output port k of router r granted to input kin from `depart` for L flits (VC and switch allocation, crossbar). */
  private grant(r: number, k: number, kin: number, depart: number, L: number): void {
    this.portFree[k] = depart + L;
    this.inputFree[kin] = depart + L;
    this.links[k] += L;
    this.cVA[r].value++;
    this.cSA[r].value += L;
    this.cXB[r].value += L;
  }

  /** Switch the head through router r to output port `op` and on to the next router or the ejection port. */
  private forward(r: number, inPort: number, op: number, pkts: MessagePacket[], L: number, now: number, at = -1): void {
    const k = r * PORTS + op;
    // the crossbar passes one flit per cycle per input and per output port
    const kin = r * PORTS + inPort;
    const depart = at >= 0 ? at : Math.max(now + this.routerDelay, this.portFree[k], this.inputFree[kin]);
    this.grant(r, k, kin, depart, L);
    if (op === LOCAL) {
      // tail ejected L - 1 cycles after the head; one branch ends here
      this.sim.scheduleAt(depart + EJECTION_CYCLES + L - 1, this.deliverHandler, pkts[0], PRIORITY_DEFAULT);
    } else {
      this.cLink[r].value += L;
      const n = this.mesh.neighbour[k];
      if (this.pathReservation) this.atRouter(n, oppositePort(op), pkts, L, depart + this.LT);
      else this.sim.scheduleAt(depart + this.LT, this.hopHandler, { router: n, inPort: oppositePort(op), pkts, flits: L }, PRIORITY_DEFAULT);
    }
  }

  /**
   * Tree multicast under path reservation and dimension-order routing, without grouping
   * destinations router by router: the tree is a trunk along the first dimension (through
   * the source's row for xy) and, off each trunk router, a branch each way along the
   * second dimension as far as the farthest destination. Each router on it switches once
   * (`switchOnce`) to all its output ports, exactly as `atRouter` does.
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
    if (!(Number.isInteger(src) && src >= 0 && src < this.R)) throw new RangeError(`source tile ${src} is not in 0..${this.R - 1}`);
    const now = this.sim.now;
    const depart = Math.max(now, this.injectFree[src]);
    this.injectFree[src] = depart + L;
    const endingAt = this.endingAt;
    const bMin = this.branchMin;
    const bMax = this.branchMax;
    const st = tOf(src);
    const su = uOf(src);
    let tLo = st;
    let tHi = st;
    let n = 0;
    for (const d of dstList) {
      if (!(Number.isInteger(d) && d >= 0 && d < this.R)) {
        for (const e of dstList) if (Number.isInteger(e) && e >= 0 && e < this.R) endingAt[e] = undefined;
        throw new RangeError(`destination tile ${d} is not in 0..${this.R - 1}`);
      }
      if (endingAt[d]) continue; // listed twice
      const p = new MessagePacket(this.nextId++, src, d, bytes, tag, now, L, hopCount(cols, src, d), onDelivered);
      p.headInjectedAtCycles = depart;
      endingAt[d] = p;
      n++;
      const t = tOf(d);
      const u = uOf(d);
      if (u < bMin[t]) bMin[t] = u;
      if (u > bMax[t]) bMax[t] = u;
      if (t < tLo) tLo = t;
      if (t > tHi) tHi = t;
    }
    this.cPktIn[src].value++;
    this.cFlitIn[src].value += L;
    this.inFlightFlits += L;
    this.inFlightPackets += n;

    // output ports of trunk router (t, su): on along the trunk, into the branches, local
    const trunkPorts = (t: number, r: number, onward: number) => onward | (bMin[t] < su ? 1 << uMinus : 0) | (bMax[t] > su ? 1 << uPlus : 0) | (endingAt[r] ? 1 : 0);
    const branches = (t: number, departed: number, mask: number) => {
      if (mask & (1 << uMinus)) {
        let dep = departed;
        for (let u = su - 1; u >= bMin[t]; u--) {
          const r = at(t, u);
          dep = this.switchOnce(r, oppositePort(uMinus), dep + this.LT, (u > bMin[t] ? 1 << uMinus : 0) | (endingAt[r] ? 1 : 0), L);
        }
      }
      if (mask & (1 << uPlus)) {
        let dep = departed;
        for (let u = su + 1; u <= bMax[t]; u++) {
          const r = at(t, u);
          dep = this.switchOnce(r, oppositePort(uPlus), dep + this.LT, (u < bMax[t] ? 1 << uPlus : 0) | (endingAt[r] ? 1 : 0), L);
        }
      }
    };
    const m0 = trunkPorts(st, src, (tHi > st ? 1 << tPlus : 0) | (tLo < st ? 1 << tMinus : 0));
    const d0 = this.switchOnce(src, LOCAL, depart + INJECTION_CYCLES, m0, L);
    branches(st, d0, m0);
    for (const [dir, end] of [[1, tHi], [-1, tLo]] as const) {
      let dep = d0;
      const onward = dir > 0 ? tPlus : tMinus;
      for (let t = st + dir; dir > 0 ? t <= end : t >= end; t += dir) {
        const r = at(t, su);
        const m = trunkPorts(t, r, t !== end ? 1 << onward : 0);
        dep = this.switchOnce(r, oppositePort(onward), dep + this.LT, m, L);
        branches(t, dep, m);
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

  /**
   * One switch allocation at router r for a head arriving at `arrive` on `inPort`, copied to
   * every output port in `mask` (bit p = port p): all copies leave together once the input
   * and every output are free. Returns the departure cycle; schedules ejections.
   */
  private switchOnce(r: number, inPort: number, arrive: number, mask: number, L: number): number {
    this.countArrival(r, L);
    const kin = r * PORTS + inPort;
    let depart = Math.max(arrive + this.routerDelay, this.inputFree[kin]);
    let outs = 0;
    for (let op = 0; op < PORTS; op++) if (mask & (1 << op)) {
      outs++;
      if (this.portFree[r * PORTS + op] > depart) depart = this.portFree[r * PORTS + op];
    }
    if (outs > 1) {
      this.cRep[r].value += (outs - 1) * L;
      this.inFlightFlits += (outs - 1) * L;
    }
    for (let op = 0; op < PORTS; op++) if (mask & (1 << op)) {
      this.grant(r, r * PORTS + op, kin, depart, L);
      if (op === LOCAL) this.sim.scheduleAt(depart + EJECTION_CYCLES + L - 1, this.deliverHandler, this.endingAt[r]!, PRIORITY_DEFAULT);
      else this.cLink[r].value += L;
    }
    return depart;
  }

  /** The tail of a branch with one destination reaches its ejection port. */
  private deliver(p: MessagePacket): void {
    this.cFlitOut[p.dst].value += p.flits;
    this.inFlightFlits -= p.flits;
    this.inFlightPackets--;
    p.onDelivered(p, this.sim.now);
  }
}

interface Hop {
  router: number;
  inPort: number;
  pkts: MessagePacket[];
  flits: number;
}

class MessagePacket implements NocPacket {
  headInjectedAtCycles = -1;
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
