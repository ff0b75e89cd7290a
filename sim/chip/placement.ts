import type { ChipMapping } from './mapping.js';

/**
 * Look-up tables over a mapping that the step builder needs: which region runs which
 * unit, each region's root tile, which tiles hold which weight rows, and how each
 * decoder layer's KV heads are split over tiles.
 */

export interface Holder {
  readonly tile: number;
  readonly rows: number;
  readonly rowStart: number;
}

export interface KvPart {
  readonly tile: number;
  readonly fraction: number;
}

export class Placement {
  /** Region index of each unit name (`embedding`, `layer3`, `head`, `vision.layer0`, ...). */
  readonly unitRegion = new Map<string, number>();
  /** Root tile of each region (the mapper's choice: nearest the region's centroid). */
  readonly regionRoot: number[];
  /** tensor -> (layer + 1) -> holders */
  private readonly holders = new Map<string, Holder[][]>();
  /** kvParts[layer][head] = the tiles holding parts of that head's context. */
  readonly kvParts: KvPart[][][];

  constructor(
    readonly mapping: ChipMapping,
    readonly cols: number,
    kvHeads: number,
    layers: number,
  ) {
    mapping.regions.forEach((r) => r.units.forEach((u) => this.unitRegion.set(u.name, r.stage)));
    this.regionRoot = mapping.regions.map((r) => r.root);
    for (const tp of mapping.tiles) {
      for (const s of tp.weightSlices) {
        let byLayer = this.holders.get(s.tensor);
        if (!byLayer) this.holders.set(s.tensor, (byLayer = []));
        const list = (byLayer[s.layer + 1] ??= []);
        list.push({ tile: tp.tile, rows: s.rowEnd - s.rowStart, rowStart: s.rowStart });
      }
    }
    this.kvParts = Array.from({ length: layers }, () => Array.from({ length: kvHeads }, () => [] as KvPart[]));
    for (const tp of mapping.tiles) {
      for (const share of tp.kvShares) {
        for (const p of share.parts) this.kvParts[share.layer][p.kvHead].push({ tile: tp.tile, fraction: p.toFraction - p.fromFraction });
      }
    }
  }

  /** Tiles holding rows of `tensor` (for `layer`, -1 for non-layer tensors), in row order. */
  holdersOf(tensor: string, layer: number): Holder[] {
    const h = this.holders.get(tensor)?.[layer + 1];
    if (!h) throw new Error(`internal: no tile holds ${tensor} (layer ${layer})`);
    return h;
  }

  /** The tile holding embedding row `row` of `tensor`. */
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
}
