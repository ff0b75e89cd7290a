import type { Design } from '../design/design.js';
import type { CounterRecord } from '../counters/counter.js';
import type { LinkLoad } from '../power/report.js';

/**
 * A run's activity in the form the power report takes: one counter record per tile (with
 * the ROM's idle, power-gated cycles over the window), the chip-wide record (NoC counters
 * plus the tiles' sums) and the load of every directed mesh link.
 */
export function chipActivity(
  design: Design,
  tileCounters: ReadonlyMap<string, ArrayLike<number>>,
  nocCounters: CounterRecord,
  simulatedCycles: number,
): { readonly tileRecords: CounterRecord[]; readonly chip: CounterRecord } {
  const nTiles = design.mesh.rows * design.mesh.cols;
  // each record made in one go by Object.fromEntries, which keeps it a fast-properties
  // object: the power report enumerates 1,722 of them on the largest presets
  const counterArrays = [...tileCounters];
  const tileRecords: CounterRecord[] = Array.from({ length: nTiles }, (_, t) => {
    const entries: [string, number][] = [];
    let idle = -1;
    let romBusy = 0;
    for (const [name, arr] of counterArrays) {
      if (!arr[t]) continue;
      if (name === 'tile.romIdleCycles') idle = entries.length;
      if (name === 'tile.romBusyCycles') romBusy = arr[t];
      entries.push([name, arr[t]]);
    }
    const romIdle = Math.max(0, simulatedCycles - romBusy);
    if (idle >= 0) entries[idle][1] = romIdle;
    else entries.push(['tile.romIdleCycles', romIdle]);
    return Object.fromEntries(entries);
  });
  const chip: CounterRecord = { ...nocCounters };
  for (const r of tileRecords) for (const k in r) chip[k] = (chip[k] ?? 0) + r[k];
  return { tileRecords, chip };
}

/** Flits on each directed link (router port p of router r carries flits to its neighbour; `linkFlits` is indexed r x 5 + p). */
export function linkLoads(design: Design, linkFlits: ArrayLike<number>): LinkLoad[] {
  const { rows, cols } = design.mesh;
  const links: LinkLoad[] = [];
  for (let r = 0; r < rows * cols; r++) {
    const row = Math.floor(r / cols);
    const col = r % cols;
    const to: [number, number][] = [[row - 1, col], [row, col + 1], [row + 1, col], [row, col - 1]];
    for (let p = 1; p <= 4; p++) {
      const [tr, tc] = to[p - 1];
      if (tr < 0 || tc < 0 || tr >= rows || tc >= cols) continue;
      links.push({ from: [row, col], to: [tr, tc], flits: linkFlits[r * 5 + p] });
    }
  }
  return links;
}
