import type { Task } from './engine.js';
import type { Tree } from './trees.js';
import type { TileWork } from './work.js';

/**
 * Collectives as task graphs (docs/chip.md, "Collectives"). Every transfer is a NoC
 * message (a `sendTo` between tasks), so the network model times and counts it; every
 * reduction step is tile work, so the tile model times it.
 *
 * - gather (reduce-to-one when the relays combine): up a k-ary tree (trees.ts). A leaf
 *   sends its part to its parent; an interior member waits for its own part and its
 *   children's, optionally combines them (a relay task), and sends its subtree's result
 *   up. The root ends with everything.
 * - broadcast: one multicast from the root to the consumers (replicated in the routers
 *   when the NoC multicasts as a tree).
 * - all-gather / all-reduce: gather (with reduction) then broadcast.
 * - ring all-gather: see `ringAllGather`.
 */

/** What the collectives need from a step builder: a way to make tasks. */
export interface TaskMaker {
  task(tile: number, work: TileWork | null, label: string): Task;
}

/**
 * Gather up `tree`: member i's part is ready when `ready[i]` (a task on tree.tiles[i])
 * completes. `up(i)` is the bytes member i sends its parent (its subtree's data for a
 * gather, one partial result for a reduction); `relay(children)` is the work an interior
 * member does on what it received (null: forwarding only). Returns the root's task, done
 * when the root has everything.
 */
export function gatherUp(b: TaskMaker, tree: Tree, ready: readonly Task[], up: (i: number) => number, relay: (children: number) => TileWork | null, label: string): Task {
  const out: Task[] = new Array(tree.tiles.length);
  // one work object per fan-in (the cost model memoises on the object)
  const works: (TileWork | null | undefined)[] = [];
  for (const i of tree.postOrder) {
    const kids = tree.children[i];
    if (kids.length === 0) {
      out[i] = ready[i];
      continue;
    }
    let w = works[kids.length];
    if (w === undefined) w = works[kids.length] = relay(kids.length);
    const r = b.task(tree.tiles[i], w, label);
    ready[i].then(r);
    for (const c of kids) out[c].sendTo([r], up(c));
    out[i] = r;
  }
  return out[tree.root];
}

/** Bytes of each member's subtree: its own part plus its descendants' (what a gather sends up). */
export function subtreeBytes(tree: Tree, own: (i: number) => number): Float64Array {
  const sub = new Float64Array(tree.tiles.length);
  for (const i of tree.postOrder) {
    let s = own(i);
    for (const c of tree.children[i]) s += sub[c];
    sub[i] = s;
  }
  return sub;
}

/** A gather of every member's part to the tree's root: returns the root's task. */
export function gather(b: TaskMaker, tree: Tree, ready: readonly Task[], own: (i: number) => number, relay: (children: number) => TileWork | null, label: string): Task {
  const sub = subtreeBytes(tree, own);
  return gatherUp(b, tree, ready, (i) => sub[i], relay, label);
}

/** The root's result goes to every consumer in one multicast (consumers on distinct tiles). */
export function broadcast(root: Task, consumers: readonly Task[], bytes: number): void {
  if (consumers.length) root.sendTo(consumers as Task[], bytes);
}
