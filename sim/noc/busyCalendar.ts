/**
 * The busy time of network resources (ports' links, virtual channels, injection channels),
 * each as sorted, disjoint intervals [start, end) of cycles: a table of calendars, one per
 * resource, addressed by index and stored as flat arrays (a large mesh has tens of
 * thousands of them; one object each cost more in allocation and garbage collection than
 * the reservations themselves). The message-level model reserves resources
 * ahead of time (with path reservation, a whole route when the message is injected), so a
 * message processed later may need a resource earlier than one processed before it: it
 * takes a gap before that reservation instead of queueing behind it (backfilling). A single
 * "free from" cycle per resource would make every reservation in the future block all
 * traffic before it, which on random traffic runs away into false saturation.
 *
 * Intervals that end at or before the `now` passed in are forgotten (nothing is ever
 * reserved in the past). A calendar's latest interval has its own two slots, so the common
 * cases (reserving after, or extending, the latest reservation) touch nothing else. At most `gaps`
 * earlier intervals are kept (the calibration's calendarGaps); beyond that the two separated
 * by the shortest gap are merged (that gap is given up: a conservative, bounded-cost
 * calendar).
 */
export const MAX_CALENDAR_GAPS = 64;

/** Scratch for the slow paths: every interval plus the pieces `take` adds. */
const scratch = new Float64Array(4 * MAX_CALENDAR_GAPS + 8);

export class CalendarTable {
  /** per calendar, its latest interval */
  private readonly lastStart: Float64Array;
  private readonly lastEnd: Float64Array;
  /** per calendar, how many earlier intervals it holds, and where they are in `older` (-1: no room yet) */
  private readonly count: Int32Array;
  private readonly at: Int32Array;
  /** earlier intervals: `gaps` start/end pairs per calendar that needed them, handed out on first use */
  private older: Float64Array;
  private olderUsed = 0;

  /** The first cycle the last `take` took. */
  firstTaken = 0;

  constructor(
    readonly calendars: number,
    private readonly gaps: number,
  ) {
    if (!(Number.isInteger(gaps) && gaps >= 1 && gaps <= MAX_CALENDAR_GAPS)) throw new RangeError(`calendar gaps ${gaps} must be an integer in 1..${MAX_CALENDAR_GAPS}`);
    this.lastStart = new Float64Array(calendars);
    this.lastEnd = new Float64Array(calendars);
    this.count = new Int32Array(calendars);
    this.at = new Int32Array(calendars).fill(-1);
    this.older = new Float64Array(Math.min(calendars, 256) * 2 * gaps);
  }

  /** The cycle from which calendar c has nothing reserved (0 when nothing is). */
  end(c: number): number {
    return this.lastEnd[c];
  }

  /** Earliest s >= from with [s, s + len) free in calendar c. */
  fit(c: number, now: number, from: number, len: number): number {
    if (from >= this.lastEnd[c]) return from;
    if (this.count[c] === 0) return from + len <= this.lastStart[c] ? from : this.lastEnd[c];
    const n = this.gather(c, now);
    let s = from;
    for (let i = 0; i < n; i += 2) {
      if (scratch[i + 1] <= s) continue;
      if (scratch[i] >= s + len) break;
      s = scratch[i + 1];
    }
    return s;
  }

  /** Mark [start, end) of calendar c busy (a union with what is already reserved). */
  add(c: number, now: number, start: number, end: number): void {
    if (end <= start) return;
    const lastEnd = this.lastEnd[c];
    if (start > lastEnd) {
      // a new latest interval; the previous one is kept only while it is still ahead
      if (lastEnd > now) this.pushOlder(c, now);
      this.lastStart[c] = start;
      this.lastEnd[c] = end;
      return;
    }
    const lastStart = this.lastStart[c];
    if (start >= lastStart || (this.count[c] === 0 && end >= lastStart)) {
      if (start < lastStart) this.lastStart[c] = start;
      if (end > lastEnd) this.lastEnd[c] = end;
      return;
    }
    const n = this.gather(c, now);
    this.scatter(c, insert(n, start, end));
  }

  /**
   * Take the first `n` free cycles of calendar c at or after `from` (one flit per cycle
   * through a gap-filling port) and return the last cycle taken (the first is left in
   * `firstTaken`).
   */
  take(c: number, now: number, from: number, n: number): number {
    if (from >= this.lastEnd[c]) {
      this.add(c, now, from, from + n);
      this.firstTaken = from;
      return from + n - 1;
    }
    let len = this.gather(c, now);
    // the free gaps at or after `from`, in order, until n cycles are found
    let s = from;
    let left = n;
    let last = from;
    let first = -1;
    let i = 0;
    while (left > 0) {
      while (i < len && scratch[i + 1] <= s) i += 2;
      const gapEnd = i < len ? scratch[i] : Number.POSITIVE_INFINITY;
      if (s < gapEnd) {
        const k = Math.min(left, gapEnd - s);
        if (first < 0) first = s;
        len = insert(len, s, s + k);
        left -= k;
        last = s + k - 1;
        s += k;
        i = 0; // the piece may have merged with pairs before i
      } else s = scratch[i + 1];
    }
    this.scatter(c, len);
    this.firstTaken = first;
    return last;
  }

