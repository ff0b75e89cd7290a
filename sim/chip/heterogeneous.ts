import type { Design, DesignInput, TileParams } from '../design/design.js';
import { DesignSchema } from '../design/design.js';
import { parseInput } from '../validate/zod.js';
import type { ChipMapping } from './mapping.js';

/**
 * Heterogeneous tiles (`mapping.heterogeneousTiles`, the paper's post-RL per-tile rule,
 * paper-digest section 2): after mapping, each tile's memories and width are sized from its
 * share of the work, and the design gets one override per tile.
 *
 * - WMEM: the tile's weight slices + 2% (at least 256 KiB, the Table 7 minimum);
 * - DMEM: its activation reserve plus its KV share for `kvTokens` cached tokens + 10%,
 *   rounded up to 16 KiB (16-1024 KiB);
 * - VLEN: the uniform VLEN scaled by the tile's weight bytes relative to the mean of the
 *   tiles that hold weights, rounded to a power of two (128-2048): tiles that stream more
 *   weights get wider vectors (and, through VLEN/8, a wider ROM port);
 * - FETCH: scaled with VLEN (1-16), so the instruction supply keeps pace.
 *
 * Tiles without weights keep the smallest sizes. The result is re-validated like a file.
 */
export function sizeTilesFromWork(design: Design, mapping: ChipMapping, kvTokens: number): Design {
  const base = design.tile;
  const holders = mapping.tiles.filter((t) => t.romBytes > 0);
  const meanRom = holders.reduce((s, t) => s + t.romBytes, 0) / Math.max(1, holders.length);
  const pow2 = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, 2 ** Math.round(Math.log2(Math.max(1, x)))));
  const overrides = mapping.tiles.map((t) => {
    const wmemKiB = Math.max(256, Math.ceil((t.romBytes * 1.02) / 1024));
    const dmemNeed = (t.activationReserveBytes + t.kvBytesPerToken * kvTokens) * 1.1;
    const dmemKiB = Math.min(1024, Math.max(16, Math.ceil(dmemNeed / 1024 / 16) * 16));
    const share = t.romBytes > 0 ? t.romBytes / meanRom : 0.5;
    const vlenBits = pow2(base.vlenBits * share, 128, 2048);
    const fetchWidth = Math.min(16, Math.max(1, Math.round((base.fetchWidth * vlenBits) / base.vlenBits)));
    const params: Partial<TileParams> = { wmemKiB, dmemKiB, vlenBits, fetchWidth };
    return { row: t.row, col: t.col, ...params };
  });
  const input: DesignInput = {
    ...design,
    name: `${design.name} (tiles sized from their work)`,
    tileOverrides: [...design.tileOverrides, ...overrides],
    mapping: { ...design.mapping, heterogeneousTiles: false },
  };
  return parseInput(DesignSchema, input, `${design.name}: heterogeneous tile sizing`);
}
