import type { Design, TileParams } from './design.js';

/** Tile index of (row, col) in row-major order. */
export function tileIndex(design: Design, row: number, col: number): number {
  return row * design.mesh.cols + col;
}

/**
 * Every tile's parameters, row-major: the uniform `tile` block with each matching
 * `tileOverrides` entry applied in order (later entries win).
 */
export function resolveTiles(design: Design): TileParams[] {
  const { rows, cols } = design.mesh;
  const tiles: TileParams[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let t: TileParams = design.tile;
      for (const o of design.tileOverrides) {
        const [r0, r1] = typeof o.row === 'number' ? [o.row, o.row] : o.row;
        const [c0, c1] = typeof o.col === 'number' ? [o.col, o.col] : o.col;
        if (r >= r0 && r <= r1 && c >= c0 && c <= c1) {
          const { row: _row, col: _col, ...params } = o;
          t = { ...t, ...Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) };
        }
      }
      tiles.push(t);
    }
  }
  return tiles;
}

export interface DesignSummary {
  readonly name: string;
  readonly processNodeNm: number;
  readonly clockMHz: number;
  readonly mesh: string;
  readonly tiles: number;
  readonly overriddenTiles: number;
  readonly wmemTotalBytes: number;
  readonly dmemTotalBytes: number;
  readonly imemTotalBytes: number;
  readonly flitBits: number;
  /** Eq. 18 of the paper: min(M, N) x flit width x f, in bytes per second, one direction. */
  readonly bisectionBytesPerSecond: number;
  readonly precision: string;
}

export function summarizeDesign(design: Design): DesignSummary {
  const tiles = resolveTiles(design);
  const sum = (f: (t: TileParams) => number) => tiles.reduce((s, t) => s + f(t), 0);
  const overridden = tiles.filter((t) => t !== design.tile).length;
  const p = design.precision;
  return {
    name: design.name,
    processNodeNm: design.processNodeNm,
    clockMHz: design.clockMHz,
    mesh: `${design.mesh.rows}x${design.mesh.cols}`,
    tiles: tiles.length,
    overriddenTiles: overridden,
    wmemTotalBytes: sum((t) => t.wmemKiB * 1024),
    dmemTotalBytes: sum((t) => t.dmemKiB * 1024),
    imemTotalBytes: sum((t) => t.imemKiB * 1024),
    flitBits: design.noc.flitBits,
    bisectionBytesPerSecond: (Math.min(design.mesh.rows, design.mesh.cols) * design.noc.flitBits * design.clockMHz * 1e6) / 8,
    precision: `W:${p.weights} A:${p.activations} KV:${p.kvCache}`,
  };
}
