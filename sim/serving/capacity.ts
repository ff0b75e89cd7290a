/**
 * Capacity search (docs/serving.md): the highest request-rate scale at
 * which a share of the requests meets the TTFT and TPOT SLOs, by bisection on the rate
 * scale (geometric, since rates span decades). First the scale doubles (or halves) from
 * `start` until one side passes and the other fails, then the bracket is halved until its
 * ends are within `relTolerance` of each other. SLO attainment falls as the rate rises, so
 * the bisection converges on the boundary; each probe is a full serving run.
 */

export interface CapacityRun {
  readonly rateScale: number;
  readonly attainment: number;
  readonly meets: boolean;
}

export interface CapacityResult {
  /** The highest scale found to meet the SLOs (0 when even the lowest tried fails). */
  readonly rateScale: number;
  /** The lowest scale found to fail (Infinity when even the highest tried meets). */
  readonly failsAt: number;
  readonly runs: readonly CapacityRun[];
}

export function findCapacity(attainmentAt: (rateScale: number) => number, share: number, opts: { start?: number; relTolerance?: number; minScale?: number; maxScale?: number } = {}): CapacityResult {
  const runs: CapacityRun[] = [];
  const tol = opts.relTolerance ?? 0.02;
  const min = opts.minScale ?? 1e-4;
  const max = opts.maxScale ?? 1e4;
  const test = (r: number) => {
    const attainment = attainmentAt(r);
    const meets = attainment >= share;
    runs.push({ rateScale: r, attainment, meets });
    return meets;
  };
  let lo = 0;
  let hi = Number.POSITIVE_INFINITY;
  let r = opts.start ?? 1;
  if (test(r)) {
    lo = r;
    while (hi === Number.POSITIVE_INFINITY && r * 2 <= max) {
      r *= 2;
      if (test(r)) lo = r;
      else hi = r;
    }
  } else {
    hi = r;
    while (lo === 0 && r / 2 >= min) {
      r /= 2;
      if (test(r)) lo = r;
      else hi = r;
    }
  }
  if (lo === 0 || hi === Number.POSITIVE_INFINITY) return { rateScale: lo, failsAt: hi, runs };
  while (hi / lo - 1 > tol) {
    const mid = Math.sqrt(lo * hi);
    if (test(mid)) lo = mid;
    else hi = mid;
  }
  return { rateScale: lo, failsAt: hi, runs };
}
