import type { CounterDef } from '../counters/counter.js';
import type { Simulator } from '../kernel/simulator.js';
import type { Network } from '../noc/network.js';
import type { DeliveryHandler, NetworkMessage } from '../noc/port.js';
import type { Design } from '../design/design.js';
import type { TechTable } from '../tech/table.js';
import { areaOf } from '../power/area.js';
import { dieCrossings, dieOfTile, type DieLayout } from '../power/dies.js';

/**
 * Die-to-die links of a chip larger than the reticle (docs/power.md "Dies"): the mesh links
 * between tiles on different dies (sim/power/dies.ts) cross a die-to-die PHY. Every flit on
 * such a link is counted in `noc.dieToDieFlits` (charged dieToDiePjPerBit per bit), and a
 * message whose route crosses k die boundaries is delivered k x dieToDieLatency later.
 */
export const DIE_COUNTERS: readonly CounterDef[] = [
  { name: 'noc.dieToDieFlits', unit: 'flits', description: 'flits crossing a die-to-die link (mesh links between tiles on different dies of a design larger than the reticle)' },
];

/** Cycles a die-to-die crossing adds at `clockMHz`: ceil(latency x f). */
export function dieToDieLatencyCycles(latencyNs: number, clockMHz: number): number {
  return Math.ceil((latencyNs * clockMHz) / 1000 - 1e-9);
}

/**
 * Flits that crossed a die boundary: the sum of the link loads (`linkFlits`, indexed
 * router x 5 + port; ports 1..4 = north, east, south, west) over links whose two tiles
 * lie on different dies.
 */
export function dieToDieFlits(layout: DieLayout, rows: number, cols: number, linkFlits: ArrayLike<number>): number {
  if (layout.count === 1) return 0;
  let sum = 0;
  for (let r = 0; r < rows * cols; r++) {
    const row = Math.floor(r / cols);
    const col = r % cols;
    const to = [
      [row - 1, col],
      [row, col + 1],
      [row + 1, col],
      [row, col - 1],
    ];
    for (let p = 1; p <= 4; p++) {
      const [tr, tc] = to[p - 1];
      if (tr < 0 || tc < 0 || tr >= rows || tc >= cols) continue;
      if (dieOfTile(layout, cols, r) !== dieOfTile(layout, cols, tr * cols + tc)) sum += linkFlits[r * 5 + p];
    }
  }
  return sum;
}

/**
 * The network with die-to-die latency: deliveries of a message whose route crosses k die
 * boundaries run k x `latencyCycles` later (the PHY is pipelined: it adds latency, not
 * occupancy). With one die, or no latency, the network itself.
 */
export function withDieLinks(network: Network, sim: Simulator, layout: DieLayout, cols: number, latencyCycles: number): Network {
  if (layout.count === 1 || latencyCycles <= 0) return network;
  // one wrapper per handler (the engine passes the same one with every message)
  const wrappers = new Map<DeliveryHandler, DeliveryHandler>();
  const delayed = (onDelivered: DeliveryHandler): DeliveryHandler => {
    let w = wrappers.get(onDelivered);
    if (!w) {
      // a crossing message is handed on when its delayed event fires, at that event's time
      const late = (msg: NetworkMessage) => onDelivered(msg, sim.now);
      w = (msg, at) => {
        const k = dieCrossings(layout, cols, msg.src, msg.dst);
        if (k === 0) onDelivered(msg, at);
        else sim.postAt(at + k * latencyCycles, late, msg);
      };
      wrappers.set(onDelivered, w);
    }
    return w;
  };
  const n = network;
  return {
    get model() {
      return n.model;
    },
    get design() {
      return n.design;
    },
    get routerEvaluations() {
      return n.routerEvaluations;
    },
    get maxBufferOccupancyFlits() {
      return n.maxBufferOccupancyFlits;
    },
    get minCredits() {
      return n.minCredits;
    },
    send: (src, dst, bytes, onDelivered, tag) => n.send(src, dst, bytes, delayed(onDelivered), tag),
    sendPacket: (src, dst, flits, onDelivered, tag) => n.sendPacket(src, dst, flits, delayed(onDelivered), tag),
    multicast: (src, dsts, bytes, onDelivered, tag) => n.multicast(src, dsts, bytes, delayed(onDelivered), tag),
    settle: (through) => n.settle(through),
    flitsInFlight: () => n.flitsInFlight(),
    packetsInFlight: () => n.packetsInFlight(),
    linkFlits: () => n.linkFlits(),
    linkUtilisation: (cycles) => n.linkUtilisation(cycles),
  };
}

/** The die layout of `design` under `tech` and the cycles one die crossing adds at its clock. */
export function dieLinksOf(design: Design, tech: TechTable): { layout: DieLayout; latencyCycles: number } {
  return { layout: areaOf(design, tech).dies, latencyCycles: dieToDieLatencyCycles(tech.common.dieToDieLatencyNs.value, design.clockMHz) };
}
