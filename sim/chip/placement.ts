import type { ChipMapping, Region } from './mapping.js';
import type { StreamLayout } from './partition.js';
import { buildTree, type Tree } from './trees.js';

/**
 * Look-up tables over a mapping that the step builder needs: which region runs which
 * unit, each region's stream layouts, which tiles hold which rows of the row tables
 * (embedding, LM head, connector projection), and the collective trees (built once per
 * tile set).
 */

export interface Holder {
  readonly tile: number;
  readonly rows: number;
  readonly rowStart: number;
}

export class Placement {
  /** Region index of each unit name (`embedding`, `layer3`, `head`, `vision.layer0`, ...). */
  readonly unitRegion = new Map<string, number>();
  /** tensor -> (layer + 1) -> holders */
  private readonly holders = new Map<string, Holder[][]>();
  private readonly trees = new Map<string, Tree>();

  constructor(
    readonly mapping: ChipMapping,
    readonly cols: number,
    /** Fan-in of the collectives' gather and reduction trees (`mapping.treeRadix`). */
    readonly radix: number,
  ) {
    mapping.regions.forEach((r) => r.units.forEach((u) => this.unitRegion.set(u.name, r.stage)));
    // only the tables read a row at a time are looked up by the step builder
    const tables = new Set(['text.embed_tokens', 'text.lm_head', 'connector.proj']);
    for (const tp of mapping.tiles) {
      for (const s of tp.weightSlices) {
        if (!tables.has(s.tensor)) continue;
        let byLayer = this.holders.get(s.tensor);
        if (!byLayer) this.holders.set(s.tensor, (byLayer = []));
        const list = (byLayer[s.layer + 1] ??= []);
        list.push({ tile: tp.tile, rows: s.rowEnd - s.rowStart, rowStart: s.rowStart });
      }
    }
    for (const byLayer of this.holders.values()) for (const list of byLayer) list?.sort((a, b) => a.rowStart - b.rowStart);
  }

  /** Tiles holding rows of `tensor` (for `layer`, -1 for non-layer tensors), in row order. */
  holdersOf(tensor: string, layer: number): Holder[] {
    const h = this.holders.get(tensor)?.[layer + 1];
    if (!h) throw new Error(`internal: no tile holds ${tensor} (layer ${layer})`);
    return h;
  }

  /** The tile holding row `row` of `tensor`. */
  rowHolder(tensor: string, row: number): number {
    const hs = this.holdersOf(tensor, -1);
    for (const h of hs) if (row >= h.rowStart && row < h.rowStart + h.rows) return h.tile;
    return hs[hs.length - 1].tile;
  }

  regionOfUnit(name: string): number {
    const r = this.unitRegion.get(name);
    if (r === undefined) throw new Error(`internal: unit ${name} is not placed`);
    return r;
  }

  region(r: number): Region {
    return this.mapping.regions[r];
  }

  /** The layout of `part` in region `r`. */
  layout(r: number, part: 'text' | 'vision'): StreamLayout {
    const L = this.mapping.regions[r][part];
    if (!L) throw new Error(`internal: region ${r} has no ${part} layout`);
    return L;
  }

  private readonly memos = new Map<string, unknown>();

  /** A value derived from the mapping alone (per-tile work shapes, ...), made once per key. */
  memo<T>(key: string, make: () => T): T {
    let v = this.memos.get(key) as T | undefined;
    if (v === undefined) this.memos.set(key, (v = make()));
    return v;
  }

  /** The collective tree over `tiles` (cached under `key`, which must name the tile set). */
  tree(key: string, tiles: readonly number[]): Tree {
    let t = this.trees.get(key);
    if (!t) this.trees.set(key, (t = buildTree(tiles, this.cols, this.radix)));
    return t;
  }
}
