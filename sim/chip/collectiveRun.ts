import type { Design } from '../design/design.js';
import { Simulator } from '../kernel/simulator.js';
import { CounterRegistry } from '../counters/registry.js';
import { createNetwork } from '../noc/create.js';
import { packetFlits, routerDelayCycles, INJECTION_CYCLES, EJECTION_CYCLES } from '../noc/packet.js';
import { serpentineOrder } from './mapping.js';
import { ChipEngine, Task } from './engine.js';
import { broadcast, gather, gatherUp, ringAllGather, type TaskMaker } from './collectives.js';
import { buildTree, type Tree } from './trees.js';
import { TileKernelCosts } from './tileCosts.js';
import type { TileWork } from './work.js';

/**
 * One collective alone on a design's whole mesh (the collectives microbenchmark,
 * bench/collectives.bench.ts, and its test): the same task graphs the step builder
 * uses, run on the full-chip engine with the design's NoC (message or flit level) and
 * tile model, plus an alpha-beta estimate of the same pattern.
 *
 * - `all-gather`: every tile holds `bytes` / tiles of a vector (its residual slice);
 *   afterwards every tile holds the vector. Tree: gather up the k-ary tree, multicast.
 *   Ring: dimension-ordered rings (docs/chip.md, "Collectives").
 * - `reduce`: every tile holds a `bytes` partial vector; afterwards the tree's root holds
 *   the sum (each interior tile adds its children's vectors to its own).
 * - `all-reduce`: reduce, then the root multicasts the sum.
 */

export type CollectiveKind = 'all-gather' | 'reduce' | 'all-reduce';

export interface CollectiveResult {
  readonly cycles: number;
  /** Alpha-beta estimate of the same pattern (see `alphaBetaCycles`). */
  readonly estimateCycles: number;
  readonly messages: number;
  readonly flitsInjected: number;
  readonly flitsEjected: number;
  readonly flitsReplicated: number;
  readonly events: number;
}

const ACT_BYTES = 2;

/** The add a relay does on `children` incoming vectors of `bytes` (FP16 elements), streamed in rows of up to 1,024 elements. */
function addWork(bytes: number, children: number): TileWork {
  const elems = Math.max(1, Math.ceil(bytes / ACT_BYTES));
  const width = Math.min(1024, elems);
  return { kind: 'vector', op: 'add', width, tokens: children * Math.ceil(elems / width) };
}

export function runCollective(design: Design, kind: CollectiveKind, bytes: number, options: { fidelity?: 'message' | 'flit'; pattern?: 'tree' | 'ring' } = {}): CollectiveResult {
  const { rows, cols } = design.mesh;
  const n = rows * cols;
  const tiles = serpentineOrder(rows, cols);
  const sim = new Simulator();
  const counters = new CounterRegistry();
  const network = createNetwork(sim, design, { model: options.fidelity ?? 'message', counters, reservation: 'path' });
  const costs = new TileKernelCosts(design, 'fast');
  const engine = new ChipEngine(sim, network, costs, n);
  const tasks: Task[] = [];
  const b: TaskMaker = {
    task(tile, work, label) {
      const t = new Task(tile, work, label, 0);
      tasks.push(t);
      return t;
    },
  };
  const parts = tiles.map((tile) => b.task(tile, null, 'part'));
  const consumers = tiles.map((tile) => b.task(tile, null, 'consumer'));
  const tree = buildTree(tiles, cols, design.mapping.treeRadix);
  const piece = (i: number) => Math.floor(((i + 1) * bytes) / n) - Math.floor((i * bytes) / n);
  if (kind === 'all-gather' && options.pattern === 'ring') {
    ringAllGather(b, tiles.map((tile, i) => ({ tile, ready: parts[i], bytes: piece(i) })), cols, consumers, 'all-gather');
  } else if (kind === 'all-gather') {
    broadcast(gather(b, tree, parts, piece, () => null, 'all-gather'), consumers.filter((c) => c.tile !== tiles[tree.root]), bytes);
  } else {
    const root = gatherUp(b, tree, parts, () => bytes, (c) => addWork(bytes, c), kind);
    if (kind === 'all-reduce') broadcast(root, consumers.filter((c) => c.tile !== tiles[tree.root]), bytes);
  }
  engine.start(tasks);
  sim.run();
  const c = counters.totals();
  // done when the last task is (the flit network may keep a watchdog event pending past it)
  const end = tasks.reduce((m, t) => Math.max(m, t.endCycles), 0);
  return {
    cycles: end,
    estimateCycles: alphaBetaCycles(design, kind, bytes, options.pattern ?? 'tree', tree, (w) => costs.cost(0, w).cycles),
    messages: engine.messagesSent,
    flitsInjected: c['noc.flitsInjected'] ?? 0,
    flitsEjected: c['noc.flitsEjected'] ?? 0,
    flitsReplicated: c['noc.flitsReplicated'] ?? 0,
    events: sim.eventsDispatched,
  };
}

