/**
 * A machine-relative speed figure (issue 11): wall seconds of one simulation x the kernel
 * benchmark's events/s. On a shared machine both move with the load (3x between days, and
 * within a run when other jobs start or stop), so measuring the reference once before and
 * once after the cases compares a run with a reference taken seconds away under another
 * load. Here every round measures both, back to back: one simulation and one kernel
 * benchmark, in swapped order on alternate rounds (so neither always runs first, on a
 * cooler or a warmer machine). Every round is kept and printed as a summary: the median,
 * min and max of the walls, of the references and of the per-round products.
 *
 * The verdict is the median of the per-round products (each pairs a run with a reference
 * taken moments apart); the product of the two medians is printed beside it.
 */

export interface Rounds {
  readonly walls: readonly number[];
  readonly rates: readonly number[];
  /** wall x rate per round, in events (divide by 1e6 for the "M"). */
  readonly products: readonly number[];
}

/** `rounds` alternating rounds of `run` (returns its wall seconds) and `reference` (events/s). */
export async function interleavedRounds(rounds: number, run: () => number, reference: () => Promise<number>): Promise<Rounds> {
  const walls: number[] = [];
  const rates: number[] = [];
  for (let k = 0; k < rounds; k++) {
    let rate: number;
    let wall: number;
    if (k % 2 === 0) {
      rate = await reference();
      wall = run();
    } else {
      wall = run();
      rate = await reference();
    }
    walls.push(wall);
    rates.push(rate);
  }
  return { walls, rates, products: walls.map((w, k) => w * rates[k]) };
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Median (the middle value; the mean of the two middle ones for an even count), min and max. */
export function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, min: s[0], max: s[n - 1] };
}

/** The verdict's figure: the median of the per-round products, in events. */
export function roundsFigure(r: Rounds): number {
  return spread(r.products).median;
}

/** Lines describing the rounds (wall, reference, products) and the verdict against `targetM` (millions). */
export function describeRounds(r: Rounds, targetM: number): string[] {
  const w = spread(r.walls);
  const k = spread(r.rates);
  const p = spread(r.products);
  const m = (x: number) => (x / 1e6).toFixed(2);
  const figure = roundsFigure(r) / 1e6;
  return [
    `    ${r.walls.length} rounds, each one run and one kernel benchmark back to back (order swapped every round):`,
    `      wall median ${w.median.toFixed(3)} s (min ${w.min.toFixed(3)}, max ${w.max.toFixed(3)}); kernel median ${m(k.median)} M events/s (min ${m(k.min)}, max ${m(k.max)})`,
    `      wall x kernel events/s per round: median ${m(p.median)} M (min ${m(p.min)}, max ${m(p.max)}); product of the medians ${m(w.median * k.median)} M`,
    `      verdict on the per-round median: ${figure.toFixed(2)} M (target <= ${targetM} M: ${figure <= targetM ? 'met' : 'MISSED'})`,
  ];
}
