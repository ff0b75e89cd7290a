import type { ModelCard } from '../model/card.js';
import type { Design, TileParams } from '../design/design.js';
import { resolveTiles } from '../design/tiles.js';
import { INT4_GROUP_SIZE, PRECISION_BITS, SCALE_BYTES, storageBytes } from '../units/precision.js';
import { decodeWeightBytesPerStep, kvBytesPerTokenPerLayer, kvScaleBytesPerTokenPerLayer, linearParamsPerLayer, patchesPerTile } from '../model/derive.js';
import type { Task } from './engine.js';
import type { TileWork } from './work.js';
import type { ChipMapping, PlacementUnit } from './mapping.js';

/**
 * Throughput bounds for decode (docs/chip.md, "Bounds"), in tokens per second. The
 * chip-wide ones follow the paper's Eqs. 21-24 with Tessera's resources:
 *
 * - compute: every tile's vector lanes (VLEN / activation bits MACs per cycle) busy,
 *   against the MACs of one token (linear layers, LM head, attention over c + 1 positions);
 * - memory: every ROM port streaming (bytes per cycle from the tile model, VLEN/8 by
 *   default) against the weight bytes of one step, which serves B tokens, and every DMEM
 *   port against the KV bytes of the step; the slower of the two;
 * - NoC: every directed mesh link carrying a flit per cycle against the link flit-hops the
 *   run actually needed per token (a bound on this mapping's traffic);
 * - mapping: the slowest of three limits of the mapped step: its critical path (each task at
 *   its tile's tightest resource limit, each message at its zero-load latency, the
 *   micro-batches in flight overlapping), its busiest tile (the sum of that tile's task
 *   limits per step) and its busiest link (the run's flits on it per token). The busiest
 *   tile and link carry at least the mean, so this bound is at most each chip-wide one by
 *   construction, not by a cap.
 */

/** MACs per cycle of a tile: FP16 (or INT8) lanes of the vector unit. */
export function lanesOf(tile: TileParams, design: Design): number {
  return Math.floor(tile.vlenBits / PRECISION_BITS[design.precision.activations]);
}

/** ROM port width in bytes per cycle (`romBytesPerCycle`, 0 meaning VLEN / 8, as the tile model reads it). */
export function romBytesPerCycle(tile: TileParams): number {
  return tile.romBytesPerCycle || tile.vlenBits / 8;
}

/** DMEM bandwidth in bytes per cycle over all ports (`dmemBytesPerCycle` per port, 0 meaning VLEN / 8). */
export function dmemBytesPerCycle(tile: TileParams): number {
  return (tile.dmemBytesPerCycle || tile.vlenBits / 8) * tile.dmemPorts;
}

/** MACs of one decode token at context c (c + 1 positions attended, capped by the window). */
export function decodeMacsPerToken(card: ModelCard, contextTokens: number, kvWindowTokens = 0): number {
  const t = card.text;
  const positions = kvWindowTokens > 0 ? Math.min(contextTokens + 1, kvWindowTokens) : contextTokens + 1;
  return t.numLayers * linearParamsPerLayer(t) + t.vocabSize * t.hiddenSize + 2 * t.numLayers * t.numHeads * t.headDim * positions;
}

export function computeTokensPerSecond(card: ModelCard, design: Design, contextTokens: number): number {
  const lanes = resolveTiles(design).reduce((s, t) => s + lanesOf(t, design), 0);
  return (lanes * design.clockMHz * 1e6) / decodeMacsPerToken(card, contextTokens, design.mapping.kvWindowTokens);
}

