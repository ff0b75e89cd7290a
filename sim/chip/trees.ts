/**
 * Collective trees on the mesh (docs/chip.md, "Collectives"): a k-ary tree over a set of
 * tiles, built by recursive bisection so that a parent and its children are close and the
 * hop distances shrink geometrically towards the leaves. The root is the tile nearest the
 * set's centroid (Manhattan distance), so a gather up the tree and the multicast back
 * down travel about half the set's extent each.
 *
 * Construction of the subtree over a set S: its root is the tile of S nearest S's
 * centroid; the other tiles are sorted along S's wider axis (ties by the other axis) and
 * cut into min(k, |S| - 1) contiguous parts of equal size, each part's subtree hanging
 * off the root.
 */

export interface Tree {
  /** The member tiles, in the order the caller gave them. */
  readonly tiles: readonly number[];
  /** Position (into `tiles`) of the root. */
  readonly root: number;
  /** Parent position of each member, -1 for the root. */
  readonly parent: Int32Array;
  /** Child positions of each member. */
  readonly children: readonly (readonly number[])[];
  /** Member positions, every child before its parent. */
  readonly postOrder: readonly number[];
  /** Levels below the root (0 for a single tile). */
  readonly depth: number;
}

/** The position in `idx` (positions into `tiles`) of the tile nearest their centroid; lowest tile id on ties. */
function nearestCentroid(tiles: readonly number[], idx: readonly number[], cols: number): number {
  let r = 0;
  let c = 0;
  for (const i of idx) {
    r += Math.floor(tiles[i] / cols);
    c += tiles[i] % cols;
  }
  r /= idx.length;
  c /= idx.length;
  let best = idx[0];
  let bestD = Infinity;
  for (const i of idx) {
    const d = Math.abs(Math.floor(tiles[i] / cols) - r) + Math.abs((tiles[i] % cols) - c);
    if (d < bestD - 1e-9 || (Math.abs(d - bestD) <= 1e-9 && tiles[i] < tiles[best])) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

export function buildTree(tiles: readonly number[], cols: number, radix: number): Tree {
  const n = tiles.length;
  if (n === 0) throw new Error('internal: a tree needs at least one tile');
  const k = Math.max(1, radix);
  const parent = new Int32Array(n).fill(-1);
  const children: number[][] = Array.from({ length: n }, () => []);
  const postOrder: number[] = [];
  let depth = 0;
  const build = (idx: number[], level: number): number => {
    const root = nearestCentroid(tiles, idx, cols);
    depth = Math.max(depth, level);
    const rest = idx.filter((i) => i !== root);
    if (rest.length) {
      let rMin = Infinity;
      let rMax = -Infinity;
      let cMin = Infinity;
      let cMax = -Infinity;
      for (const i of rest) {
        const r = Math.floor(tiles[i] / cols);
        const c = tiles[i] % cols;
        rMin = Math.min(rMin, r);
        rMax = Math.max(rMax, r);
        cMin = Math.min(cMin, c);
        cMax = Math.max(cMax, c);
      }
      const wide = cMax - cMin >= rMax - rMin;
      // sort key: position along the wider axis, then along the other (one number per tile)
      const key = (i: number) => (wide ? (tiles[i] % cols) * (rMax + 1) + Math.floor(tiles[i] / cols) : tiles[i]);
      rest.sort((a, b) => key(a) - key(b));
      const parts = Math.min(k, rest.length);
      for (let p = 0; p < parts; p++) {
        const part = rest.slice(Math.floor((p * rest.length) / parts), Math.floor(((p + 1) * rest.length) / parts));
        const child = build(part, level + 1);
        parent[child] = root;
        children[root].push(child);
      }
    }
    postOrder.push(root);
    return root;
  };
  const root = build(Array.from({ length: n }, (_, i) => i), 0);
  return { tiles, root, parent, children, postOrder, depth };
}
