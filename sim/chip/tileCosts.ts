import type { Design, TileParams } from '../design/design.js';
import { resolveTiles } from '../design/tiles.js';
import type { CounterRecord } from '../counters/counter.js';
import { runKernel, type Fidelity } from '../tile/run.js';
import type { KernelSpec } from '../tile/kernels.js';
import { PRECISION_BITS } from '../units/precision.js';
import { workKey, type TileCost, type TileCostModel, type TileWork } from './work.js';

/**
 * Tile costs from the tile simulator (sim/tile): each piece of work becomes one or more
 * kernels run at the chosen fidelity (`fast`: block-level model; `detailed`: instruction
 * by instruction). Results are memoised on (tile parameters, work shape), so a detailed
 * run simulates each distinct kernel once however many tiles run it.
 *
 * Translation (docs/chip.md):
 * - linear slice: GEMV (one row) or GEMM, split into row blocks whose activations fit the
 *   tile's DMEM next to its reserve (streamed blocks); fused SiLU-gate adds a silu-gate kernel;
 * - attention: the GQA kernel over the tile's positions (the parts of its KV heads laid end
 *   to end); for q > 1 query rows, q runs at the mean keys per query (the causal triangle);
 * - combine, vectors, argmax, embedding reads and KV writes: their kernels.
 */
export class TileKernelCosts implements TileCostModel {
  private readonly tiles: TileParams[];
  /** Tiles with equal parameters share one cache. */
  private readonly classOf: Int32Array;
  private readonly caches: Map<string, TileCost>[] = [];
  /** The same per class keyed by the work object itself (step builders share equal work objects). */
  private readonly byObject: WeakMap<TileWork, TileCost>[] = [];
  /** Kernel-model events spent (cache misses only). */
  events = 0;
  kernelsRun = 0;

  constructor(
    private readonly design: Design,
    private readonly fidelity: Fidelity,
    /** DMEM bytes each tile keeps for the KV cache and activations (not available to one kernel). */
    private readonly reservedDmemBytes: (tile: number) => number = () => 0,
  ) {
    this.tiles = resolveTiles(design);
    const ids = new Map<string, number>();
    // tiles without overrides share one parameter object: its key is made once
    const byObject = new Map<TileParams, number>();
    this.classOf = new Int32Array(this.tiles.length);
    this.tiles.forEach((t, i) => {
      let id = byObject.get(t);
      if (id !== undefined) {
        this.classOf[i] = id;
        return;
      }
      const key = JSON.stringify(t);
      id = ids.get(key);
      if (id === undefined) {
        id = ids.size;
        ids.set(key, id);
        this.caches.push(new Map());
        this.byObject.push(new WeakMap());
      }
      byObject.set(t, id);
      this.classOf[i] = id;
    });
  }

  cost(tile: number, work: TileWork): TileCost {
    const cls = this.classOf[tile];
    const same = this.byObject[cls].get(work);
    if (same) return same;
    const cache = this.caches[cls];
    const key = workKey(work);
    const hit = cache.get(key);
    if (hit) {
      this.byObject[cls].set(work, hit);
      return hit;
    }
    const c = this.compute(tile, work);
    const cached = { ...c, events: 0 };
    cache.set(key, cached);
    this.byObject[cls].set(work, cached);
    return c;
  }

  /** Kernel runs per tile class, by kernel spec (a linear's GEMV is shared by its epilogue variants). */
  private readonly kernelRuns: Map<string, { cycles: number; counters: CounterRecord; events: number }>[] = [];

  private run(tile: number, spec: KernelSpec, times = 1, acc?: { cycles: number; counters: CounterRecord; events: number }) {
    const cls = this.classOf[tile];
    const runs = (this.kernelRuns[cls] ??= new Map());
    const key = JSON.stringify(spec);
    let r = runs.get(key);
    if (!r) {
      r = runKernel(this.tiles[tile], this.design.precision, spec, { fidelity: this.fidelity });
      runs.set(key, r);
      this.events += r.events;
      this.kernelsRun++;
    }
    if (!acc) {
      // the first run's counters in one go (a fast-properties object; 0 + x as the loop below would add)
      return { cycles: 0 + r.cycles * times, counters: Object.fromEntries(Object.entries(r.counters).map(([k, v]) => [k, 0 + v * times])), events: 0 + r.events };
    }
    const out = acc;
    out.cycles += r.cycles * times;
    out.events += r.events;
    for (const k in r.counters) out.counters[k] = (out.counters[k] ?? 0) + r.counters[k] * times;
    return out;
  }

  /**
   * Run a row-wise kernel over `rows` rows in blocks whose operands fit the DMEM left for
   * one kernel (activations stream through the tile block by block).
   */
  private blocked(tile: number, rows: number, bytesPerRow: number, spec: (n: number) => KernelSpec, acc?: { cycles: number; counters: CounterRecord; events: number }) {
    const room = Math.max(0, this.tiles[tile].dmemKiB * 1024 - this.reservedDmemBytes(tile));
    const block = Math.max(1, Math.min(rows, Math.floor(room / Math.max(1, bytesPerRow))));
    const full = Math.floor(rows / block);
    const rest = rows % block;
    const out = this.run(tile, spec(block), full, acc);
    if (rest) this.run(tile, spec(rest), 1, out);
    return out;
  }

