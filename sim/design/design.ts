import { z } from 'zod';
import { MAX_CLOCK_MHZ, PROCESS_NODES_NM } from '../tech/nodes.js';
import { refineIssue } from '../validate/zod.js';

/**
 * Chip design: the JSON description of one 2D-mesh ASIC (docs/formats.md). Ranges follow
 * the paper's Table 7 (../shared/reference/paper-digest.md section 2) unless noted.
 * Fields added by later features carry defaults, so older design files stay valid.
 */

const int = (min: number, max: number, what: string) => z.number().int().min(min).max(max).describe(what);
const powerOfTwo = (min: number, max: number, what: string) =>
  int(min, max, what).refine((v) => (v & (v - 1)) === 0, { message: `must be a power of two in ${min}..${max}`, params: { allowed: `must be a power of two in ${min}..${max}`, fix: 'use 128, 256, 512, 1024 or 2048' } });

/** Per-tile (Tensor Compute Core) parameters. */
const TILE_CORE_FIELDS = {
  fetchWidth: int(1, 16, 'FETCH_SIZE: instructions fetched per cycle'),
  reservationStations: int(1, 32, 'STANUM: reservation-station entries'),
  vlenBits: powerOfTwo(128, 2048, 'VLEN: vector register length in bits'),
  /** Table 7 says 16-512 KB; Table 16's 3 nm design uses up to 1024 KB, so 1024 is allowed. */
  dmemKiB: int(16, 1024, 'DMEM_SIZE_KB: SRAM for activations and the KV cache'),
  /** Table 7: 256 KB to "adaptive" (model-dependent); capped at 1 GiB per tile. */
  wmemKiB: int(256, 1048576, 'WMEM_SIZE_KB: on-chip weight ROM'),
  imemKiB: int(1, 128, 'IMEM_SIZE_KB: instruction memory'),
  scalarWritePorts: int(1, 16, 'XR_WP: scalar register-file write ports'),
  vectorWritePorts: int(1, 16, 'VR_WP: vector register-file write ports'),
  scalarDispatchPorts: int(1, 16, 'XDPNUM: scalar dispatch ports'),
  vectorDispatchPorts: int(1, 16, 'VDPNUM: vector dispatch ports'),
};

/** Per-class vector pipeline latencies (issue to result), docs/tile.md. */
export const VectorLatencySchema = z.strictObject({
  mac: int(1, 64, 'multiply-accumulate latency in cycles').default(4),
  add: int(1, 64, 'vector add latency in cycles').default(2),
  mul: int(1, 64, 'vector multiply latency in cycles').default(3),
  max: int(1, 64, 'vector max latency in cycles').default(2),
  exp: int(1, 64, 'exp approximation latency in cycles').default(8),
  rsqrt: int(1, 64, 'reciprocal-square-root approximation latency in cycles').default(8),
});

/** Pipeline fields of the tile model (issue 4, docs/tile.md), without defaults (for overrides). */
const TILE_PIPELINE_FIELDS = {
  romBytesPerCycle: int(0, 4096, 'ROM port width in bytes per cycle; 0 means VLEN/8 (balances FP16 batch-1 GEMV)'),
  romLatencyCycles: int(1, 64, 'ROM access latency in cycles'),
  dmemPorts: int(1, 8, 'DMEM SRAM ports (loads and stores share them)'),
  dmemBytesPerCycle: int(0, 4096, 'bytes per cycle per DMEM port; 0 means VLEN/8'),
  dmemLatencyCycles: int(1, 64, 'DMEM access latency in cycles'),
  imemRefillCycles: int(1, 1000, 'cycles to refill one 64-byte IMEM line when the program exceeds IMEM'),
  scheduling: z.enum(['hazard-aware', 'in-order']).describe('issue policy: oldest ready first, or strictly in program order'),
  vectorLatencyCycles: VectorLatencySchema,
};

