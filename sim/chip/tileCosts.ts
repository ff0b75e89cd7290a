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
    this.classOf = new Int32Array(this.tiles.length);
    this.tiles.forEach((t, i) => {
      const key = JSON.stringify(t);
      let id = ids.get(key);
      if (id === undefined) {
        id = ids.size;
        ids.set(key, id);
        this.caches.push(new Map());
      }
      this.classOf[i] = id;
    });
  }

  cost(tile: number, work: TileWork): TileCost {
    const cache = this.caches[this.classOf[tile]];
    const key = workKey(work);
    const hit = cache.get(key);
    if (hit) return hit;
    const c = this.compute(tile, work);
    cache.set(key, { ...c, events: 0 });
    return c;
  }

  private run(tile: number, spec: KernelSpec, times = 1, acc?: { cycles: number; counters: CounterRecord; events: number }) {
    const r = runKernel(this.tiles[tile], this.design.precision, spec, { fidelity: this.fidelity });
    this.events += r.events;
    this.kernelsRun++;
    const out = acc ?? { cycles: 0, counters: {}, events: 0 };
    out.cycles += r.cycles * times;
    out.events += r.events;
    for (const k in r.counters) out.counters[k] = (out.counters[k] ?? 0) + r.counters[k] * times;
    return out;
  }

  private compute(tile: number, w: TileWork): TileCost {
    const t = this.tiles[tile];
    const actB = PRECISION_BITS[this.design.precision.activations] / 8;
    switch (w.kind) {
      case 'linear': {
        // rows of activations per block: what fits in the DMEM left for one kernel
        const room = Math.max(0, t.dmemKiB * 1024 - this.reservedDmemBytes(tile));
        const perRow = (w.cols + w.rows) * actB;
        const block = Math.max(1, Math.min(w.tokens, Math.floor(room / perRow)));
        const full = Math.floor(w.tokens / block);
        const rest = w.tokens % block;
        const spec = (n: number): KernelSpec => (n === 1 ? { kind: 'gemv', rows: w.rows, cols: w.cols } : { kind: 'gemm', rows: w.rows, cols: w.cols, tokens: n });
        const acc = this.run(tile, spec(block), full);
        if (rest) this.run(tile, spec(rest), 1, acc);
        if (w.fusedSiluMul) this.run(tile, { kind: 'silu-gate', dim: Math.max(1, Math.floor(w.rows / 2)), tokens: w.tokens }, 1, acc);
        return acc;
      }
      case 'attention': {
        const kv = Math.max(1, w.kvPositions || Math.round(w.positions / Math.max(1, w.queries)));
        if (w.queries <= 1) return this.run(tile, { kind: 'attention', queryHeads: w.queryHeads, headDim: w.headDim, contextTokens: kv });
        const perQuery = Math.max(1, Math.round(w.positions / w.queries / Math.max(1, w.kvHeads)));
        return this.run(tile, { kind: 'attention', queryHeads: w.queryHeads, headDim: w.headDim, contextTokens: perQuery }, w.queries * Math.max(1, w.kvHeads));
      }
      case 'attentionCombine':
        return this.run(tile, { kind: 'attention-combine', parts: w.parts, heads: w.queryHeads, headDim: w.headDim, tokens: w.tokens });
      case 'argmax':
        return this.run(tile, { kind: 'argmax', vocab: w.width }, w.tokens);
      case 'embeddingRead':
        return this.run(tile, { kind: 'rom-read', rows: w.rows, width: w.width });
      case 'kvWrite':
        return this.run(tile, { kind: 'kv-write', entries: w.tokens, width: w.width });
      case 'vector': {
        const T = w.tokens;
        switch (w.op) {
          case 'rmsnorm':
            return this.run(tile, { kind: 'rmsnorm', dim: w.width, tokens: T });
          case 'layernorm':
            return this.run(tile, { kind: 'layernorm', dim: w.width, tokens: T });
          case 'siluMul':
            return this.run(tile, { kind: 'silu-gate', dim: w.width, tokens: T });
          case 'gelu':
            return this.run(tile, { kind: 'gelu', dim: w.width, tokens: T });
          case 'rope':
            return this.run(tile, { kind: 'rope', heads: Math.max(1, Math.round(w.width / (w.headDim ?? w.width))), headDim: w.headDim ?? w.width, tokens: T });
          case 'add':
          case 'pixelShuffle':
          case 'patchEmbed':
            // residual add; pixel shuffle and im2col are copies (read, write)
            return this.run(tile, { kind: 'residual', dim: w.width, tokens: T });
        }
      }
    }
  }
}
