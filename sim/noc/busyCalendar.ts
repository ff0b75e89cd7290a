/**
 * The busy time of one network resource (a port's link, a virtual channel) as sorted,
 * disjoint intervals [start, end) of cycles. The message-level model reserves resources
 * ahead of time (with path reservation, a whole route when the message is injected), so a
 * message processed later may need a resource earlier than one processed before it: it
 * takes a gap before that reservation instead of queueing behind it (backfilling). A single
 * "free from" cycle per resource would make every reservation in the future block all
 * traffic before it, which on random traffic runs away into false saturation.
 *
 * Intervals that end at or before the `now` passed in are forgotten (nothing is ever
 * reserved in the past). The latest interval lives in two fields, so the common cases
 * (reserving after, or extending, the latest reservation) touch no array. At most `gaps`
 * earlier intervals are kept (the calibration's calendarGaps); beyond that the two separated
 * by the shortest gap are merged (that gap is given up: a conservative, bounded-cost
 * calendar).
 */
export const MAX_CALENDAR_GAPS = 64;

/** Scratch for the slow paths: every interval plus the pieces `take` adds. */
const scratch = new Float64Array(4 * MAX_CALENDAR_GAPS + 8);

export class BusyCalendar {
  private lastStart = 0;
  private lastEnd = 0;
  /** earlier intervals, flattened start/end pairs, `count` of them */
  private older: Float64Array | null = null;
  private count = 0;

  constructor(private readonly gaps: number) {
    if (!(Number.isInteger(gaps) && gaps >= 1 && gaps <= MAX_CALENDAR_GAPS)) throw new RangeError(`calendar gaps ${gaps} must be an integer in 1..${MAX_CALENDAR_GAPS}`);
  }

  /** The cycle from which nothing is reserved (0 when nothing is). */
  end(): number {
    return this.lastEnd;
  }

  /** Earliest s >= from with [s, s + len) free. */
  fit(now: number, from: number, len: number): number {
    if (from >= this.lastEnd) return from;
    if (this.count === 0) return from + len <= this.lastStart ? from : this.lastEnd;
    const n = this.gather(now);
    let s = from;
    for (let i = 0; i < n; i += 2) {
      if (scratch[i + 1] <= s) continue;
      if (scratch[i] >= s + len) break;
      s = scratch[i + 1];
    }
    return s;
  }

  /** Mark [start, end) busy (a union with what is already reserved). */
  add(now: number, start: number, end: number): void {
    if (end <= start) return;
    if (start > this.lastEnd) {
      // a new latest interval; the previous one is kept only while it is still ahead
      if (this.lastEnd > now) this.pushOlder(now);
      this.lastStart = start;
      this.lastEnd = end;
      return;
    }
    if (start >= this.lastStart || (this.count === 0 && end >= this.lastStart)) {
      if (start < this.lastStart) this.lastStart = start;
      if (end > this.lastEnd) this.lastEnd = end;
      return;
    }
    const n = this.gather(now);
    this.scatter(insert(n, start, end));
  }

  /** The first cycle the last `take` took. */
  firstTaken = 0;

  /**
   * Take the first `n` free cycles at or after `from` (one flit per cycle through a gap-
   * filling port) and return the last cycle taken (the first is left in `firstTaken`).
   */
  take(now: number, from: number, n: number): number {
    if (from >= this.lastEnd) {
      this.add(now, from, from + n);
      this.firstTaken = from;
      return from + n - 1;
    }
    let len = this.gather(now);
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
    this.scatter(len);
    this.firstTaken = first;
    return last;
  }

  /** The latest interval joins the earlier ones (merging across the shortest gap when full). */
  private pushOlder(now: number): void {
    let o = this.older ?? (this.older = new Float64Array(4));
    if (this.count > 0 && o[1] <= now) this.count = pruneInto(o, this.count, now);
    if (this.count === this.gaps) {
      // the shortest gap among older[0], ..., older[count - 1], latest
      const c = this.count;
      let best = c - 1;
      let bestGap = this.lastStart - o[2 * c - 1];
      for (let i = 0; i + 1 < c; i++) {
        const gap = o[2 * i + 2] - o[2 * i + 1];
        if (gap < bestGap) {
          bestGap = gap;
          best = i;
        }
      }
      if (best === c - 1) {
        this.lastStart = o[2 * c - 2];
        this.count--;
      } else {
        o[2 * best + 1] = o[2 * best + 3];
        o.copyWithin(2 * best + 2, 2 * best + 4, 2 * c);
        this.count--;
      }
    }
    o = this.room(this.count + 1);
    o[2 * this.count] = this.lastStart;
    o[2 * this.count + 1] = this.lastEnd;
    this.count++;
  }

  /** `older`, grown (doubling, most calendars need one or two) to hold `pairs` intervals. */
  private room(pairs: number): Float64Array {
    const o = this.older;
    if (o !== null && o.length >= 2 * pairs) return o;
    const grown = new Float64Array(Math.max(4, Math.min(2 * this.gaps, 2 * Math.max(pairs, o ? o.length : 0))));
    if (o) grown.set(o.subarray(0, 2 * this.count));
    this.older = grown;
    return grown;
  }

  /** Every interval still ahead of `now` into `scratch` (the latest last); returns its length. */
  private gather(now: number): number {
    let n = 0;
    const o = this.older;
    for (let i = 0; i < this.count; i++) {
      if (o![2 * i + 1] <= now) continue;
      scratch[n++] = o![2 * i];
      scratch[n++] = o![2 * i + 1];
    }
    scratch[n++] = this.lastStart;
    scratch[n++] = this.lastEnd;
    return n;
  }

  /** `scratch[0..n)` back into the calendar, merging across the shortest gaps beyond capacity. */
  private scatter(n: number): void {
    while (n > 2 * (this.gaps + 1)) n = mergeClosest(n);
    this.lastStart = scratch[n - 2];
    this.lastEnd = scratch[n - 1];
    const o = this.room((n - 2) / 2);
    for (let i = 0; i < n - 2; i++) o[i] = scratch[i];
    this.count = (n - 2) / 2;
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

/** Drop the pairs of o[0..2 count) that end at or before `now`; returns the new count. */
function pruneInto(o: Float64Array, count: number, now: number): number {
  let k = 0;
  for (let i = 0; i < count; i++) {
    if (o[2 * i + 1] <= now) continue;
    o[2 * k] = o[2 * i];
    o[2 * k + 1] = o[2 * i + 1];
    k++;
  }
  return k;
}
