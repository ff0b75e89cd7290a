/**
 * The message-level NoC's calibration: the constants of sim/noc/messageNetwork.ts that are
 * empirical choices rather than read off the router pipeline (every delay, credit round
 * trip, VC and buffer count comes from the design). Frozen here; docs/noc.md ("Calibration")
 * gives the fit, and `npm run bench -- noc-calibration` recomputes it against the flit model
 * on synthetic traffic (the NoC lab) and on whole-chip traffic (sampled designs). The
 * fast-vs-flit acceptance matrix (test/fidelity-noc-matrix.test.ts) uses other designs
 * and seeds than the fit.
 */
export interface MessageCalibration {
  /**
   * Earlier reservations a resource calendar keeps besides its latest one (busyCalendar.ts);
   * beyond that the two separated by the shortest gap merge. Fewer than 4 lets path
   * reservation run away on random traffic (false saturation); 6-12 give the same error.
   */
  readonly calendarGaps: number;
  /**
   * Share of the round-robin interleaving applied when a packet is ejected while earlier
   * reserved ones are still being ejected (ejectionSharing.ts): each of them finishes
   * ejectionInterleave x min(flits it had left, flits of the new packet) later.
   */
  readonly ejectionInterleave: number;
  /** Reservations per ejection VC remembered at a router for that sharing (window = this x V). */
  readonly ejectionWindowPerVc: number;
}

export const MESSAGE_CALIBRATION: MessageCalibration = Object.freeze({
  calendarGaps: 8,
  ejectionInterleave: 0.75,
  ejectionWindowPerVc: 4,
});

let active: MessageCalibration = MESSAGE_CALIBRATION;

/** The constants networks built now use (MESSAGE_CALIBRATION unless `withCalibration` is running). */
export function activeCalibration(): MessageCalibration {
  return active;
}

/**
 * Run `fn` with other calibration constants for every message-level network it builds
 * (refitting them through whole-chip runs: `simulateChip` is synchronous). Restored after.
 */
export function withCalibration<T>(calibration: MessageCalibration, fn: () => T): T {
  const previous = active;
  active = calibration;
  try {
    return fn();
  } finally {
    active = previous;
  }
}
