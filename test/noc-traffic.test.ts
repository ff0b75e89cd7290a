import { Rng } from '../sim/random/rng.js';
import { destinationFunction } from '../sim/noc/traffic.js';

describe('traffic patterns (x = column, y = row)', () => {
  const rng = new Rng(1, 'test');
  const at = (x: number, y: number, k: number) => y * k + x;
  test('permutations on 8x8 from their definitions', () => {
    const k = 8;
    const f = (p: 'transpose' | 'bitcomp' | 'tornado' | 'neighbor') => destinationFunction(p, k, k);
    for (let y = 0; y < k; y++) {
      for (let x = 0; x < k; x++) {
        const s = at(x, y, k);
        expect(f('transpose')(s, rng)).toBe(at(y, x, k));
        expect(f('bitcomp')(s, rng)).toBe(at(7 - x, 7 - y, k)); // every address bit complemented
        expect(f('tornado')(s, rng)).toBe(at((x + 3) % 8, (y + 3) % 8, k));
        expect(f('neighbor')(s, rng)).toBe(at((x + 1) % 8, (y + 1) % 8, k));
      }
    }
  });

  test('uniform excludes the source unless allowed and covers every other node; hotspot favours the centre', () => {
    const u = destinationFunction('uniform', 4, 4);
    const seen = new Set<number>();
    for (let i = 0; i < 4000; i++) {
      const d = u(5, rng);
      expect(d).not.toBe(5);
      seen.add(d);
    }
    expect(seen.size).toBe(15);
    const self = destinationFunction('uniform', 4, 4, { selfAllowed: true });
    let selfHits = 0;
    for (let i = 0; i < 4000; i++) if (self(5, rng) === 5) selfHits++;
    expect(selfHits).toBeGreaterThan(150); // about 1/16 of 4000
    const h = destinationFunction('hotspot', 4, 4, { hotspotFraction: 0.5 });
    let centre = 0;
    for (let i = 0; i < 4000; i++) if (h(0, rng) === 10) centre++;
    expect(centre / 4000).toBeGreaterThan(0.5); // 0.5 + 0.5/15
    expect(centre / 4000).toBeLessThan(0.6);
  });
});