/**
 * Alpha-beta estimate: a message of B bytes over h hops costs alpha(h) + beta(B), with
 * alpha(h) = injection + (h + 1) router stages + h links + ejection (zero-load latency
 * without the tail) and beta(B) = the packet's flits (one per cycle on the slowest link).
 *
 * - tree patterns: the longest root-ward path; at each interior tile its children's
 *   messages arrive through its one ejection port (their betas add), then it relays (and,
 *   reducing, adds them: the tile model's add time); a multicast back costs
 *   alpha(farthest tile) + beta(vector);
 * - ring all-gather: each row ring of r tiles takes r - 1 steps of alpha(2) + beta(piece),
 *   the ring of R row leaders R - 1 steps of alpha(leader distance) + beta(row), then the
 *   leaders' multicasts alpha(row length) + beta(other rows).
 */
export function alphaBetaCycles(design: Design, kind: CollectiveKind, bytes: number, pattern: 'tree' | 'ring', tree: Tree, addCycles: (w: TileWork) => number): number {
  const noc = design.noc;
  const cols = design.mesh.cols;
  const alpha = (h: number) => INJECTION_CYCLES + (h + 1) * routerDelayCycles(noc) + h * noc.linkTraversalCycles + EJECTION_CYCLES;
  const beta = (b: number) => packetFlits(noc, b);
  const hops = (a: number, b: number) => Math.abs(Math.floor(a / cols) - Math.floor(b / cols)) + Math.abs((a % cols) - (b % cols));
  const n = tree.tiles.length;
  if (kind === 'all-gather' && pattern === 'ring') {
    const { rows } = design.mesh;
    const piece = bytes / n;
    const rowLen = cols;
    const rowBytes = piece * rowLen;
    return (rowLen - 1) * (alpha(2) + beta(piece)) + (rows - 1) * (alpha(2) + beta(rowBytes)) + alpha(rowLen - 1) + beta(bytes - rowBytes);
  }
  // bytes each member sends up: its subtree's pieces (gather) or one vector (reduce)
  const own = (i: number) => (kind === 'all-gather' ? bytes / n : 0);
  const up = new Float64Array(n);
  const done = new Float64Array(n);
  for (const i of tree.postOrder) {
    const kids = tree.children[i];
    let sub = own(i);
    let arrive = 0;
    let inBytes = 0;
    for (const c of kids) {
      sub += up[c];
      arrive = Math.max(arrive, done[c] + alpha(hops(tree.tiles[c], tree.tiles[i])));
      inBytes += beta(kind === 'all-gather' ? up[c] : bytes);
    }
    up[i] = kind === 'all-gather' ? sub : bytes;
    done[i] = kids.length ? arrive + inBytes + (kind === 'all-gather' ? 0 : addCycles(addWork(bytes, kids.length))) : 0;
  }
  let t = done[tree.root];
  if (kind !== 'reduce') t += alpha(Math.max(...tree.tiles.map((x) => hops(x, tree.tiles[tree.root])))) + beta(bytes);
  return t;
}
