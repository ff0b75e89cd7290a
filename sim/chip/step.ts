import type { ModelCard } from '../model/card.js';
import type { Design } from '../design/design.js';
import { bytesPerElement } from '../units/precision.js';
import { patchesPerTile } from '../model/derive.js';
import { Placement } from './placement.js';
import { Task } from './engine.js';
import { gatherUp, type TaskMaker } from './collectives.js';
import { overlaps, size, type Range, type StreamLayout } from './partition.js';
import { decoderLayer, finalNormAndHead, visionLayer, visionStem, connector, type LayerInput, type StreamState, type Wire } from './layers.js';
import type { TileWork } from './work.js';

/**
 * Builds the task graph of one step on the mesh (docs/chip.md, "Dataflow"): no tile is a
 * hub. Each tile keeps its slice of the residual stream; layers exchange activations
 * through collectives (layers.ts, collectives.ts); a stream moves from one pipeline region
 * to the next straight from the tiles holding its slices to the tiles that need them.
 */

export interface StepSequence {
  /** Tokens already in this sequence's KV cache. */
  readonly contextTokens: number;
  /** Tokens this step appends (1 for decode, the chunk for prefill). */
  readonly newTokens: number;
  /** Of the new tokens, how many are text (read from the embedding table); the rest are image tokens. */
  readonly textTokens: number;
  /** Whether the step ends with a generated token for this sequence. */
  readonly emitsToken: boolean;
  /** Token ids (any value in the vocabulary) used to pick embedding rows. */
  readonly tokenIds: readonly number[];
}

export interface BuiltStep {
  readonly tasks: Task[];
  /** The task whose completion means the step is done (its token, if any, is known). */
  readonly done: Task;
  /** Cached positions read (summed over layers and KV heads), for cross-checks. */
  readonly kvPositionsRead: number;
}

export interface StepContext {
  readonly card: ModelCard;
  readonly design: Design;
  readonly place: Placement;
}

/** Where the image rows of a request wait after its encoder pass: each connector tile holds some columns. */
export interface ImageRows {
  readonly holders: readonly { readonly tile: number; readonly cols: Range }[];
  readonly rows: number;
}

/** Task factory and shared constants of one step. */
export class StepBuilder implements TaskMaker {
  readonly tasks: Task[] = [];
  readonly actBytes: number;
  kvPositionsRead = 0;
  private readonly memos = new Map<string, unknown>();
  constructor(
    readonly sc: StepContext,
    readonly stepId: number,
  ) {
    this.actBytes = bytesPerElement(sc.design.precision.activations);
  }

  task(tile: number, work: TileWork | null, label: string): Task {
    const t = new Task(tile, work, label, this.stepId);
    t.index = this.tasks.length;
    this.tasks.push(t);
    return t;
  }

  /** A value derived from this step's sequences (shared by the layers of a region), made once per key. */
  memo<T>(key: string, make: () => T): T {
    let v = this.memos.get(key) as T | undefined;
    if (v === undefined) this.memos.set(key, (v = make()));
    return v;
  }

  get place(): Placement {
    return this.sc.place;
  }

  /** A barrier: every `last` task done, signalled up the region's tree (4-byte messages). */
  barrier(L: StreamLayout, region: number, last: readonly (Task | null)[]): Task {
    const tiles: number[] = [];
    const ready: Task[] = [];
    last.forEach((t, i) => {
      if (t) {
        tiles.push(L.tiles[i]);
        ready.push(t);
      }
    });
    return gatherUp(this, this.place.tree(`r${region}.${L.part}.done:${tiles.length}:${tiles[0]}`, tiles), ready, () => 4, () => null, 'step:done');
  }

  /**
   * Move a stream to another layout (the next pipeline region): a pending residual delta
   * is added where the slice lives, then each piece goes from the tile holding it to the
   * tile whose slice covers it, `rows` rows of it.
   */
  transfer(from: StreamState, rows: number): Wire {
    const src = from.last.map((t, i) => {
      if (!t || !from.delta) return t;
      const add = this.task(from.layout.tiles[i], { kind: 'vector', op: 'add', width: size(from.layout.slices[i]), tokens: from.rows }, 'residual:add');
      t.then(add);
      return add;
    });
    return {
      delta: false,
      wire: (L, consumers) => {
        for (const o of overlaps(from.layout.slices, L.slices)) {
          const s = src[o.from];
          const c = consumers[o.to];
          if (s && c) s.sendTo([c], rows * size(o.range) * this.actBytes);
        }
      },
    };
  }
}

