import { createHash } from 'node:crypto';
import { DesignSchema, type Design, type DesignInput } from '../sim/design/design.js';
import { MAX_CLOCK_MHZ, PROCESS_NODES_NM, type ProcessNodeNm } from '../sim/tech/nodes.js';
import { parseInput } from '../sim/validate/zod.js';

/**
 * The design space (docs/search.md "Design space"): every searchable field of the design
 * schema as one dimension with a type and a range, and the fixed-length encoding of a
 * design into [0, 1]^d that the surrogate and the RL search work in.
 *
 * Types: `int` (uniform integers), `log-int` (integers on a log scale), `levels` (an
 * ordered list of allowed values, e.g. powers of two) and `categorical` (unordered
 * choices). Every type is encoded bin-centred: a dimension with n grid values splits [0, 1]
 * into n bins of equal width in its own scale (linear or log) and a value encodes to the
 * centre of its bin, so decode(encode(d)) = d exactly for every design on the grid, and a
 * uniform draw of u gives every grid value (of a categorical or levels dimension) the same
 * chance.
 *
 * Ranges span at least the paper's Table 7 (paper-digest.md section 2) and otherwise the
 * schema's own ranges; the clock's upper end is the node's maximum. The space's version is
 * a hash of this definition, so a label or model made with another definition is refused.
 */

export type DimKind = 'int' | 'log-int' | 'levels' | 'categorical';
export type DimValue = number | string | boolean;

export interface Dimension {
  /** Design field, dotted: `tile.vlenBits`. */
  readonly path: string;
  readonly kind: DimKind;
  /** Integer range (int, log-int); `hi` may be 'node-max-clock'. */
  readonly lo?: number;
  readonly hi?: number | 'node-max-clock';
  /** Allowed values in order (levels, categorical). */
  readonly values?: readonly DimValue[];
  readonly what: string;
}

/** Lowest clock in the space: the paper's low-power SmolVLM designs run at 10 MHz. */
export const CLOCK_MIN_MHZ = 5;

const pow2 = (lo: number, hi: number) => {
  const out: number[] = [];
  for (let v = lo; v <= hi; v *= 2) out.push(v);
  return out;
};