/** Decode steps of B sequences at context c: weights once per step, KV per sequence. */
export function memoryTokensPerSecond(card: ModelCard, design: Design, contextTokens: number, batch: number): number {
  const tiles = resolveTiles(design);
  const f = design.clockMHz * 1e6;
  const romBw = tiles.reduce((s, t) => s + romBytesPerCycle(t), 0) * f;
  const dmemBw = tiles.reduce((s, t) => s + dmemBytesPerCycle(t), 0) * f;
  const w = decodeWeightBytesPerStep(card, design.precision.weights).totalBytes;
  const window = design.mapping.kvWindowTokens;
  const positions = window > 0 ? Math.min(contextTokens + 1, window) : contextTokens + 1;
  const kvPerStep = batch * positions * card.text.numLayers * (kvBytesPerTokenPerLayer(card, design.precision.kvCache) + kvScaleBytesPerTokenPerLayer(card, design.precision.kvCache));
  const stepSeconds = Math.max(w / romBw, kvPerStep / dmemBw);
  return batch / stepSeconds;
}

/** Directed links of an R x C mesh: 2 (R (C - 1) + C (R - 1)). */
export function meshLinks(rows: number, cols: number): number {
  return 2 * (rows * (cols - 1) + cols * (rows - 1));
}

/** Link capacity against the flit-hops a run needed per generated token. */
export function nocTokensPerSecond(design: Design, linkFlitHops: number, tokens: number): number {
  if (linkFlitHops === 0 || tokens === 0) return Number.POSITIVE_INFINITY;
  return (meshLinks(design.mesh.rows, design.mesh.cols) * design.clockMHz * 1e6) / (linkFlitHops / tokens);
}

/** Lower bound of a task's cycles: its tightest resource (lanes, ROM port, DMEM ports). */
export function minWorkCycles(tile: TileParams, design: Design, w: TileWork, bytesPerWeight: number, kvEntryBytes: number): number {
  const lanes = lanesOf(tile, design);
  const rom = romBytesPerCycle(tile);
  const dmem = dmemBytesPerCycle(tile);
  switch (w.kind) {
    case 'linear':
      return Math.max(Math.ceil((w.rows * w.cols * w.tokens) / lanes), Math.ceil((w.rows * w.cols * bytesPerWeight) / rom));
    case 'attention':
      return Math.max(Math.ceil((2 * w.queryHeads * w.headDim * w.positions) / lanes), Math.ceil(((w.kvPositions + (w.kvWrites ?? 0)) * 2 * w.headDim * kvEntryBytes) / dmem));
    case 'embeddingRead':
      return Math.ceil((w.rows * w.width * bytesPerWeight) / rom);
    case 'kvWrite':
      return Math.ceil((w.tokens * w.width * kvEntryBytes) / dmem);
    case 'attentionCombine':
      return Math.ceil((w.parts * w.queryHeads * w.headDim * w.tokens) / lanes);
    case 'vector':
    case 'argmax':
      return Math.ceil((w.width * w.tokens) / lanes);
  }
}

/**
 * A message's cycles from tile `src` to tile `dst` carrying `bytes`. An object rather than a
 * closure: a run's analysis passes the same class every time, so V8 keeps the call inlined
 * across runs (a fresh closure per run is a new call target, and the optimised pass was
 * thrown away at the start of every run).
 */
export interface MessageCycles {
  cycles(src: number, dst: number, bytes: number): number;
}

/**
 * Longest path through a step's task graph: each task at `taskCycles`, each message at
 * `messageCycles`. Tasks must be in an order where every task follows its predecessors
 * through `after` and `sends` (the builders' creation order is not guaranteed to be
 * topological, so this sorts first).
 */
export function criticalPathCycles(tasks: readonly Task[], taskCycles: (t: Task) => number, messageCycles: (src: number, dst: number, bytes: number) => number): number {
  return criticalPaths(tasks, [taskCycles], messageCycles)[0];
}

/**
 * Longest paths through a step's task graph for several task-time functions at once (one
 * topological pass): each task at `taskCycles[k]`, each message at `messageCycles` (or at
 * zero where `withMessages[k]` is false).
 */
