/**
 * Named event priorities. Events due at the same cycle run in ascending priority
 * number, then in the order they were scheduled (gem5-style named tie-breaks, SimPy's
 * insertion sequence). Priorities are small integers in [0, PRIORITY_LEVELS).
 */
export const Priority = {
  /** Runs before everything else due at the same cycle (e.g. clock-edge bookkeeping). */
  Urgent: 0,
  /** Hardware that must see this cycle's inputs before ordinary handlers (links, credits). */
  High: 2,
  /** Ordinary component work. */
  Default: 4,
  /** Work that must observe everything else of the cycle (statistics sampling). */
  Low: 6,
  /** Run termination: the very last thing done in a cycle. */
  Exit: 7,
} as const;

export type PriorityName = keyof typeof Priority;

/** Number of distinct priority levels the kernel supports (0 .. PRIORITY_LEVELS - 1). */
export const PRIORITY_LEVELS = 8;