export const DIMENSIONS: readonly Dimension[] = [
  { path: 'processNodeNm', kind: 'categorical', values: [...PROCESS_NODES_NM], what: 'process node (nm)' },
  { path: 'clockMHz', kind: 'log-int', lo: CLOCK_MIN_MHZ, hi: 'node-max-clock', what: 'clock in whole MHz, up to the node maximum' },
  { path: 'mesh.rows', kind: 'log-int', lo: 2, hi: 64, what: 'mesh rows (2 to the schema maximum of 64)' },
  { path: 'mesh.cols', kind: 'log-int', lo: 2, hi: 64, what: 'mesh columns' },
  { path: 'tile.fetchWidth', kind: 'int', lo: 1, hi: 16, what: 'FETCH_SIZE (Table 7: 1-16)' },
  { path: 'tile.reservationStations', kind: 'int', lo: 1, hi: 32, what: 'STANUM (Table 7: 1-32)' },
  { path: 'tile.vlenBits', kind: 'levels', values: pow2(128, 2048), what: 'VLEN bits (Table 7: 128-2048, powers of two)' },
  { path: 'tile.dmemKiB', kind: 'log-int', lo: 16, hi: 1024, what: 'DMEM KiB (Table 7: 16-512; Table 16 uses 1024)' },
  { path: 'tile.wmemKiB', kind: 'log-int', lo: 256, hi: 1048576, what: 'WMEM (weight ROM) KiB (Table 7: 256 to "adaptive")' },
  { path: 'tile.imemKiB', kind: 'log-int', lo: 1, hi: 128, what: 'IMEM KiB (Table 7: 1-128)' },
  { path: 'tile.scalarWritePorts', kind: 'int', lo: 1, hi: 16, what: 'XR_WP (Table 7: 1-16)' },
  { path: 'tile.vectorWritePorts', kind: 'int', lo: 1, hi: 16, what: 'VR_WP (Table 7: 1-16)' },
  { path: 'tile.scalarDispatchPorts', kind: 'int', lo: 1, hi: 16, what: 'XDPNUM (Table 7: 1-16)' },
  { path: 'tile.vectorDispatchPorts', kind: 'int', lo: 1, hi: 16, what: 'VDPNUM (Table 7: 1-16)' },
  { path: 'tile.romBytesPerCycle', kind: 'levels', values: [0, ...pow2(16, 1024)], what: 'ROM port bytes per cycle (0 = VLEN/8)' },
  { path: 'tile.dmemPorts', kind: 'int', lo: 1, hi: 8, what: 'DMEM ports' },
  { path: 'tile.dmemBytesPerCycle', kind: 'levels', values: [0, ...pow2(16, 1024)], what: 'bytes per cycle per DMEM port (0 = VLEN/8)' },
  { path: 'tile.scheduling', kind: 'categorical', values: ['hazard-aware', 'in-order'], what: 'issue policy' },
  { path: 'noc.flitBits', kind: 'levels', values: pow2(64, 8192), what: 'DFLIT_WIDTH bits (Table 7: 64-8192)' },
  { path: 'noc.virtualChannels', kind: 'int', lo: 1, hi: 16, what: 'virtual channels per input port' },
  { path: 'noc.bufferDepthFlits', kind: 'log-int', lo: 1, hi: 64, what: 'flit slots per virtual channel' },
  { path: 'noc.routing', kind: 'categorical', values: ['xy', 'yx'], what: 'dimension-order routing' },
  { path: 'noc.multicast', kind: 'categorical', values: ['unicast', 'tree'], what: 'multicast as unicast fan-out or an XY tree' },
  { path: 'noc.injectionQueues', kind: 'categorical', values: ['single', 'per-vc'], what: 'injection queue organisation' },
  { path: 'precision.weights', kind: 'categorical', values: ['fp16', 'int8', 'int4'], what: 'weight format' },
  { path: 'precision.activations', kind: 'categorical', values: ['fp16', 'int8'], what: 'activation format' },
  { path: 'precision.kvCache', kind: 'categorical', values: ['fp16', 'int8', 'int4'], what: 'KV-cache format' },
  // 0 (the whole context) is the widest window, so it sorts last
  { path: 'mapping.kvWindowTokens', kind: 'levels', values: [...pow2(128, 8192), 0], what: 'sliding KV window (0 = whole context, sorted last)' },
  { path: 'mapping.pipelineStages', kind: 'log-int', lo: 1, hi: 64, what: 'pipeline regions (decoded as at most the number of tiles)' },
  { path: 'mapping.heterogeneousTiles', kind: 'categorical', values: [false, true], what: 'size each tile from its share of the work' },
  { path: 'mapping.treeRadix', kind: 'log-int', lo: 2, hi: 64, what: "fan-in of the collectives' gather and reduction trees (schema range 2-64)" },
  { path: 'mapping.allGather', kind: 'categorical', values: ['tree', 'ring'], what: 'all-gather pattern: k-ary tree then multicast, or dimension-ordered rings' },
  { path: 'serving.batching', kind: 'categorical', values: ['single', 'continuous'], what: 'batching policy' },
  { path: 'serving.maxBatch', kind: 'log-int', lo: 1, hi: 256, what: 'sequences in flight at most' },
  { path: 'serving.prefillChunkTokens', kind: 'log-int', lo: 8, hi: 2048, what: 'token budget per step' },
  { path: 'serving.microBatches', kind: 'log-int', lo: 1, hi: 16, what: 'micro-batches in flight' },
];

/**
 * Design-schema fields that are deliberately not dimensions, each with its reason. A test
 * walks the schema and fails on any field that is neither a dimension nor listed here, so
 * a knob added to the schema cannot be forgotten by the search.
 */