/** The same fields with their defaults (a design without them keeps its old meaning). */
const TILE_PIPELINE_DEFAULTS = {
  romBytesPerCycle: TILE_PIPELINE_FIELDS.romBytesPerCycle.default(0),
  romLatencyCycles: TILE_PIPELINE_FIELDS.romLatencyCycles.default(2),
  dmemPorts: TILE_PIPELINE_FIELDS.dmemPorts.default(2),
  dmemBytesPerCycle: TILE_PIPELINE_FIELDS.dmemBytesPerCycle.default(0),
  dmemLatencyCycles: TILE_PIPELINE_FIELDS.dmemLatencyCycles.default(2),
  imemRefillCycles: TILE_PIPELINE_FIELDS.imemRefillCycles.default(20),
  scheduling: TILE_PIPELINE_FIELDS.scheduling.default('hazard-aware'),
  vectorLatencyCycles: VectorLatencySchema.default({ mac: 4, add: 2, mul: 3, max: 2, exp: 8, rsqrt: 8 }),
};

export const TileParamsSchema = z.strictObject({ ...TILE_CORE_FIELDS, ...TILE_PIPELINE_DEFAULTS });

const range = z.union([z.number().int().min(0).max(63), z.tuple([z.number().int().min(0).max(63), z.number().int().min(0).max(63)])]);

/** Overrides for a rectangle of tiles (later entries win). */
export const TileOverrideSchema = z.strictObject({ ...TILE_CORE_FIELDS, ...TILE_PIPELINE_FIELDS }).partial().extend({
  row: range.describe('a row index or an inclusive [first, last] range'),
  col: range.describe('a column index or an inclusive [first, last] range'),
});

export const NocParamsSchema = z.strictObject({
  flitBits: int(64, 8192, 'DFLIT_WIDTH: flit width in bits').multipleOf(8),
  virtualChannels: int(1, 16, 'virtual channels per input port'),
  bufferDepthFlits: int(1, 64, 'flit buffer slots per virtual channel'),
  routing: z.enum(['xy', 'yx']).default('xy').describe('dimension-order routing function'),
  routeComputeCycles: int(0, 16, 'route computation stage delay').default(1),
  vcAllocCycles: int(0, 16, 'VC allocation stage delay').default(1),
  switchAllocCycles: int(0, 16, 'switch allocation stage delay').default(1),
  switchTraversalCycles: int(0, 16, 'crossbar traversal stage delay').default(1),
  linkTraversalCycles: int(1, 64, 'link traversal delay').default(1),
  creditReturnCycles: int(0, 64, 'credit return delay').default(0),
  headerBits: int(0, 256, 'packet header bits carried by the head flit (docs/noc.md)').default(32),
  multicast: z.enum(['unicast', 'tree']).default('unicast').describe('multicast as unicast fan-out from the source or as an XY tree replicated in the routers'),
  injectionQueues: z.enum(['single', 'per-vc']).default('single').describe('network-interface injection queue: one FIFO, or one FIFO per VC'),
});

export const PrecisionSchema = z.strictObject({
  weights: z.enum(['fp16', 'int8', 'int4']).default('fp16').describe('weight storage format in ROM'),
  activations: z.enum(['fp16', 'int8']).default('fp16').describe('activation format in the vector lanes'),
  kvCache: z.enum(['fp16', 'int8', 'int4']).default('fp16').describe('KV-cache storage format in DMEM'),
});

export const MappingSchema = z.strictObject({
  pipelineStages: int(1, 4096, 'mesh regions the layers are pipelined across (layer pipelining)').default(1),
  kvWindowTokens: int(0, 16777216, 'sliding KV window in tokens; 0 keeps the whole context').default(0),
  heterogeneousTiles: z.boolean().default(false).describe("size each tile's FETCH, VLEN, WMEM and DMEM from its share of the work"),
  treeRadix: int(2, 64, 'fan-in of the collectives\' gather and reduction trees (docs/chip.md, "Collectives")').default(8),
  allGather: z.enum(['tree', 'ring']).default('tree').describe('all-gather pattern: gather up a k-ary tree then multicast, or dimension-ordered rings (rows, then row leaders)'),
});