export function criticalPaths(tasks: readonly Task[], taskCycles: readonly ((t: Task) => number)[], messageCycles: (src: number, dst: number, bytes: number) => number, withMessages: readonly boolean[] = taskCycles.map(() => true)): number[] {
  return criticalPathsOf(tasks, taskCycles.map((f) => Float64Array.from(tasks, f)), { cycles: messageCycles }, withMessages);
}

/**
 * `criticalPaths` with each task's times given per task position (`times[k][i]` for
 * `tasks[i]`): computed once per task by the caller, so the pass itself calls nothing but
 * `messages.cycles`.
 */
export function criticalPathsOf(tasks: readonly Task[], times: readonly Float64Array[], messages: MessageCycles, withMessages: readonly boolean[] = times.map(() => true)): number[] {
  const n = tasks.length;
  const K = times.length;
  const msg = Float64Array.from(withMessages, (w) => (w ? 1 : 0));
  for (let i = 0; i < n; i++) tasks[i].index = i;
  const g = successorArrays(tasks, messages);
  const { first, succ, lat } = g;
  const indeg = new Int32Array(n);
  for (let e = 0; e < g.edges; e++) indeg[succ[e]]++;
  // task-major copy of the times (the pass reads all K of one task together)
  const time = new Float64Array(n * K);
  for (let k = 0; k < K; k++) for (let i = 0; i < n; i++) time[i * K + k] = times[k][i];
  const start = new Float64Array(n * K);
  const end = new Float64Array(K);
  const longest = new Float64Array(K);
  const ready = new Int32Array(n);
  let top = 0;
  for (let i = 0; i < n; i++) if (indeg[i] === 0) ready[top++] = i;
  while (top > 0) {
    const i = ready[--top];
    const base = i * K;
    for (let k = 0; k < K; k++) {
      end[k] = start[base + k] + time[base + k];
      if (end[k] > longest[k]) longest[k] = end[k];
    }
    for (let e = first[i]; e < first[i + 1]; e++) {
      const x = succ[e];
      const l = lat[e];
      const xb = x * K;
      for (let k = 0; k < K; k++) {
        const at = end[k] + l * msg[k];
        if (at > start[xb + k]) start[xb + k] = at;
      }
      if (--indeg[x] === 0) ready[top++] = x;
    }
  }
  return Array.from(longest);
}

/**
 * A step's task graph as arrays, read from the task objects once, in their order (the
 * pass over them in topological order then touches no object): task i's successors are
 * `succ[first[i]]` up to `succ[first[i + 1]]`, its local successors (`after`) first, then
 * its sends' targets in order, each with the message's cycles in `lat` (0 for a local
 * successor or a target on the same tile).
 */
function successorArrays(tasks: readonly Task[], messages: MessageCycles): { first: Int32Array; succ: Int32Array; lat: Float64Array; edges: number } {
  const n = tasks.length;
  const first = new Int32Array(n + 1);
  let succ = new Int32Array(2 * n + 16);
  let lat = new Float64Array(succ.length);
  let m = 0;
  const room = (more: number) => {
    if (m + more <= succ.length) return;
    const size = Math.max(2 * succ.length, m + more);
    const s2 = new Int32Array(size);
    s2.set(succ);
    succ = s2;
    const l2 = new Float64Array(size);
    l2.set(lat);
    lat = l2;
  };
  for (let i = 0; i < n; i++) {
    first[i] = m;
    const t = tasks[i];
    const after = t.after;
    room(after.length);
    for (let a = 0; a < after.length; a++) {
      succ[m] = after[a].index;
      lat[m++] = 0;
    }
    for (let s = t.sends; s !== null; s = s.next) {
      const targets = s.targets;
      room(targets.length);
      for (let a = 0; a < targets.length; a++) {
        const x = targets[a];
        succ[m] = x.index;
        lat[m++] = x.tile === t.tile ? 0 : messages.cycles(t.tile, x.tile, s.bytes);
      }
    }
  }
  first[n] = m;
  return { first, succ, lat, edges: m };
}