  private compute(tile: number, w: TileWork): TileCost {
    const actB = PRECISION_BITS[this.design.precision.activations] / 8;
    switch (w.kind) {
      case 'linear': {
        const acc = this.blocked(tile, w.tokens, (w.cols + w.rows) * actB, (n) => (n === 1 ? { kind: 'gemv', rows: w.rows, cols: w.cols } : { kind: 'gemm', rows: w.rows, cols: w.cols, tokens: n }));
        return this.epilogue(tile, w, acc);
      }
      case 'attention': {
        const acc = w.kvWrites ? this.blocked(tile, w.kvWrites, 4 * w.headDim * actB, (n) => ({ kind: 'kv-write', entries: n, width: 2 * w.headDim })) : undefined;
        const kv = Math.max(1, w.kvPositions || Math.round(w.positions / Math.max(1, w.queries)));
        if (w.queries <= 1) return this.run(tile, { kind: 'attention', queryHeads: w.queryHeads, headDim: w.headDim, contextTokens: kv }, 1, acc);
        // queries x KV-head parts runs whose keys add up to `positions` exactly: some at
        // floor(mean), the rest at floor(mean) + 1
        const runs = w.queries * Math.max(1, w.kvHeads);
        const base = Math.floor(w.positions / runs);
        const longer = w.positions - base * runs;
        const spec = (keys: number): KernelSpec => ({ kind: 'attention', queryHeads: w.queryHeads, headDim: w.headDim, contextTokens: keys });
        if (base === 0) return this.run(tile, spec(1), Math.max(1, longer), acc);
        const out = this.run(tile, spec(base), runs - longer, acc);
        return longer ? this.run(tile, spec(base + 1), longer, out) : out;
      }
      case 'attentionCombine':
        return this.blocked(tile, w.tokens, 2 * w.queryHeads * (w.headDim + 2) * actB, (n) => ({ kind: 'attention-combine', parts: w.parts, heads: w.queryHeads, headDim: w.headDim, tokens: n }));
      case 'argmax':
        return this.run(tile, { kind: 'argmax', vocab: w.width }, w.tokens);
      case 'embeddingRead':
        return this.blocked(tile, w.rows, w.width * actB, (n) => ({ kind: 'rom-read', rows: n, width: w.width }));
      case 'kvWrite':
        return this.blocked(tile, w.tokens, 2 * w.width * actB, (n) => ({ kind: 'kv-write', entries: n, width: w.width }));
      case 'vector': {
        const perRow = 3 * w.width * actB + 64;
        const rows = (make: (n: number) => KernelSpec) => this.blocked(tile, w.tokens, perRow, make, w.residual ? this.blocked(tile, w.tokens, perRow, (n) => ({ kind: 'residual', dim: w.width, tokens: n })) : undefined);
        switch (w.op) {
          case 'rmsnorm':
            return rows((n) => ({ kind: 'rmsnorm', dim: w.width, tokens: n }));
          case 'layernorm':
            return rows((n) => ({ kind: 'layernorm', dim: w.width, tokens: n }));
          case 'siluMul':
            return rows((n) => ({ kind: 'silu-gate', dim: w.width, tokens: n }));
          case 'gelu':
            return rows((n) => ({ kind: 'gelu', dim: w.width, tokens: n }));
          case 'rope':
            return rows((n) => ({ kind: 'rope', heads: Math.max(1, Math.round(w.width / (w.headDim ?? w.width))), headDim: w.headDim ?? w.width, tokens: n }));
          case 'add':
          case 'pixelShuffle':
          case 'patchEmbed':
            // residual add; pixel shuffle and im2col are copies (read, write)
            return rows((n) => ({ kind: 'residual', dim: w.width, tokens: n }));
        }
      }
    }
  }

  /**
   * A linear slice's epilogue, run where its outputs live: the deferred RMSNorm scaling
   * (one multiply per output, costed as an element-wise pass), RoPE on its q/k rows, the
   * bias or position-table slice (read from ROM, then added), GELU or SiLU-gate, and the
   * LM head's local argmax.
   */
  private epilogue(tile: number, w: Extract<TileWork, { kind: 'linear' }>, acc: { cycles: number; counters: CounterRecord; events: number }) {
    const actB = PRECISION_BITS[this.design.precision.activations] / 8;
    const perRow = 3 * w.rows * actB + 64;
    const pass = (spec: (n: number) => KernelSpec, width = perRow) => this.blocked(tile, w.tokens, width, spec, acc);
    if (w.scaleOutputs) pass((n) => ({ kind: 'residual', dim: w.rows, tokens: n }));
    if (w.bias) {
      this.run(tile, { kind: 'rom-read', rows: 1, width: w.rows }, 1, acc);
      pass((n) => ({ kind: 'residual', dim: w.rows, tokens: n }));
    }
    if (w.positionTable) {
      this.blocked(tile, w.tokens, w.rows * actB, (n) => ({ kind: 'rom-read', rows: n, width: w.rows }), acc);
      pass((n) => ({ kind: 'residual', dim: w.rows, tokens: n }));
    }
    if (w.ropeRows) {
      const hd = Math.max(2, Math.min(w.headDim ?? w.ropeRows, w.ropeRows));
      pass((n) => ({ kind: 'rope', heads: Math.max(1, Math.round(w.ropeRows! / hd)), headDim: hd - (hd % 2), tokens: n }));
    }
    if (w.gelu) pass((n) => ({ kind: 'gelu', dim: w.rows, tokens: n }));
    if (w.fusedSiluMul) this.blocked(tile, w.tokens, 3 * Math.ceil(w.rows / 2) * actB, (n) => ({ kind: 'silu-gate', dim: Math.max(1, Math.floor(w.rows / 2)), tokens: n }), acc);
    if (w.argmax) this.run(tile, { kind: 'argmax', vocab: w.rows }, w.tokens, acc);
    if (w.thenNorm) {
      pass((n) => ({ kind: 'residual', dim: w.rows, tokens: n }));
      pass((n) => ({ kind: 'rmsnorm', dim: w.rows, tokens: n }));
    }
    return acc;
  }
}
