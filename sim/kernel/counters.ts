import type { CounterDef } from '../counters/counter.js';

/** Counters owned by the simulation kernel itself. */
export const KERNEL_COUNTERS: readonly CounterDef[] = [
  { name: 'kernel.eventsDispatched', unit: 'events', description: 'events dispatched by the discrete-event kernel (cancelled events excluded)' },
];