export const EXCLUDED_FIELDS: Readonly<Record<string, string>> = {
  kind: 'document type tag',
  schemaVersion: 'document format version',
  name: 'label, no hardware meaning',
  description: 'documentation',
  source: 'documentation',
  // free-form rectangles have no fixed-length encoding; per-tile sizing is searched
  // through mapping.heterogeneousTiles (the paper's post-RL per-tile rule)
  tileOverrides: 'per-tile rectangles: searched through mapping.heterogeneousTiles',
  // Circuit timing of a macro or pipeline at a node, not an architect's choice here: the
  // area and energy models charge nothing for a shorter latency, so a search would pin
  // each at its minimum. Kept at the schema defaults.
  'tile.romLatencyCycles': 'ROM macro access time (circuit timing)',
  'tile.dmemLatencyCycles': 'SRAM macro access time (circuit timing)',
  'tile.imemRefillCycles': 'IMEM refill time (circuit timing)',
  'tile.vectorLatencyCycles.mac': 'functional-unit latency (circuit timing)',
  'tile.vectorLatencyCycles.add': 'functional-unit latency (circuit timing)',
  'tile.vectorLatencyCycles.mul': 'functional-unit latency (circuit timing)',
  'tile.vectorLatencyCycles.max': 'functional-unit latency (circuit timing)',
  'tile.vectorLatencyCycles.exp': 'functional-unit latency (circuit timing)',
  'tile.vectorLatencyCycles.rsqrt': 'functional-unit latency (circuit timing)',
  'noc.routeComputeCycles': 'router stage delay (circuit timing)',
  'noc.vcAllocCycles': 'router stage delay (circuit timing)',
  'noc.switchAllocCycles': 'router stage delay (circuit timing)',
  'noc.switchTraversalCycles': 'router stage delay (circuit timing)',
  'noc.linkTraversalCycles': 'wire delay (circuit timing)',
  'noc.creditReturnCycles': 'wire delay (circuit timing)',
  'noc.headerBits': 'packet format, fixed by the protocol',
  // gating only lowers leakage in the model (wake-up energy and latency are not modelled,
  // docs/power.md), so it dominates 'always-on' and a search would always pick it
  'power.romPowerGating': 'ROM power gating: no modelled cost, kept at the default (idle-cycles)',
};

/** Version of the space: a readable name plus a hash of the definition above. */
export const SPACE_VERSION = `space-1.${createHash('sha256')
  .update(JSON.stringify({ DIMENSIONS, EXCLUDED: Object.keys(EXCLUDED_FIELDS).sort(), CLOCK_MIN_MHZ }))
  .digest('hex')
  .slice(0, 12)}`;

/** Number of dimensions d of the encoding. */
export const SPACE_DIMS = DIMENSIONS.length;

const KEYS = new Map<string, string[]>();

function getPath(obj: any, path: string): any {
  let keys = KEYS.get(path);
  if (!keys) KEYS.set(path, (keys = path.split('.')));
  let v = obj;
  for (let i = 0; i < keys.length; i++) v = v?.[keys[i]];
  return v;
}

function setPath(obj: any, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k] ??= {};
  o[keys[keys.length - 1]] = value;
}

function hiOf(dim: Dimension, node: ProcessNodeNm): number {
  return dim.hi === 'node-max-clock' ? MAX_CLOCK_MHZ[node] : (dim.hi as number);
}

/** Grid values of a discrete dimension (levels, categorical). */
function valuesOf(dim: Dimension): readonly DimValue[] {
  return dim.values!;
}

/** Value of dimension `dim` at unit coordinate u in [0, 1] (node for node-dependent ranges). */
export function dimFromUnit(dim: Dimension, u: number, node: ProcessNodeNm): DimValue {
  const x = Math.min(1, Math.max(0, Number.isFinite(u) ? u : 0));
  if (dim.kind === 'levels' || dim.kind === 'categorical') {
    const vs = valuesOf(dim);
    return vs[Math.min(vs.length - 1, Math.floor(x * vs.length))];
  }
  const lo = dim.lo!;
  const hi = hiOf(dim, node);
  if (dim.kind === 'int') return Math.min(hi, Math.max(lo, Math.round(lo - 0.5 + x * (hi - lo + 1))));
  // log-int: bins of equal width in log over [lo - 0.5, hi + 0.5]
  const a = Math.log(lo - 0.5);
  const b = Math.log(hi + 0.5);
  return Math.min(hi, Math.max(lo, Math.round(Math.exp(a + x * (b - a)))));
}