  /** Calendar c's latest interval joins its earlier ones (merging across the shortest gap when full). */
  private pushOlder(c: number, now: number): void {
    let base = this.at[c];
    if (base < 0) base = this.room(c);
    else if (this.count[c] > 0 && this.older[base + 1] <= now) this.count[c] = pruneInto(this.older, base, this.count[c], now);
    const older = this.older;
    let count = this.count[c];
    if (count === this.gaps) {
      // the shortest gap among older[0], ..., older[count - 1], latest
      let best = count - 1;
      let bestGap = this.lastStart[c] - older[base + 2 * count - 1];
      for (let i = 0; i + 1 < count; i++) {
        const gap = older[base + 2 * i + 2] - older[base + 2 * i + 1];
        if (gap < bestGap) {
          bestGap = gap;
          best = i;
        }
      }
      if (best === count - 1) this.lastStart[c] = older[base + 2 * count - 2];
      else {
        older[base + 2 * best + 1] = older[base + 2 * best + 3];
        older.copyWithin(base + 2 * best + 2, base + 2 * best + 4, base + 2 * count);
      }
      count--;
    }
    older[base + 2 * count] = this.lastStart[c];
    older[base + 2 * count + 1] = this.lastEnd[c];
    this.count[c] = count + 1;
  }

  /** Room for calendar c's earlier intervals (the pool doubles when it runs out); returns its base. */
  private room(c: number): number {
    const size = 2 * this.gaps;
    if (this.olderUsed + size > this.older.length) {
      const grown = new Float64Array(Math.max(2 * this.older.length, this.olderUsed + size));
      grown.set(this.older);
      this.older = grown;
    }
    const base = this.olderUsed;
    this.olderUsed += size;
    this.at[c] = base;
    return base;
  }

  /** Every interval of calendar c still ahead of `now` into `scratch` (the latest last); returns its length. */
  private gather(c: number, now: number): number {
    let n = 0;
    const o = this.older;
    const base = this.at[c];
    const count = this.count[c];
    for (let i = 0; i < count; i++) {
      if (o[base + 2 * i + 1] <= now) continue;
      scratch[n++] = o[base + 2 * i];
      scratch[n++] = o[base + 2 * i + 1];
    }
    scratch[n++] = this.lastStart[c];
    scratch[n++] = this.lastEnd[c];
    return n;
  }

  /** `scratch[0..n)` back into calendar c, merging across the shortest gaps beyond capacity. */
  private scatter(c: number, n: number): void {
    while (n > 2 * (this.gaps + 1)) n = mergeClosest(n);
    this.lastStart[c] = scratch[n - 2];
    this.lastEnd[c] = scratch[n - 1];
    const pairs = (n - 2) / 2;
    if (pairs > 0) {
      const base = this.at[c] < 0 ? this.room(c) : this.at[c];
      const o = this.older;
      for (let i = 0; i < n - 2; i++) o[base + i] = scratch[i];
    }
    this.count[c] = pairs;
  }
}

/** Union [start, end) into the sorted disjoint pairs scratch[0..n); returns the new length. */
function insert(n: number, start: number, end: number): number {
  let i = 0;
  while (i < n && scratch[i + 1] < start) i += 2;
  let j = i;
  let s = start;
  let e = end;
  while (j < n && scratch[j] <= end) {
    if (scratch[j] < s) s = scratch[j];
    if (scratch[j + 1] > e) e = scratch[j + 1];
    j += 2;
  }
  // replace pairs [i, j) by (s, e)
  const removed = (j - i) / 2;
  if (removed === 0) scratch.copyWithin(i + 2, i, n);
  else if (removed > 1) scratch.copyWithin(i + 2, j, n);
  scratch[i] = s;
  scratch[i + 1] = e;
  return n + 2 - 2 * removed;
}

/** Merge the two neighbouring pairs of scratch[0..n) separated by the shortest gap. */
function mergeClosest(n: number): number {
  let best = 0;
  let bestGap = Number.POSITIVE_INFINITY;
  for (let i = 0; i + 2 < n; i += 2) {
    const gap = scratch[i + 2] - scratch[i + 1];
    if (gap < bestGap) {
      bestGap = gap;
      best = i;
    }
  }
  scratch[best + 1] = scratch[best + 3];
  scratch.copyWithin(best + 2, best + 4, n);
  return n - 2;
}

/** Drop the pairs of o[base..base + 2 count) that end at or before `now`; returns the new count. */
function pruneInto(o: Float64Array, base: number, count: number, now: number): number {
  let k = 0;
  for (let i = 0; i < count; i++) {
    if (o[base + 2 * i + 1] <= now) continue;
    o[base + 2 * k] = o[base + 2 * i];
    o[base + 2 * k + 1] = o[base + 2 * i + 1];
    k++;
  }
  return k;
}
