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
    const to = [r]; // one target array shared by the children's sends
    for (const c of kids) out[c].sendTo(to, up(c));
    out[i] = r;
  }
  return out[tree.root];
}

/**
 * Bytes of each member's subtree: its own part plus its descendants' (what a gather sends
 * up). A plain array rather than a Float64Array: whole numbers read back from it as small
 * integers, where a Float64Array's read as heap numbers and made every send's `bytes`, and
 * its packets', a boxed field (38k sends and 72k packets a fast decode:1@512 run).
 */
export function subtreeBytes(tree: Tree, own: (i: number) => number): number[] {
  const sub: number[] = new Array<number>(tree.tiles.length).fill(0);
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

/** A member of a ring all-gather: its tile, the task after which its piece is ready, the piece's bytes. */
export interface RingMember {
  readonly tile: number;
  readonly ready: Task;
  readonly bytes: number;
}

/**
 * Ring order of tiles on a line (sorted by position): folded, 0, 2, 4, ..., 5, 3, 1, so
 * every link of the ring, the closing one included, spans at most two positions.
 */
function folded<T>(line: readonly T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < line.length; i += 2) out.push(line[i]);
  for (let i = line.length - 1 - (line.length % 2 === 0 ? 0 : 1); i > 0; i -= 2) out.push(line[i]);
  return out;
}

/**
 * Ring all-gather over `ring` (in ring order): r - 1 steps; in step s every member
 * forwards to its successor the piece it received in step s - 1 (its own in step 1), one
 * message per piece. Returns each member's last task (it then holds every piece).
 */
function ring(b: TaskMaker, ring: readonly RingMember[], label: string): Task[] {
  const r = ring.length;
  let last = ring.map((m) => m.ready);
  // piece k's bytes: member j holds, after step s, the piece of member j - s
  for (let s = 1; s < r; s++) {
    const next = ring.map((m) => b.task(m.tile, null, label));
    for (let j = 0; j < r; j++) {
      const from = (j - 1 + r) % r;
      last[j].then(next[j]);
      last[from].sendTo([next[j]], ring[(from - (s - 1) + r * r) % r].bytes);
    }
    last = next;
  }
  return last;
}

/**
 * Dimension-ordered ring all-gather (docs/chip.md, "Collectives"): a ring along each mesh
 * row of the members (folded, so links span at most two hops), then a ring of the rows'
 * first members (the row leaders) exchanging whole rows, then each leader multicasts the
 * other rows to the consumers of its row. `consumers` (one per tile) receive everything:
 * a member's consumer follows its own ring, a consumer with no piece gets every piece (the
 * sum of the members' bytes) from the nearest row's leader. Pieces travel whole (a piece's
 * norm statistics included), so the bytes a leader forwards are the other rows' pieces.
 */
export function ringAllGather(b: TaskMaker, members: readonly RingMember[], cols: number, consumers: readonly Task[], label: string): void {
  const total = members.reduce((s, m) => s + m.bytes, 0);
  const rows = new Map<number, RingMember[]>();
  for (const m of members) {
    const row = Math.floor(m.tile / cols);
    let list = rows.get(row);
    if (!list) rows.set(row, (list = []));
    list.push(m);
  }
  const rowIds = [...rows.keys()].sort((a, c) => a - c);
  const done = new Map<number, Task>();
  const leaders: RingMember[] = [];
  const rowBytes = new Map<number, number>();
  for (const row of rowIds) {
    const line = folded(rows.get(row)!.sort((a, c) => (a.tile % cols) - (c.tile % cols)));
    const ends = ring(b, line, `${label}:row-ring`);
    line.forEach((m, j) => done.set(m.tile, ends[j]));
    const bytes = line.reduce((s, m) => s + m.bytes, 0);
    rowBytes.set(row, bytes);
    leaders.push({ tile: line[0].tile, ready: ends[0], bytes });
  }
  const leaderEnds = ring(b, folded(leaders), `${label}:column-ring`);
  const leaderDone = new Map<number, Task>();
  folded(leaders).forEach((m, j) => leaderDone.set(Math.floor(m.tile / cols), leaderEnds[j]));
  // each leader hands the other rows to its row's consumers; a consumer off every row goes to the nearest
  const byLeader = new Map<number, { members: Task[]; others: Task[] }>();
  for (const c of consumers) {
    const row = Math.floor(c.tile / cols);
    const own = rows.has(row) ? row : rowIds.reduce((best, x) => (Math.abs(x - row) < Math.abs(best - row) ? x : best), rowIds[0]);
    let g = byLeader.get(own);
    if (!g) byLeader.set(own, (g = { members: [], others: [] }));
    const mine = done.get(c.tile);
    if (mine) {
      mine.then(c);
      g.members.push(c);
    } else g.others.push(c);
  }
  for (const [row, g] of byLeader) {
    const from = leaderDone.get(row)!;
    const leaderTile = rows.get(row)!.length ? leaders.find((m) => Math.floor(m.tile / cols) === row)!.tile : -1;
    // the leader's own consumer already follows its rings
    const ms = g.members.filter((c) => c.tile !== leaderTile);
    const lc = g.members.find((c) => c.tile === leaderTile);
    if (lc) from.then(lc);
    if (ms.length && rowIds.length > 1) from.sendTo(ms, total - rowBytes.get(row)!);
    if (g.others.length) from.sendTo(g.others, total);
  }
}