/** The busiest tile's total cycles for a step's tasks, each at `taskCycles`. */
export function busiestTileCycles(tasks: readonly Task[], taskCycles: (t: Task) => number): number {
  return busiestTileCyclesOf(tasks, Float64Array.from(tasks, taskCycles));
}

/** `busiestTileCycles` with each task's cycles given per task position. */
export function busiestTileCyclesOf(tasks: readonly Task[], cycles: Float64Array): number {
  let tiles = 0;
  for (let i = 0; i < tasks.length; i++) if (tasks[i].tile >= tiles) tiles = tasks[i].tile + 1;
  const load = new Float64Array(tiles);
  let most = 0;
  for (let i = 0; i < tasks.length; i++) {
    const c = (load[tasks[i].tile] += cycles[i]);
    if (c > most) most = c;
  }
  return most;
}

/**
 * Link-limited rate: the busiest directed inter-router link (router r's port p, index
 * r x 5 + p, p = 1..4; port 0 is ejection) carries one flit per cycle.
 */
export function busiestLinkTokensPerSecond(design: Design, linkFlits: ArrayLike<number>, tokens: number): number {
  let most = 0;
  for (let k = 0; k < linkFlits.length; k++) if (k % 5 !== 0 && linkFlits[k] > most) most = linkFlits[k];
  if (most === 0 || tokens === 0) return Number.POSITIVE_INFINITY;
  return (design.clockMHz * 1e6) / (most / tokens);
}

/** A unit's share of one step: the weight bytes it reads and the MACs it does. */
type UnitCost = (u: PlacementUnit) => { readonly bytes: number; readonly macs: number };

/**
 * Cycles of one step when the pipeline regions work one after the other, each at its
 * tightest resource: the sum over regions of max(ROM bytes / the region's ROM ports,
 * MACs / its lanes), with each unit's bytes and MACs from `cost`.
 */
export function layerSequentialCycles(design: Design, mapping: ChipMapping, cost: UnitCost): number {
  const tiles = resolveTiles(design);
  let cycles = 0;
  for (const r of mapping.regions) {
    let bytes = 0;
    let macs = 0;
    for (const u of r.units) {
      const c = cost(u);
      bytes += c.bytes;
      macs += c.macs;
    }
    if (bytes === 0 && macs === 0) continue;
    const rom = r.tiles.reduce((s, x) => s + romBytesPerCycle(tiles[x]), 0);
    const lanes = r.tiles.reduce((s, x) => s + lanesOf(tiles[x], design), 0);
    cycles += Math.max(bytes / rom, macs / lanes);
  }
  return cycles;
}

/**
 * The layer-sequential bound (docs/chip.md, "Bounds"): one step of `batch` sequences at
 * context c when the pipeline regions work one after the other, each at its own resource
 * limit: the sum over regions of the larger of the region's ROM time (the weight bytes a
 * decode step reads there over its tiles' ROM ports) and its MAC time (the step's MACs
 * there over its tiles' lanes). The LM head counts in the region that holds it; the
 * embedding region reads `batch` rows of its table. Tokens per second = batch / step time.
 */
export function layerSequentialTokensPerSecond(card: ModelCard, design: Design, mapping: ChipMapping, batch: number, contextTokens: number): number {
  const positions = attendedPositionsFor(contextTokens, design.mapping.kvWindowTokens);
  const cycles = layerSequentialCycles(design, mapping, (u) => textUnitCost(card, design, u, batch, batch * positions, true));
  return (batch * design.clockMHz * 1e6) / cycles;
}

/**
 * A text unit's bytes and MACs for a step of `rows` rows attending `pairs` (query, key)
 * pairs per layer in total; `head`: whether the LM head runs (for one row per emitting
 * sequence: `rows` here).
 */