/** Unit coordinate of a value (the centre of its bin); NaN when the value is off the grid. */
export function dimToUnit(dim: Dimension, value: DimValue, node: ProcessNodeNm): number {
  if (dim.kind === 'levels' || dim.kind === 'categorical') {
    const vs = valuesOf(dim);
    const i = vs.indexOf(value);
    return i < 0 ? NaN : (i + 0.5) / vs.length;
  }
  const v = value as number;
  const lo = dim.lo!;
  const hi = hiOf(dim, node);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) return NaN;
  if (dim.kind === 'int') return (v - lo + 0.5) / (hi - lo + 1);
  const a = Math.log(lo - 0.5);
  const b = Math.log(hi + 0.5);
  return (Math.log(v) - a) / (b - a);
}

export interface OffGrid {
  readonly path: string;
  readonly value: unknown;
}

/**
 * Encode a design to [0, 1]^d. Values off the grid (a clock that is not whole MHz, a
 * pipeline count beyond 64, per-tile overrides) are reported in `offGrid` and encoded at
 * the nearest grid value (clamped), so out-of-sample designs still get a vector.
 */
export function encodeDesign(design: Design): { vector: Float64Array; offGrid: OffGrid[] } {
  const node = design.processNodeNm as ProcessNodeNm;
  const vector = new Float64Array(SPACE_DIMS);
  const offGrid: OffGrid[] = [];
  for (let i = 0; i < SPACE_DIMS; i++) {
    const c = COMPILED[i];
    const value = c.get(design);
    let u = c.toUnit(value, node);
    if (Number.isNaN(u)) {
      offGrid.push({ path: c.dim.path, value });
      u = nearestUnit(c.dim, value, node);
    }
    vector[i] = u;
  }
  if (design.tileOverrides.length) offGrid.push({ path: 'tileOverrides', value: `${design.tileOverrides.length} override(s)` });
  return { vector, offGrid };
}

/** Per dimension: a field getter and dimToUnit with its constants precomputed (the encoder is on a search's hot path). */
const COMPILED = DIMENSIONS.map((dim) => {
  // a generated getter (`d => d.tile?.vlenBits`) reads with named property loads, several
  // times faster than walking the path with keyed loads on the hot path of a search
  const keys = dim.path.split('.');
  if (!keys.every((k) => /^[A-Za-z_$][\w$]*$/.test(k))) throw new Error(`space: dimension path ${dim.path} is not a plain field path`);
  const get = new Function('d', `return d.${keys.join('?.')};`) as (d: Design) => DimValue;
  let toUnit: (v: DimValue, node: ProcessNodeNm) => number;
  if (dim.kind === 'levels' || dim.kind === 'categorical') {
    const index = new Map(dim.values!.map((v, i) => [v, i]));
    const n = dim.values!.length;
    toUnit = (v) => {
      const i = index.get(v);
      return i === undefined ? NaN : (i + 0.5) / n;
    };
  } else if (dim.hi === 'node-max-clock') toUnit = (v, node) => dimToUnit(dim, v, node);
  else {
    const lo = dim.lo!;
    const hi = dim.hi as number;
    const a = Math.log(lo - 0.5);
    const span = Math.log(hi + 0.5) - a;
    toUnit = (v) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) return NaN;
      return dim.kind === 'int' ? (v - lo + 0.5) / (hi - lo + 1) : (Math.log(v) - a) / span;
    };
  }
  return { dim, get, toUnit };
});

function nearestUnit(dim: Dimension, value: DimValue, node: ProcessNodeNm): number {
  if (typeof value !== 'number') return 0.5;
  if (dim.kind === 'levels') {
    const vs = valuesOf(dim) as number[];
    let best = 0;
    for (let i = 1; i < vs.length; i++) if (Math.abs(vs[i] - value) < Math.abs(vs[best] - value)) best = i;
    return (best + 0.5) / vs.length;
  }
  if (dim.kind === 'categorical') return 0.5;
  const lo = dim.lo!;
  const hi = hiOf(dim, node);
  return dimToUnit(dim, Math.min(hi, Math.max(lo, Math.round(value))), node);
}

