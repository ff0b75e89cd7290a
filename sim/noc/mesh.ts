import type { Design } from '../design/design.js';

/**
 * Mesh topology and dimension-order routing. Router ports: 0 local (the tile's network
 * interface), 1 north (row - 1), 2 east (col + 1), 3 south (row + 1), 4 west (col - 1).
 * Tiles and routers are numbered row-major: r = row x cols + col.
 */
export const LOCAL = 0;
export const NORTH = 1;
export const EAST = 2;
export const SOUTH = 3;
export const WEST = 4;
export const PORTS = 5;
export const PORT_NAMES = ['local', 'north', 'east', 'south', 'west'] as const;

/** The port on the neighbour that faces back: north <-> south, east <-> west. */
export function oppositePort(p: number): number {
  return p === LOCAL ? LOCAL : ((p + 1) & 3) + 1;
}

/** A routing function: the output port at router `r` for a packet to `dst`. */
export type RoutingFunction = (r: number, dst: number) => number;

export interface Mesh {
  readonly rows: number;
  readonly cols: number;
  readonly routers: number;
  /** neighbour[r * PORTS + p]: the router beyond port p of router r, or -1 at the edge. */
  readonly neighbour: Int32Array;
}

export function makeMesh(rows: number, cols: number): Mesh {
  const routers = rows * cols;
  const neighbour = new Int32Array(routers * PORTS).fill(-1);
  for (let r = 0; r < routers; r++) {
    const row = Math.floor(r / cols);
    const col = r - row * cols;
    if (row > 0) neighbour[r * PORTS + NORTH] = r - cols;
    if (col < cols - 1) neighbour[r * PORTS + EAST] = r + 1;
    if (row < rows - 1) neighbour[r * PORTS + SOUTH] = r + cols;
    if (col > 0) neighbour[r * PORTS + WEST] = r - 1;
  }
  return { rows, cols, routers, neighbour };
}

/** XY: correct the column (x) first, then the row (y). Deadlock-free on a mesh (Dally & Towles 14.2). */
function xyRoute(cols: number): RoutingFunction {
  return (r, dst) => {
    const dc = (dst % cols) - (r % cols);
    if (dc > 0) return EAST;
    if (dc < 0) return WEST;
    const dr = Math.floor(dst / cols) - Math.floor(r / cols);
    if (dr > 0) return SOUTH;
    if (dr < 0) return NORTH;
    return LOCAL;
  };
}

/** YX: correct the row first, then the column. */
function yxRoute(cols: number): RoutingFunction {
  return (r, dst) => {
    const dr = Math.floor(dst / cols) - Math.floor(r / cols);
    if (dr > 0) return SOUTH;
    if (dr < 0) return NORTH;
    const dc = (dst % cols) - (r % cols);
    if (dc > 0) return EAST;
    if (dc < 0) return WEST;
    return LOCAL;
  };
}

/** Routing functions by name (the design's `noc.routing`); add new ones here. */
export const ROUTING_FUNCTIONS: Readonly<Record<string, (mesh: Mesh) => RoutingFunction>> = {
  xy: (m) => xyRoute(m.cols),
  yx: (m) => yxRoute(m.cols),
};

export function routingFunction(design: Design, mesh: Mesh): RoutingFunction {
  const make = ROUTING_FUNCTIONS[design.noc.routing];
  if (!make) throw new RangeError(`unknown routing function '${design.noc.routing}'`);
  return make(mesh);
}

/** Manhattan distance in hops between two tiles (the length of every minimal route). */
export function hopCount(cols: number, a: number, b: number): number {
  return Math.abs((a % cols) - (b % cols)) + Math.abs(Math.floor(a / cols) - Math.floor(b / cols));
}

/** `router[row,col]`, the counter instance name of router r. */
export function routerName(cols: number, r: number): string {
  return `router[${Math.floor(r / cols)},${r % cols}]`;
}

/** `ni[row,col]`, the counter instance name of the network interface at tile r. */
export function interfaceName(cols: number, r: number): string {
  return `ni[${Math.floor(r / cols)},${r % cols}]`;
}
