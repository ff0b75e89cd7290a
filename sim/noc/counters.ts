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