export const ServingSchema = z.strictObject({
  batching: z.enum(['single', 'continuous']).default('continuous').describe('single: one request at a time; continuous: iteration-level batching'),
  maxBatch: int(1, 4096, 'sequences in flight at most (continuous batching)').default(8),
  prefillChunkTokens: int(1, 65536, 'token budget per step: decode rows first, then one prefill chunk').default(256),
  microBatches: int(1, 256, 'micro-batches in flight at once through the pipeline regions').default(1),
});

/** Power management choices (docs/power.md "ROM leakage"). */
export const PowerSchema = z.strictObject({
  romPowerGating: z
    .enum(['idle-cycles', 'always-on'])
    .default('idle-cycles')
    .describe("weight ROM leakage: 'idle-cycles' power-gates the ROM whenever it is idle (the paper's sleep transistors; wake-up energy and latency not modelled), 'always-on' leaks every cycle"),
});

export const DesignSchema = z
  .strictObject({
    kind: z.literal('design'),
    schemaVersion: z.literal(1),
    name: z.string().min(1).describe("the design's name in reports"),
    description: z.string().optional().describe('what the design is and where it departs from its source'),
    source: z.string().optional().describe('where the design point comes from'),
    processNodeNm: z.literal([...PROCESS_NODES_NM]).describe('process node in nm'),
    clockMHz: z.number().min(0.001).max(1000).describe('core and NoC clock in MHz'),
    mesh: z.strictObject({ rows: int(1, 64, 'mesh rows'), cols: int(1, 64, 'mesh columns') }),
    noc: NocParamsSchema,
    tile: TileParamsSchema,
    tileOverrides: z.array(TileOverrideSchema).default([]).describe('per-tile values for rectangles of tiles ({"row": [2, 3], "col": 1, "vlenBits": 2048}); later entries win'),
    precision: PrecisionSchema.default({ weights: 'fp16', activations: 'fp16', kvCache: 'fp16' }),
    mapping: MappingSchema.default({ pipelineStages: 1, kvWindowTokens: 0, heterogeneousTiles: false, treeRadix: 8, allGather: 'tree' }),
    serving: ServingSchema.default({ batching: 'continuous', maxBatch: 8, prefillChunkTokens: 256, microBatches: 1 }),
    power: PowerSchema.default({ romPowerGating: 'idle-cycles' }),
  })
  .superRefine((d, ctx) => {
    const max = MAX_CLOCK_MHZ[d.processNodeNm];
    if (d.clockMHz > max) {
      refineIssue(ctx, ['clockMHz'], `above the ${d.processNodeNm} nm maximum of ${max} MHz`, `use a clock of at most ${max} MHz or a smaller node`);
    }
    d.tileOverrides.forEach((o, i) => {
      for (const [axis, limit] of [['row', d.mesh.rows], ['col', d.mesh.cols]] as const) {
        const [a, b] = typeof o[axis] === 'number' ? [o[axis], o[axis]] : o[axis];
        if (a > b || b >= limit) {
          refineIssue(ctx, ['tileOverrides', i, axis], `must lie inside the mesh (0..${limit - 1}) with first <= last`, `use indices below ${limit}`);
        }
      }
    });
    if (d.mapping.pipelineStages > d.mesh.rows * d.mesh.cols) {
      refineIssue(ctx, ['mapping', 'pipelineStages'], `at most the number of tiles (${d.mesh.rows * d.mesh.cols})`, 'use fewer pipeline stages or a larger mesh');
    }
  });

export type TileParams = z.output<typeof TileParamsSchema>;
export type NocParams = z.output<typeof NocParamsSchema>;
export type Design = z.output<typeof DesignSchema>;
export type Serving = z.output<typeof ServingSchema>;
/** What a user may write (defaults not yet applied). */
export type DesignInput = z.input<typeof DesignSchema>;
