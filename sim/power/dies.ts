/**
 * Dies beyond the reticle (docs/power.md "Dies"): a chip larger than one lithography
 * exposure field is built as several dies joined by die-to-die links. The mesh is cut into
 * a grid of `dieRows` x `dieCols` dies along tile rows and columns (bands as even as the
 * mesh allows); the layout is the grid with the fewest dies whose every die fits the
 * reticle, ties broken by the fewest mesh links cut. Mesh links between tiles on different
 * dies are die-to-die links: they cost dieToDiePjPerBit and add dieToDieLatencyNs.
 */
export interface DieLayout {
  /** Dies the design needs (1 when it fits one reticle). */
  readonly count: number;
  readonly dieRows: number;
  readonly dieCols: number;
  /** First mesh row of each die row, and one past the last (length dieRows + 1). */
  readonly rowCuts: readonly number[];
  /** First mesh column of each die column, and one past the last (length dieCols + 1). */
  readonly colCuts: readonly number[];
  /** The largest die (mm2, chip overhead included). */
  readonly largestDieMm2: number;
  readonly reticleLimitMm2: number;
  /** False when even one tile per die exceeds the reticle. */
  readonly fits: boolean;
}

/** Even cuts of `n` mesh lines into `k` bands. */
function cuts(n: number, k: number): number[] {
  return Array.from({ length: k + 1 }, (_, i) => Math.round((i * n) / k));
}

/**
 * The die layout of a rows x cols mesh whose tiles (row-major) take `tileMm2` each (chip
 * overhead included), under a reticle of `reticleMm2`.
 */
export function dieLayout(rows: number, cols: number, tileMm2: readonly number[], reticleMm2: number): DieLayout {
  // prefix sums: sum of tiles in rows [0, r) and columns [0, c)
  const S = new Float64Array((rows + 1) * (cols + 1));
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) S[(r + 1) * (cols + 1) + c + 1] = tileMm2[r * cols + c] + S[r * (cols + 1) + c + 1] + S[(r + 1) * (cols + 1) + c] - S[r * (cols + 1) + c];
  const rect = (r0: number, r1: number, c0: number, c1: number) => S[r1 * (cols + 1) + c1] - S[r0 * (cols + 1) + c1] - S[r1 * (cols + 1) + c0] + S[r0 * (cols + 1) + c0];
  const largest = (rc: number[], cc: number[]) => {
    let m = 0;
    for (let i = 0; i + 1 < rc.length; i++) for (let j = 0; j + 1 < cc.length; j++) m = Math.max(m, rect(rc[i], rc[i + 1], cc[j], cc[j + 1]));
    return m;
  };
  const total = rect(0, rows, 0, cols);
  const atLeast = Math.max(1, Math.ceil(total / reticleMm2 - 1e-12));
  let best: { count: number; cut: number; dr: number; dc: number; big: number } | undefined;
  for (let dr = 1; dr <= rows; dr++) {
    for (let dc = Math.max(1, Math.ceil(atLeast / dr)); dc <= cols; dc++) {
      if (best && dr * dc > best.count) break;
      const big = largest(cuts(rows, dr), cuts(cols, dc));
      if (big > reticleMm2) continue;
      const cut = (dr - 1) * cols + (dc - 1) * rows;
      if (!best || dr * dc < best.count || (dr * dc === best.count && cut < best.cut)) best = { count: dr * dc, cut, dr, dc, big };
      break; // a larger dc only adds dies
    }
  }
  const fits = best !== undefined;
  const b = best ?? { count: rows * cols, dr: rows, dc: cols, big: Math.max(...tileMm2) };
  return { count: b.count, dieRows: b.dr, dieCols: b.dc, rowCuts: cuts(rows, b.dr), colCuts: cuts(cols, b.dc), largestDieMm2: b.big, reticleLimitMm2: reticleMm2, fits };
}

/** The die band a mesh line (row or column) `i` lies in, given the cuts. */
function band(cutsAt: readonly number[], i: number): number {
  let b = 0;
  while (b + 2 < cutsAt.length && i >= cutsAt[b + 1]) b++;
  return b;
}

/** Die index (row-major over the die grid) of tile `tile` of a mesh with `cols` columns. */
export function dieOfTile(d: DieLayout, cols: number, tile: number): number {
  return band(d.rowCuts, Math.floor(tile / cols)) * d.dieCols + band(d.colCuts, tile % cols);
}

/**
 * Die boundaries a dimension-order (XY or YX) route from `src` to `dst` crosses: the
 * column-band boundaries between the two columns plus the row-band boundaries between
 * the two rows (the order of the dimensions does not change the count on a grid).
 */
export function dieCrossings(d: DieLayout, cols: number, src: number, dst: number): number {
  if (d.count === 1) return 0;
  const rb = Math.abs(band(d.rowCuts, Math.floor(src / cols)) - band(d.rowCuts, Math.floor(dst / cols)));
  const cb = Math.abs(band(d.colCuts, src % cols) - band(d.colCuts, dst % cols));
  return rb + cb;
}
