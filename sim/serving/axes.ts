/**
 * The axes of the step-time memo (docs/serving.md). An axis maps a query
 * coordinate to the two lattice nodes around it; the memo interpolates linearly between
 * them (multilinearly over several axes).
 *
 * - `ExactAxis`: every value is a node (no interpolation).
 * - `RefinedAxis`: nodes start on a geometric base lattice (min, then first, 2 x first,
 *   4 x first, ... as far as the queries go: step times grow about linearly in rows and
 *   in attended positions, so relative errors stay even across scales). An interval is
 *   used for interpolation only once checks inside it were simulated and matched the
 *   interpolation within the tolerance; a failed check splits the interval at the point
 *   checked and the checks repeat in the part that holds the query (adaptive bisection).
 *   Nodes are whole numbers (rows, positions), so refinement ends at adjacent integers.
 *   The checks are the midpoint and, on row axes, the row just past the lower node:
 *   blocked kernels (8-row GEMM blocks, DMEM row blocks) jump right after a block
 *   boundary, where a midpoint alone would not look.
 */

export type Bracket = readonly [lo: number, hi: number];

/** Does the interpolation between lo and hi predict `at` within the tolerance? (simulates `at`) */
export type PointCheck = (lo: number, at: number, hi: number) => boolean;

export interface Axis {
  bracket(v: number, check: PointCheck): Bracket;
}

export class ExactAxis implements Axis {
  bracket(v: number): Bracket {
    return [v, v];
  }
}

export class RefinedAxis implements Axis {
  /** Sorted node values. */
  readonly nodes: number[];
  /** Lower ends of intervals whose checks passed. */
  private readonly verified = new Set<number>();
  checks = 0;
  splits = 0;

  constructor(
    readonly min: number,
    /** Second base node; the base lattice doubles from it. */
    readonly first: number,
    /** Largest value that can occur (Infinity: the lattice extends as queries need). */
    readonly max: number,
    /** Rows: also check the value just past the lower node. */
    readonly checkPastLow: boolean,
  ) {
    this.nodes = [min];
    if (max > min) this.nodes.push(Math.min(max, Math.max(first, min + 1)));
  }

  private locate(v: number): number {
    // last node <= v (binary search)
    let lo = 0;
    let hi = this.nodes.length - 1;
    while (lo < hi) {
      const m = (lo + hi + 1) >> 1;
      if (this.nodes[m] <= v) lo = m;
      else hi = m - 1;
    }
    return lo;
  }

  /** Extend the base lattice (doubling) until it covers v. */
  private cover(v: number): void {
    if (v < this.nodes[0]) {
      this.nodes.unshift(v);
      return;
    }
    let last = this.nodes[this.nodes.length - 1];
    while (last < v && last < this.max) {
      last = Math.min(this.max, Math.max(last + 1, last * 2));
      this.nodes.push(last);
    }
    if (last < v) this.nodes.push(v); // beyond the declared maximum: a node of its own
  }

  /** The nodes around v without refining (for anchoring checks on another axis). */
  peek(v: number): Bracket {
    const i = this.locate(v);
    const lo = this.nodes[i];
    return lo === v || i + 1 >= this.nodes.length ? [lo, lo] : [lo, this.nodes[i + 1]];
  }

  bracket(v: number, check: PointCheck): Bracket {
    this.cover(v);
    for (;;) {
      const i = this.locate(v);
      const lo = this.nodes[i];
      if (lo === v || i + 1 >= this.nodes.length) return [lo, lo];
      const hi = this.nodes[i + 1];
      if (this.verified.has(lo) || hi - lo <= 1) return [lo, hi];
      const mid = Math.floor((lo + hi) / 2);
      const points = this.checkPastLow && hi - lo >= 4 ? [lo + 1, mid] : [mid];
      let failed: number | undefined;
      for (const p of points) {
        this.checks++;
        if (!check(lo, p, hi)) {
          failed = p;
          break;
        }
      }
      if (failed === undefined) {
        this.verified.add(lo);
        continue;
      }
      // split where the interpolation failed; the check repeats in the part holding v
      this.splits++;
      this.nodes.splice(i + 1, 0, failed);
    }
  }
}
