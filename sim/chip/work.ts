import type { CounterRecord } from '../counters/counter.js';

/**
 * What one tile computes in one task of a full-chip step (docs/chip.md). The engine asks
 * a `TileCostModel` for the cycles and activity of each; the cost model comes from the
 * tile simulator (fast or detailed fidelity), memoised on the work's shape.
 */
export type TileWork =
  /**
   * A slice of a linear layer: `rows` output rows of a [rows x cols] weight block, for
   * `tokens` activation rows, with the epilogue applied where the outputs live.
   */
  | {
      readonly kind: 'linear';
      readonly rows: number;
      readonly cols: number;
      readonly tokens: number;
      /** gate and up rows interleaved: SiLU(gate) x up, rows / 2 outputs */
      readonly fusedSiluMul?: boolean;
      /** multiply the outputs by the RMSNorm statistic 1/rms of each token (deferred norm scaling) */
      readonly scaleOutputs?: boolean;
      /** RoPE on this many of the output rows (whole pairs of one head) */
      readonly ropeRows?: number;
      readonly headDim?: number;
      /** add the bias slice, read from ROM */
      readonly bias?: boolean;
      /** add the position-table slice (tokens x rows), read from ROM */
      readonly positionTable?: boolean;
      /** GELU on the outputs */
      readonly gelu?: boolean;
      /** local argmax over the rows (the LM head's vocabulary slice) */
      readonly argmax?: boolean;
      /**
       * the outputs are a residual delta: add them to the slice and run the next RMSNorm's
       * local pass on it (x·gamma and the sum of squares), as a `vector` rmsnorm with
       * `residual` would
       */
      readonly thenNorm?: boolean;
    }
  /**
   * Partial attention of one tile over the context part it holds of one KV head
   * (split-context attention; the result is (max, sum, output) per query head).
   * `queryHeads` query heads share each of the `kvHeads` KV-head parts; `positions` counts
   * (query row, key) pairs summed over the parts; `kvPositions` the distinct cached (KV
   * head, position) entries read from DMEM (0 when K and V arrive in the message, as in
   * the vision encoder); `kvWrites` the new K/V entries it appends first.
   */
  | { readonly kind: 'attention'; readonly queryHeads: number; readonly kvHeads: number; readonly headDim: number; readonly positions: number; readonly queries: number; readonly kvPositions: number; readonly kvWrites?: number }
  /** Combine `parts` partial attention results per query head (running max / sum rescale). */
  | { readonly kind: 'attentionCombine'; readonly parts: number; readonly queryHeads: number; readonly headDim: number; readonly tokens: number }
  /**
   * Element-wise or row-reduction vector work on `tokens` rows of `width` elements.
   * `residual`: add the residual delta first (RMSNorm and LayerNorm on a residual slice).
   */
  | { readonly kind: 'vector'; readonly op: 'rmsnorm' | 'add' | 'rope' | 'siluMul' | 'layernorm' | 'gelu' | 'pixelShuffle' | 'patchEmbed'; readonly width: number; readonly tokens: number; readonly headDim?: number; readonly residual?: boolean }
  /** Argmax over `width` candidates per row (a vocab slice, or the partial winners). */
  | { readonly kind: 'argmax'; readonly width: number; readonly tokens: number }
  /** Read `rows` embedding rows of `width` from ROM. */
  | { readonly kind: 'embeddingRead'; readonly width: number; readonly rows: number }
  /** Write `tokens` new K/V entries of `width` elements into the KV cache in DMEM. */
  | { readonly kind: 'kvWrite'; readonly width: number; readonly tokens: number };

export interface TileCost {
  readonly cycles: number;
  /** Activity of the work by counter name (tile.* names from sim/tile/counters.ts). */
  readonly counters: CounterRecord;
  /** Kernel-simulation events spent computing this cost (0 when served from the cache). */
  readonly events: number;
}

export interface TileCostModel {
  /** Cycles and activity of `work` on tile `tile`. */
  cost(tile: number, work: TileWork): TileCost;
}

/** A stable key for memoising costs of equal work on equal tiles. */
export function workKey(w: TileWork): string {
  switch (w.kind) {
    case 'linear':
      return `lin:${w.rows}:${w.cols}:${w.tokens}:${w.fusedSiluMul ? 1 : 0}${w.scaleOutputs ? 's' : ''}${w.ropeRows ? `r${w.ropeRows}/${w.headDim}` : ''}${w.bias ? 'b' : ''}${w.positionTable ? 'p' : ''}${w.gelu ? 'g' : ''}${w.argmax ? 'a' : ''}${w.thenNorm ? 'n' : ''}`;
    case 'attention':
      return `att:${w.queryHeads}:${w.kvHeads}:${w.headDim}:${w.positions}:${w.queries}:${w.kvPositions}:${w.kvWrites ?? 0}`;
    case 'attentionCombine':
      return `cmb:${w.parts}:${w.queryHeads}:${w.headDim}:${w.tokens}`;
    case 'vector':
      return `vec:${w.op}:${w.width}:${w.tokens}:${w.headDim ?? 0}${w.residual ? 'r' : ''}`;
    case 'argmax':
      return `max:${w.width}:${w.tokens}`;
    case 'embeddingRead':
      return `emb:${w.width}:${w.rows}`;
    case 'kvWrite':
      return `kvw:${w.width}:${w.tokens}`;
  }
}
