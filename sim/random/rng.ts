/**
 * Seeded pseudo-random numbers with independent named streams.
 *
 * Generator: xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number
 * generators", 2018), 32-bit state words so every operation stays in int32 arithmetic.
 * Stream seeding: the 32-bit FNV-1a hash of the stream path is mixed with the root seed
 * through splitmix32 to fill the four state words, so `rng.stream("noc/router/3")`
 * depends only on (root seed, path): adding a component never perturbs another's draws.
 */

/** splitmix32 step (a 32-bit variant of Steele et al.'s SplitMix). */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over the UTF-16 code units of `text`. */
function fnv1a(text: string, basis = 0x811c9dc5): number {
  let h = basis;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * @param seed root seed (any safe integer; `--seed` on the command line)
   * @param path stream path; the root stream is ""
   */
  constructor(
    readonly seed: number,
    readonly path = '',
  ) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed ${seed} must be a safe integer`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 0x100000000) >>> 0;
    const st = { s: fnv1a(path, fnv1a(`${hi}:${lo}`)) ^ lo };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1; // xoshiro's one forbidden state
  }

  /** An independent stream for a component, e.g. `rng.stream("tile/3/2")`. */
  stream(name: string): Rng {
    return new Rng(this.seed, this.path ? `${this.path}/${name}` : name);
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive); unbiased by rejection. */
  int(lo: number, hi: number): number {
    const span = hi - lo + 1;
    if (!(span >= 1) || !Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || span > 4294967296) {
      throw new RangeError(`int(${lo}, ${hi}): need integers with lo <= hi and hi - lo < 2^32`);
    }
    const limit = 4294967296 - (4294967296 % span);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return lo + (x % span);
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** Exponential variate with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** Standard normal variate (Box-Muller; one of the pair is discarded for simplicity). */
  normal(mean = 0, sd = 1): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Pick one element uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty list');
    return items[this.int(0, items.length - 1)];
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
