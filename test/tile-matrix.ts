import { TileParamsSchema, type TileParams } from '../sim/design/design.js';
import type { KernelSpec } from '../sim/tile/kernels.js';
import type { TilePrecision } from '../sim/tile/params.js';

/** The kernel x configuration matrix shared by the tile tests (11 kernels x 5 configurations). */
const BASE = { fetchWidth: 4, reservationStations: 16, vlenBits: 1024, dmemKiB: 512, wmemKiB: 10240, imemKiB: 16, scalarWritePorts: 2, vectorWritePorts: 2, scalarDispatchPorts: 2, vectorDispatchPorts: 2 };

export interface Config {
  readonly name: string;
  readonly tile: TileParams;
  readonly precision: TilePrecision;
}

const cfg = (name: string, over: Record<string, unknown>, precision: TilePrecision): Config => ({ name, tile: TileParamsSchema.parse({ ...BASE, ...over }), precision });

export const CONFIGS: readonly Config[] = [
  cfg('base-fp16', {}, { weights: 'fp16', activations: 'fp16', kvCache: 'fp16' }),
  cfg('small-w4a16', { fetchWidth: 1, reservationStations: 4, vectorDispatchPorts: 1, vlenBits: 512 }, { weights: 'int4', activations: 'fp16', kvCache: 'int8' }),
  cfg('in-order-w8a16', { scheduling: 'in-order' }, { weights: 'int8', activations: 'fp16', kvCache: 'fp16' }),
  cfg('vlen256-wide', { vlenBits: 256, reservationStations: 32, fetchWidth: 8 }, { weights: 'fp16', activations: 'fp16', kvCache: 'fp16' }),
  cfg('narrow-mem-w8a8', { vlenBits: 512, dmemPorts: 1, romBytesPerCycle: 32, reservationStations: 8 }, { weights: 'int8', activations: 'int8', kvCache: 'int8' }),
];

export const KERNELS: readonly KernelSpec[] = [
  { kind: 'gemv', rows: 256, cols: 256 },
  { kind: 'gemm', rows: 128, cols: 128, tokens: 4 },
  { kind: 'attention', queryHeads: 4, headDim: 64, contextTokens: 256 },
  { kind: 'rmsnorm', dim: 2048 },
  { kind: 'layernorm', dim: 768 },
  { kind: 'silu-gate', dim: 2048 },
  { kind: 'gelu', dim: 1536 },
  { kind: 'rope', heads: 32, headDim: 64 },
  { kind: 'residual', dim: 2048 },
  { kind: 'argmax', vocab: 4096 },
  { kind: 'patch-embed', patches: 4, patchDim: 192, hidden: 128 },
];

export function label(k: KernelSpec, c: Config): string {
  return `${k.kind} on ${c.name}`;
}