/** The text stream enters layer 0: embedding rows from the tiles holding them, image rows from the connector tiles. */
function embeddingWire(b: StepBuilder, sequences: readonly StepSequence[], image?: ImageRows): Wire {
  const { card, place } = b.sc;
  const byTile = new Map<number, number>();
  for (const s of sequences) {
    for (let k = 0; k < s.textTokens; k++) {
      const tile = place.rowHolder('text.embed_tokens', s.tokenIds[k % s.tokenIds.length] % card.text.vocabSize);
      byTile.set(tile, (byTile.get(tile) ?? 0) + 1);
    }
  }
  return {
    delta: false,
    wire: (L, consumers) => {
      for (const [tile, n] of byTile) {
        const read = b.task(tile, { kind: 'embeddingRead', width: card.text.hiddenSize, rows: n }, 'embed');
        L.slices.forEach((sl, j) => consumers[j] && read.sendTo([consumers[j]!], n * size(sl) * b.actBytes));
      }
      if (image && image.rows > 0) {
        for (const h of image.holders) {
          const src = b.task(h.tile, null, 'image:rows');
          for (const o of overlaps([h.cols], L.slices)) if (consumers[o.to]) src.sendTo([consumers[o.to]!], image.rows * size(o.range) * b.actBytes);
        }
      }
    },
  };
}

/**
 * A text step (decode rows and/or a prefill chunk) for `sequences`. `image`, when given,
 * names the connector tiles holding `rows` image-token rows this step consumes; they join
 * the embedding rows before layer 0.
 */
export function buildTextStep(sc: StepContext, stepId: number, sequences: readonly StepSequence[], kvWindowTokens: number, image?: ImageRows): BuiltStep {
  const b = new StepBuilder(sc, stepId);
  const { card, place } = sc;
  const rows = sequences.reduce((s, q) => s + q.newTokens, 0);
  const emitting = sequences.filter((s) => s.emitsToken).length;
  let state: StreamState | undefined;
  let input: LayerInput = { wire: embeddingWire(b, sequences, image) };
  const L = card.text.numLayers;
  const regionOf = (l: number) => place.regionOfUnit(l < L ? `layer${l}` : 'head');
  for (let l = 0; l < L; l++) {
    const r = regionOf(l);
    if (state && state.region !== r) input = { wire: b.transfer(state, rows) };
    // the next layer's (or the final) norm folds into this layer when it runs on the same tiles and takes every row
    const fold = regionOf(l + 1) === r && (l + 1 < L ? true : emitting === rows);
    const out = decoderLayer(b, l, r, input, sequences, kvWindowTokens, fold);
    state = out.state;
    if (out.next) input = out.next;
  }
  let done: Task;
  if (emitting > 0) {
    const r = place.regionOfUnit('head');
    // only the rows that emit a token go on to the head (the last row of each such sequence)
    const headInput: LayerInput = state!.region !== r ? { wire: b.transfer(state!, emitting) } : 'normed' in input && !state!.delta ? input : { wire: { delta: state!.delta, wire: localWire(state!) } };
    done = finalNormAndHead(b, r, headInput, emitting);
  } else {
    done = b.barrier(state!.layout, state!.region, state!.last);
  }
  return { tasks: b.tasks, done, kvPositionsRead: b.kvPositionsRead };
}

/** The next layer's consumers on the same tiles follow the last tasks there. */
function localWire(state: StreamState): Wire['wire'] {
  return (_L, consumers) => consumers.forEach((c, i) => c && state.last[i]?.then(c));
}

/** The vision encoder and connector for `crops` encoder crops of one request: returns where the image rows wait. */
export function buildVisionStep(sc: StepContext, stepId: number, crops: number): BuiltStep & { readonly image: ImageRows } {
  const b = new StepBuilder(sc, stepId);
  const { card, place } = sc;
  const v = card.vision!;
  const rows = crops * patchesPerTile(v);
  let state = visionStem(b, place.regionOfUnit('vision.stem'), rows);
  for (let l = 0; l < v.numLayers; l++) {
    const r = place.regionOfUnit(`vision.layer${l}`);
    const input = state.region !== r ? b.transfer(state, rows) : { delta: state.delta, wire: localWire(state) };
    state = visionLayer(b, l, r, input, rows, crops);
  }
  const r = place.regionOfUnit('connector');
  const input = state.region !== r ? b.transfer(state, rows) : { delta: state.delta, wire: localWire(state) };
  const out = connector(b, r, input, rows);
  return { tasks: b.tasks, done: out.done, kvPositionsRead: 0, image: { holders: out.holders, rows: rows / (card.connector!.scaleFactor * card.connector!.scaleFactor) } };
}
