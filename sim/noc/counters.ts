import type { CounterRegistry } from '../counters/registry.js';
import { interfaceName, routerName } from './mesh.js';
import type { CounterDef } from '../counters/counter.js';

/**
 * Network-on-chip activity counters (Garnet-style), registered per router
 * (`router[r,c]`) or per network interface; energy = count x energy per event (issue 5).
 * Invariant after drain: flitsEjected = flitsInjected + flitsReplicated.
 */
export const NOC_COUNTERS: readonly CounterDef[] = [
  { name: 'noc.packetsInjected', unit: 'packets', description: 'packets (messages) handed to the network by network interfaces' },
  { name: 'noc.flitsInjected', unit: 'flits', description: 'flits entering the network at source network interfaces' },
  { name: 'noc.flitsEjected', unit: 'flits', description: 'flits leaving the network at destination network interfaces' },
  { name: 'noc.flitsReplicated', unit: 'flits', description: 'extra flit copies made by routers for tree multicast' },
  { name: 'noc.bufferWrites', unit: 'flits', description: 'flits written into router input VC buffers' },
  { name: 'noc.bufferReads', unit: 'flits', description: 'flits read out of router input VC buffers' },
  { name: 'noc.routeComputations', unit: 'events', description: 'route computations (one per head flit per router)' },
  { name: 'noc.vcAllocations', unit: 'events', description: 'successful output-VC allocations (one per packet per router)' },
  { name: 'noc.switchAllocations', unit: 'events', description: 'successful switch (crossbar) allocations, one per flit per router' },
  { name: 'noc.crossbarTraversals', unit: 'flits', description: 'flits traversing a router crossbar' },
  { name: 'noc.linkFlitHops', unit: 'flits', description: 'flits crossing an inter-router link (one per flit per hop)' },
  { name: 'noc.creditsReturned', unit: 'events', description: 'credits sent back upstream when a buffer slot frees' },
];

/**
 * One counter per router (`router[r,c]`) or interface (`ni[r,c]`) for each NoC quantity,
 * indexed by router: arrays held by the registry (`registerEach`), so a large mesh makes
 * twelve arrays rather than twelve objects per router (20k on the largest presets).
 */
export interface NocCounterSet {
  readonly bufferWrites: Float64Array;
  readonly bufferReads: Float64Array;
  readonly routeComputations: Float64Array;
  readonly vcAllocations: Float64Array;
  readonly switchAllocations: Float64Array;
  readonly crossbarTraversals: Float64Array;
  readonly linkFlitHops: Float64Array;
  readonly creditsReturned: Float64Array;
  readonly flitsReplicated: Float64Array;
  readonly packetsInjected: Float64Array;
  readonly flitsInjected: Float64Array;
  readonly flitsEjected: Float64Array;
}

/** Register the NoC's counters for every router and network interface of a rows x cols mesh. */
export function registerNocCounters(reg: CounterRegistry, routers: number, cols: number): NocCounterSet {
  const names = { router: Array.from({ length: routers }, (_, r) => routerName(cols, r)), ni: Array.from({ length: routers }, (_, r) => interfaceName(cols, r)) };
  const per = (name: string, kind: 'router' | 'ni') => reg.registerEach(name, names[kind]);
  return {
    bufferWrites: per('noc.bufferWrites', 'router'),
    bufferReads: per('noc.bufferReads', 'router'),
    routeComputations: per('noc.routeComputations', 'router'),
    vcAllocations: per('noc.vcAllocations', 'router'),
    switchAllocations: per('noc.switchAllocations', 'router'),
    crossbarTraversals: per('noc.crossbarTraversals', 'router'),
    linkFlitHops: per('noc.linkFlitHops', 'router'),
    creditsReturned: per('noc.creditsReturned', 'router'),
    flitsReplicated: per('noc.flitsReplicated', 'router'),
    packetsInjected: per('noc.packetsInjected', 'ni'),
    flitsInjected: per('noc.flitsInjected', 'ni'),
    flitsEjected: per('noc.flitsEjected', 'ni'),
  };
}
