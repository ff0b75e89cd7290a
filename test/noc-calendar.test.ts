import { CalendarTable } from '../sim/noc/busyCalendar.js';
import { Rng } from '../sim/random/rng.js';

/**
 * The message model's reservation calendar against a cycle-by-cycle bitmap: exact while it
 * holds no more intervals than it keeps; beyond that it only merges (gives up gaps), so it
 * never answers earlier than the bitmap.
 */
function bitmapFit(busy: Uint8Array, from: number, len: number): number {
  let s = from;
  for (;;) {
    let ok = true;
    for (let c = s; c < s + len; c++) {
      if (busy[c]) {
        ok = false;
        s = c + 1;
        break;
      }
    }
    if (ok) return s;
  }
}

function bitmapTake(busy: Uint8Array, from: number, n: number): [number, number] {
  let first = -1;
  let last = -1;
  for (let c = from, left = n; left > 0; c++) {
    if (busy[c]) continue;
    busy[c] = 1;
    if (first < 0) first = c;
    last = c;
    left--;
  }
  return [first, last];
}

function liveIntervals(busy: Uint8Array, now: number): number {
  let n = 0;
  for (let c = now; c < busy.length; c++) if (busy[c] && (c === now || !busy[c - 1])) n++;
  return n;
}

describe('CalendarTable', () => {
  test('fit, add and take match a bitmap while the intervals fit its capacity (random operations)', () => {
    const rng = new Rng(11, 'test/busy-calendar');
    let checked = 0;
    for (let trial = 0; trial < 1500; trial++) {
      const gaps = rng.int(1, 8);
      // calendar 1 of a table of 3 (the others stay empty)
      const cals = new CalendarTable(3, gaps);
      const busy = new Uint8Array(4000);
      let now = 0;
      for (let op = 0; op < 40; op++) {
        now += rng.int(0, 5);
        if (liveIntervals(busy, now) > gaps) break;
        const from = now + rng.int(0, 80);
        const len = rng.int(1, 20);
        const kind = rng.int(0, 2);
        if (kind === 0) {
          expect(cals.fit(1, now, from, len)).toBe(bitmapFit(busy, from, len));
          checked++;
        } else if (kind === 1) {
          cals.add(1, now, from, from + len);
          busy.fill(1, from, from + len);
        } else {
          const [first, last] = bitmapTake(busy, from, len);
          expect([cals.take(1, now, from, len), cals.firstTaken]).toEqual([last, first]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  test('beyond its capacity it merges the closest intervals: never earlier than the bitmap', () => {
    const rng = new Rng(12, 'test/busy-calendar-full');
    for (let trial = 0; trial < 300; trial++) {
      const cals = new CalendarTable(1, 2);
      const busy = new Uint8Array(4000);
      for (let op = 0; op < 30; op++) {
        const from = rng.int(0, 2000);
        const len = rng.int(1, 30);
        if (rng.next() < 0.6) {
          cals.add(0, 0, from, from + len);
          busy.fill(1, from, from + len);
        } else expect(cals.fit(0, 0, from, len)).toBeGreaterThanOrEqual(bitmapFit(busy, from, len));
      }
    }
  });

  test('many calendars of one table stay independent (their earlier intervals share a growing pool)', () => {
    const rng = new Rng(13, 'test/busy-calendar-table');
    const n = 300;
    const cals = new CalendarTable(n, 4);
    const busy = Array.from({ length: n }, () => new Uint8Array(1500));
    for (let op = 0; op < 8000; op++) {
      const c = rng.int(0, n - 1);
      const from = rng.int(0, 1200);
      const len = rng.int(1, 12);
      // stay within capacity: only reserve while the calendar holds few intervals
      if (liveIntervals(busy[c], 0) < 4) {
        const [first, last] = bitmapTake(busy[c], from, len);
        expect([cals.take(c, 0, from, len), cals.firstTaken]).toEqual([last, first]);
      } else expect(cals.fit(c, 0, from, len)).toBe(bitmapFit(busy[c], from, len));
    }
  });

  test('capacity out of range is refused', () => {
    expect(() => new CalendarTable(1, 0)).toThrow(RangeError);
    expect(() => new CalendarTable(1, 1.5)).toThrow(RangeError);
  });
});
