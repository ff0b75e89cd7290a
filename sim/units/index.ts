export * from './precision.js';

export const KIB = 1024;
export const MIB = 1024 * 1024;
export const GIB = 1024 * 1024 * 1024;

/** Convert integer cycles at `clockMHz` to seconds (only at the edges). */
export function cyclesToSeconds(cycles: number, clockMHz: number): number {
  return cycles / (clockMHz * 1e6);
}

/** Convert seconds to whole cycles at `clockMHz` (rounded to the nearest cycle). */
export function secondsToCycles(seconds: number, clockMHz: number): number {
  return Math.round(seconds * clockMHz * 1e6);
}
