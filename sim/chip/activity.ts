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
  // each record gets its keys in one order (the counters', ROM idle cycles in its place or
  // last), so the 1,722 records of the largest presets share their shapes and stay
  // fast-properties objects for the power report, with no [name, value] pair per entry
  const names = [...tileCounters.keys()];
  const arrays = [...tileCounters.values()];
  const tileRecords: CounterRecord[] = new Array(nTiles);
  for (let t = 0; t < nTiles; t++) {
    const record: CounterRecord = {};
    let romBusy = 0;
    for (let k = 0; k < names.length; k++) {
      const v = arrays[k][t];
      if (!v) continue;
      if (names[k] === 'tile.romBusyCycles') romBusy = v;
      record[names[k]] = v;
    }
    // replaces the counter's value where it is, or comes last
    record['tile.romIdleCycles'] = Math.max(0, simulatedCycles - romBusy);
    tileRecords[t] = record;
  }
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
