import { Rng } from '../sim/random/rng.js';

const draw = (r: Rng, n = 8) => Array.from({ length: n }, () => r.nextUint32());

describe('seeded random streams', () => {
  test('same seed and stream path give the same sequence; others differ', () => {
    expect(draw(new Rng(7).stream('noc'))).toEqual(draw(new Rng(7).stream('noc')));
    expect(draw(new Rng(7).stream('noc'))).not.toEqual(draw(new Rng(8).stream('noc')));
    expect(draw(new Rng(7).stream('noc'))).not.toEqual(draw(new Rng(7).stream('tile')));
    expect(draw(new Rng(7).stream('a').stream('b'))).toEqual(draw(new Rng(7, 'a/b')));
  });

  test('a stream does not depend on other streams being drawn from', () => {
    const root = new Rng(3);
    const a1 = draw(root.stream('a'));
    const other = root.stream('b');
    draw(other, 1000);
    expect(draw(root.stream('a'))).toEqual(a1);
  });

  test('large and negative-free seeds above 2^32 are distinct', () => {
    expect(draw(new Rng(1))).not.toEqual(draw(new Rng(1 + 2 ** 32)));
  });

  test('next() in [0,1); int(lo,hi) inclusive and roughly uniform', () => {
    const r = new Rng(11, 'uniform');
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      counts[r.int(1, 6) - 1]++;
    }
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400); // ~4.4 sigma
    expect(() => r.int(3, 2)).toThrow(RangeError);
  });

  test('exponential mean and bernoulli rate are right within sampling error', () => {
    const r = new Rng(5);
    let s = 0;
    let hits = 0;
    const n = 50000;
    for (let i = 0; i < n; i++) {
      s += r.exponential(10);
      if (r.bernoulli(0.3)) hits++;
    }
    expect(Math.abs(s / n - 10)).toBeLessThan(0.2); // sd of mean = 10/sqrt(n) = 0.045
    expect(Math.abs(hits / n - 0.3)).toBeLessThan(0.01);
  });
});
