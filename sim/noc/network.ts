import type { Simulator } from '../kernel/simulator.js';
import type { Design } from '../design/design.js';
import type { CounterRegistry } from '../counters/registry.js';
import type { DeliveryHandler, NetworkMessage, NetworkPort } from './port.js';
import type { MessageCalibration } from './messageCalibration.js';

/** Which NoC model to build: flit by flit (`flit`) or a message-level link-reservation model. */
export type NocModel = 'flit' | 'message';

export interface NetworkOptions {
  model: NocModel;
  counters: CounterRegistry;
  /**
   * Flits in flight and no flit moved for this many cycles raises a NocDeadlockError naming
   * the stuck routers and VCs (default 100,000).
   */
  watchdogCycles?: number;
  /**
   * Flit model only: `event` (default) evaluates a router only in cycles where it has work;
   * `cycle` evaluates every router every cycle while the network holds traffic (the
   * reference the event-driven engine is tested against).
   */
  engine?: 'event' | 'cycle';
  /**
   * Message model only: `hop` (default) handles each router on the route as an event, in
   * head-arrival order; `path` reserves the whole route at injection, one event per
   * delivery (links granted in injection order; the full-chip fast fidelity).
   */
  reservation?: 'hop' | 'path';
  /**
   * Message model only: calibration constants (default: the frozen MESSAGE_CALIBRATION of
   * sim/noc/messageCalibration.ts, or those of a running `withCalibration`; other values
   * only to refit them).
   */
  calibration?: MessageCalibration;
}

/** A message inside the network: the port's message plus what the network needs. */
export interface NocPacket extends NetworkMessage {
  /** Packet length in flits. */
  readonly flits: number;
  /** Cycle the head flit entered the network (left the injection queue); -1 before. */
  headInjectedAtCycles: number;
  /** Router-to-router hops on its route. */
  readonly hops: number;
}

/** What the NoC lab and the full-chip model may inspect besides the port. */
export interface Network extends NetworkPort {
  readonly model: NocModel;
  readonly design: Design;
  send(src: number, dst: number, bytes: number, onDelivered: DeliveryHandler, tag?: number): NocPacket;
  /** Send a packet of exactly `flits` flits (the synthetic-traffic lab's unit). */
  sendPacket(src: number, dst: number, flits: number, onDelivered: DeliveryHandler, tag?: number): NocPacket;
  /**
   * Bring lazily evaluated router stages up to date through `throughCycles` (default now)
   * before reading counters mid-run; call it once the cycle is complete.
   */
  settle(throughCycles?: number): void;
  /** Flits injected into the network and not yet ejected (copies included). */
  flitsInFlight(): number;
  /** Packets handed to the network and not yet delivered (queued at the source included). */
  packetsInFlight(): number;
  /**
   * Flits sent out of each router port so far, indexed r x 5 + port (ports: 0 local =
   * ejection, 1 north, 2 east, 3 south, 4 west). Utilisation = flits / cycles.
   */
  linkFlits(): Float64Array;
  /** Flits per cycle on each router port over `cycles` (default: the cycles simulated so far); same indexing. */
  linkUtilisation(cycles?: number): Float64Array;
  /** Router evaluations performed (flit model; routers x cycles in the cycle-by-cycle engine). */
  readonly routerEvaluations: number;
  /** Largest number of flits any VC buffer ever held (flit model; 0 for the message model). */
  readonly maxBufferOccupancyFlits: number;
  /** Smallest credit count any output VC ever had (flit model; never negative). */
  readonly minCredits: number;
}

/** Raised by the watchdog: traffic in the network and no flit moved for too long. */
export class NocDeadlockError extends Error {
  override name = 'NocDeadlockError';
}