function textUnitCost(card: ModelCard, design: Design, u: PlacementUnit, rows: number, pairs: number, head: boolean, headRows = rows): { bytes: number; macs: number } {
  const t = card.text;
  const rowBytes = bytesPerWeightRow(t.hiddenSize, design.precision.weights);
  if (u.kind === 'decoder') return { bytes: u.weightBytes, macs: rows * linearParamsPerLayer(t) + 2 * t.numHeads * t.headDim * pairs };
  // the final norm and the LM head (a tied table: read whole as the head, plus the embedding rows)
  if (u.kind === 'head') return { bytes: (head ? u.weightBytes : 0) + (t.tieWordEmbeddings ? rows * rowBytes : 0), macs: head ? headRows * t.vocabSize * t.hiddenSize : 0 };
  if (u.kind === 'embedding') return { bytes: rows * rowBytes, macs: 0 };
  return { bytes: 0, macs: 0 };
}

/**
 * Lower bound of a request's time to first token with nothing else running (docs/chip.md,
 * "Bounds"): its vision encoder's crops one after the other, then its prefill chunks
 * (`chunkTokens` at a time, image tokens first) one after the other, each through the
 * regions one after the other at their ROM or lane limit; the LM head runs for the last
 * chunk only. A request whose context is cached needs one decode step.
 */
export function ttftBoundCycles(card: ModelCard, design: Design, mapping: ChipMapping, request: { promptTokens: number; imageTokens: number; crops: number; contextCached: boolean }): number {
  const window = design.mapping.kvWindowTokens;
  if (request.contextCached) return layerSequentialCycles(design, mapping, (u) => textUnitCost(card, design, u, 1, attendedPositionsFor(request.promptTokens, window), true));
  let cycles = request.crops > 0 ? request.crops * layerSequentialCycles(design, mapping, (u) => visionUnitCost(card, u)) : 0;
  const total = request.promptTokens + request.imageTokens;
  const chunk = Math.max(1, design.serving.prefillChunkTokens);
  for (let done = 0; done < total; done += chunk) {
    const rows = Math.min(chunk, total - done);
    let pairs = 0;
    for (let i = 0; i < rows; i++) pairs += attendedPositionsFor(done + i, window);
    const last = done + rows >= total;
    cycles += layerSequentialCycles(design, mapping, (u) => textUnitCost(card, design, u, rows, pairs, last, 1));
  }
  return cycles;
}

/** A vision unit's bytes and MACs for one encoder crop (docs/models: SigLIP layers, patch embedding, pixel-shuffle connector). */
function visionUnitCost(card: ModelCard, u: PlacementUnit): { bytes: number; macs: number } {
  const v = card.vision;
  const c = card.connector;
  if (!v || !c) return { bytes: 0, macs: 0 };
  const N = patchesPerTile(v);
  const d = v.hiddenSize;
  const patch = v.numChannels * v.patchSizePx * v.patchSizePx;
  if (u.kind === 'vision' && u.layer >= 0) return { bytes: u.weightBytes, macs: N * (4 * d * d + 2 * d * v.intermediateSize) + 2 * N * N * d };
  if (u.kind === 'vision') return { bytes: u.weightBytes, macs: N * patch * d };
  if (u.kind === 'connector') return { bytes: u.weightBytes, macs: (N / (c.scaleFactor * c.scaleFactor)) * d * c.scaleFactor * c.scaleFactor * card.text.hiddenSize };
  return { bytes: 0, macs: 0 };
}

/** Positions one decode token attends at context c (its own included), capped by the window. */
function attendedPositionsFor(contextTokens: number, window: number): number {
  return window > 0 ? Math.min(contextTokens + 1, window) : contextTokens + 1;
}

/** Bytes of one embedding row (with its INT8/INT4 scales). */
function bytesPerWeightRow(width: number, p: Design['precision']['weights']): number {
  return storageBytes(width, p) + (p === 'int8' ? SCALE_BYTES : p === 'int4' ? Math.ceil(width / INT4_GROUP_SIZE) * SCALE_BYTES : 0);
}
