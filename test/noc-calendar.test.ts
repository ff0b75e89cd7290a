import { BusyCalendar } from '../sim/noc/busyCalendar.js';
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

describe('BusyCalendar', () => {
  test('fit, add and take match a bitmap while the intervals fit its capacity (random operations)', () => {
    const rng = new Rng(11, 'test/busy-calendar');
    let checked = 0;
    for (let trial = 0; trial < 1500; trial++) {
      const gaps = rng.int(1, 8);
      const cal = new BusyCalendar(gaps);
      const busy = new Uint8Array(4000);
      let now = 0;
      for (let op = 0; op < 40; op++) {
        now += rng.int(0, 5);
        if (liveIntervals(busy, now) > gaps) break;
        const from = now + rng.int(0, 80);
        const len = rng.int(1, 20);
        const kind = rng.int(0, 2);
        if (kind === 0) {
          expect(cal.fit(now, from, len)).toBe(bitmapFit(busy, from, len));
          checked++;
        } else if (kind === 1) {
          cal.add(now, from, from + len);
          busy.fill(1, from, from + len);
        } else {
          const [first, last] = bitmapTake(busy, from, len);
          expect([cal.take(now, from, len), cal.firstTaken]).toEqual([last, first]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  test('beyond its capacity it merges the closest intervals: never earlier than the bitmap', () => {
    const rng = new Rng(12, 'test/busy-calendar-full');
    for (let trial = 0; trial < 300; trial++) {
      const cal = new BusyCalendar(2);
      const busy = new Uint8Array(4000);
      for (let op = 0; op < 30; op++) {
        const from = rng.int(0, 2000);
        const len = rng.int(1, 30);
        if (rng.next() < 0.6) {
          cal.add(0, from, from + len);
          busy.fill(1, from, from + len);
        } else expect(cal.fit(0, from, len)).toBeGreaterThanOrEqual(bitmapFit(busy, from, len));
      }
    }
  });

  test('capacity out of range is refused', () => {
    expect(() => new BusyCalendar(0)).toThrow(RangeError);
    expect(() => new BusyCalendar(1.5)).toThrow(RangeError);
  });
});