/** Defaults for the excluded fields; a decoded design takes them from here. */
const BASE: DesignInput = {
  kind: 'design',
  schemaVersion: 1,
  name: 'sampled',
  processNodeNm: 7,
  clockMHz: 500,
  mesh: { rows: 2, cols: 2 },
  noc: { flitBits: 128, virtualChannels: 2, bufferDepthFlits: 4 },
  tile: { fetchWidth: 1, reservationStations: 1, vlenBits: 128, dmemKiB: 16, wmemKiB: 256, imemKiB: 1, scalarWritePorts: 1, vectorWritePorts: 1, scalarDispatchPorts: 1, vectorDispatchPorts: 1 },
};

/** Design values for every dimension from unit coordinates (the processNodeNm coordinate first fixes the node). */
export function valuesFromUnits(u: ArrayLike<number>): Map<string, DimValue> {
  const node = dimFromUnit(DIMENSIONS[0], u[0], 7) as ProcessNodeNm;
  const out = new Map<string, DimValue>();
  DIMENSIONS.forEach((dim, i) => out.set(dim.path, dimFromUnit(dim, u[i], node)));
  return out;
}

/** Build a validated design from dimension values (missing dimensions keep BASE's values). */
export function designFromValues(values: ReadonlyMap<string, DimValue>, name = 'sampled'): Design {
  const input: any = structuredClone(BASE);
  input.name = name;
  for (const [path, v] of values) setPath(input, path, v);
  const tiles = input.mesh.rows * input.mesh.cols;
  if (input.mapping?.pipelineStages > tiles) input.mapping.pipelineStages = tiles;
  return parseInput(DesignSchema, input, `design ${name}`);
}

/** Decode a vector in [0, 1]^d to a validated design (fields outside the space at their defaults). */
export function decodeDesign(u: ArrayLike<number>, name = 'sampled'): Design {
  if (u.length !== SPACE_DIMS) throw new RangeError(`decodeDesign: expected ${SPACE_DIMS} coordinates, got ${u.length}`);
  return designFromValues(valuesFromUnits(u), name);
}

/** The dimension of a design field, if it is one. */
export function dimensionOf(path: string): Dimension | undefined {
  return DIMENSIONS.find((d) => d.path === path);
}

/** Grid values of a dimension at a node (for sweeps and sensitivity tables). */
export function gridValues(dim: Dimension, node: ProcessNodeNm): DimValue[] {
  if (dim.kind === 'levels' || dim.kind === 'categorical') return [...valuesOf(dim)];
  const lo = dim.lo!;
  const hi = hiOf(dim, node);
  if (dim.kind === 'int') return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  const out: number[] = [];
  for (let v = lo; v <= hi; v = Math.max(v + 1, Math.round(v * 1.5))) out.push(v);
  if (out[out.length - 1] !== hi) out.push(hi);
  return out;
}

/**
 * Every leaf field of the design schema as a dotted path (objects are walked, wrappers
 * such as defaults and optionals unwrapped; arrays and scalars are leaves).
 */
export function designFieldPaths(): string[] {
  const out: string[] = [];
  const unwrap = (s: any): any => {
    let x = s;
    for (let i = 0; i < 20; i++) {
      const d = x?._zod?.def;
      if (!d) return x;
      if (['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(d.type)) x = d.innerType;
      else if (d.type === 'pipe') x = d.in;
      else return x;
    }
    return x;
  };
  const walk = (s: any, prefix: string) => {
    const c = unwrap(s);
    const d = c?._zod?.def;
    if (d?.type === 'object') {
      for (const [k, v] of Object.entries(d.shape)) walk(v, prefix ? `${prefix}.${k}` : k);
    } else out.push(prefix);
  };
  walk(DesignSchema, '');
  return out;
}
