import type { Rng } from '../random/rng.js';

/**
 * Synthetic traffic patterns (Dally & Towles, Table 3.2; BookSim's names). Coordinates:
 * x = column, y = row, tile = y x cols + x. Each pattern maps a source to a destination,
 * drawing from the source's own random stream where it is random.
 */
export const TRAFFIC_PATTERNS = ['uniform', 'transpose', 'bitcomp', 'tornado', 'neighbor', 'hotspot'] as const;
export type TrafficPattern = (typeof TRAFFIC_PATTERNS)[number];

export interface PatternOptions {
  /** uniform and hotspot: may a node pick itself (then the packet turns round in its own router). Default false. */
  selfAllowed?: boolean;
  /** hotspot: the hotspot tiles (default: the centre tile). */
  hotspots?: readonly number[];
  /** hotspot: fraction of packets sent to a hotspot, the rest uniform (default 0.2). */
  hotspotFraction?: number;
}

export type DestinationFn = (src: number, rng: Rng) => number;

export function destinationFunction(pattern: TrafficPattern, rows: number, cols: number, opts: PatternOptions = {}): DestinationFn {
  const n = rows * cols;
  const self = opts.selfAllowed ?? false;
  const uniform: DestinationFn = (src, rng) => {
    if (self) return rng.int(0, n - 1);
    if (n === 1) throw new RangeError('uniform traffic on a 1x1 mesh needs selfAllowed: there is no other node');
    const d = rng.int(0, n - 2); // every other node with equal probability
    return d >= src ? d + 1 : d;
  };
  switch (pattern) {
    case 'uniform':
      return uniform;
    case 'transpose':
      // (x, y) -> (y, x); needs a square mesh
      return (src) => (src % cols) * cols + Math.floor(src / cols);
    case 'bitcomp':
      // complement of every coordinate bit: (x, y) -> (k - 1 - x, k - 1 - y), i.e. n - 1 - src
      return (src) => n - 1 - src;
    case 'tornado':
      // half-way round each ring: x -> (x + ceil(k/2) - 1) mod k, same for y
      return (src) => {
        const x = src % cols;
        const y = Math.floor(src / cols);
        return ((y + Math.ceil(rows / 2) - 1) % rows) * cols + ((x + Math.ceil(cols / 2) - 1) % cols);
      };
    case 'neighbor':
      // x -> x + 1 mod k, y -> y + 1 mod k
      return (src) => {
        const x = src % cols;
        const y = Math.floor(src / cols);
        return ((y + 1) % rows) * cols + ((x + 1) % cols);
      };
    case 'hotspot': {
      const spots = opts.hotspots?.length ? opts.hotspots : [Math.floor(rows / 2) * cols + Math.floor(cols / 2)];
      const frac = opts.hotspotFraction ?? 0.2;
      return (src, rng) => (rng.next() < frac ? spots[rng.int(0, spots.length - 1)] : uniform(src, rng));
    }
  }
}
