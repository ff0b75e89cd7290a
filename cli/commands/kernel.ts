import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { loadDesign } from '../load.js';
import { applySingle, withSetOption } from '../overrides.js';
import { fmtInt } from '../format.js';
import { InputError } from '../../sim/validate/inputError.js';
import { parseInput } from '../../sim/validate/zod.js';
import { TileParamsSchema, PrecisionSchema, type TileParams } from '../../sim/design/design.js';
import { resolveTiles } from '../../sim/design/tiles.js';
import { KERNEL_KINDS, type KernelKind, type KernelSpec } from '../../sim/tile/kernels.js';
import { runKernel } from '../../sim/tile/run.js';
import { STALL_CAUSES } from '../../sim/tile/stats.js';
import type { TilePrecision } from '../../sim/tile/params.js';

/** Tile flags -> tile fields (the flag overrides the design's value). */
const TILE_FLAGS: Readonly<Record<string, keyof TileParams>> = {
  'fetch-width': 'fetchWidth',
  'reservation-stations': 'reservationStations',
  vlen: 'vlenBits',
  'dmem-kib': 'dmemKiB',
  'wmem-kib': 'wmemKiB',
  'imem-kib': 'imemKiB',
  'scalar-write-ports': 'scalarWritePorts',
  'vector-write-ports': 'vectorWritePorts',
  'scalar-dispatch-ports': 'scalarDispatchPorts',
  'vector-dispatch-ports': 'vectorDispatchPorts',
  'rom-bytes-per-cycle': 'romBytesPerCycle',
  'rom-latency': 'romLatencyCycles',
  'dmem-ports': 'dmemPorts',
  'dmem-bytes-per-cycle': 'dmemBytesPerCycle',
  'dmem-latency': 'dmemLatencyCycles',
};

export interface KernelArgs {
  kernel: string;
  design: string;
  tile: string;
  precision?: string;
  kv?: string;
  fidelity: string;
  scheduling?: string;
  json: boolean;
  set?: string[];
  rows?: number;
  cols?: number;
  tokens?: number;
  heads?: number;
  'head-dim'?: number;
  context?: number;
  splits?: number;
  append?: number;
  dim?: number;
  vocab?: number;
  patches?: number;
  'patch-dim'?: number;
  hidden?: number;
  [flag: string]: unknown;
}

/** `--precision` as `fp16|int8|int4` (weights) or `wXaY` (w4a16, w8a8, w16a16). */
export function parsePrecision(spec: string | undefined, kv: string | undefined, base: TilePrecision): TilePrecision {
  let p: TilePrecision = { ...base };
  if (spec !== undefined) {
    const m = /^w(4|8|16)a(8|16)$/i.exec(spec);
    const bitsName = (b: string) => (b === '16' ? 'fp16' : b === '8' ? 'int8' : 'int4');
    if (m) p = { ...p, weights: bitsName(m[1]) as TilePrecision['weights'], activations: bitsName(m[2]) as TilePrecision['activations'] };
    else if (['fp16', 'int8', 'int4'].includes(spec)) p = { ...p, weights: spec as TilePrecision['weights'] };
    else throw new InputError('--precision', 'precision', spec, 'fp16, int8, int4 (weights) or wXaY such as w4a16, w8a8, w16a16', 'use e.g. --precision w4a16');
  }
  if (kv !== undefined) p = { ...p, kvCache: kv as TilePrecision['kvCache'] };
  return parseInput(PrecisionSchema, p, '--precision/--kv') as TilePrecision;
}

/** More partials than this is not a tile's combine step but a typo (each is a NoC receive). */
const MAX_SPLITS = 1024;

function need(args: KernelArgs, flag: string): number {
  const v = args[flag];
  if (v === undefined) throw new InputError('command line', `--${flag}`, undefined, `required for --kernel ${args.kernel}`, `add --${flag} N`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new InputError('command line', `--${flag}`, v, 'a positive integer', `give --${flag} a whole number`);
  return v;
}

export function kernelSpecFromArgs(args: KernelArgs): KernelSpec {
  const kind = args.kernel as KernelKind;
  const tokens = args.tokens;
  switch (kind) {
    case 'gemv':
      return { kind, rows: need(args, 'rows'), cols: need(args, 'cols') };
    case 'gemm':
      return { kind, rows: need(args, 'rows'), cols: need(args, 'cols'), tokens: need(args, 'tokens') };
    case 'attention': {
      const splits = args.splits === undefined ? 1 : need(args, 'splits');
      if (splits > MAX_SPLITS) throw new InputError('command line', '--splits', splits, `at most ${MAX_SPLITS} context splits`, `use --splits ${MAX_SPLITS} or fewer`);
      return { kind, queryHeads: need(args, 'heads'), headDim: need(args, 'head-dim'), contextTokens: need(args, 'context'), appendTokens: args.append ?? 0, combineFrom: Array.from({ length: Math.max(0, splits - 1) }, (_, i) => i + 1) };
    }
    case 'rmsnorm':
    case 'layernorm':
    case 'silu-gate':
    case 'gelu':
    case 'residual':
      return { kind, dim: need(args, 'dim'), tokens: tokens ?? 1 };
    case 'rope':
      return { kind, heads: need(args, 'heads'), headDim: need(args, 'head-dim'), tokens: tokens ?? 1 };
    case 'argmax':
      return { kind, vocab: need(args, 'vocab') };
    case 'patch-embed':
      return { kind, patches: need(args, 'patches'), patchDim: need(args, 'patch-dim'), hidden: need(args, 'hidden') };
    default:
      throw new InputError('command line', '--kernel', args.kernel, `one of ${KERNEL_KINDS.join(', ')}`, 'pick a kernel');
  }
}

export function kernelCommand(io: Io): CommandModule<object, KernelArgs> {
  return {
    command: 'kernel',
    builder: (y: Argv) => {
      let b = y
        .option('kernel', { type: 'string', demandOption: true, choices: KERNEL_KINDS as string[], describe: 'kernel to run' })
        .option('design', { type: 'string', default: 'w4a16-8x8-7nm', describe: 'design file or preset giving the tile parameters and precision' })
        .option('tile', { type: 'string', default: '0,0', describe: 'which tile of the design (row,col)' })
        .option('precision', { type: 'string', describe: 'weight precision (fp16|int8|int4) or wXaY (w4a16, w8a8, w16a16)' })
        .option('kv', { type: 'string', choices: ['fp16', 'int8', 'int4'], describe: 'KV-cache precision' })
        .option('fidelity', { type: 'string', choices: ['fast', 'detailed'], default: 'fast', describe: 'block-level fast model or the instruction-by-instruction pipeline' })
        .option('scheduling', { type: 'string', choices: ['hazard-aware', 'in-order'], describe: 'issue policy (overrides the design)' })
        .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
        .option('rows', { type: 'number', describe: 'gemv/gemm: output rows of the slice' })
        .option('cols', { type: 'number', describe: 'gemv/gemm: input columns of the slice' })
        .option('tokens', { type: 'number', describe: 'gemm: tokens (prefill); elementwise kernels: tokens' })
        .option('heads', { type: 'number', describe: 'attention: query heads sharing the KV head; rope: heads' })
        .option('head-dim', { type: 'number', describe: 'attention/rope: head dimension' })
        .option('context', { type: 'number', describe: 'attention: KV context tokens on this tile' })
        .option('splits', { type: 'number', describe: 'attention: context splits to combine (partials received over the NoC)' })
        .option('append', { type: 'number', describe: 'attention: new tokens whose K and V are appended to the cache first (decode: 1)' })
        .option('dim', { type: 'number', describe: 'norm/elementwise kernels: vector length' })
        .option('vocab', { type: 'number', describe: 'argmax: vocabulary slice' })
        .option('patches', { type: 'number', describe: 'patch-embed: patches' })
        .option('patch-dim', { type: 'number', describe: 'patch-embed: patch size x patch size x channels' })
        .option('hidden', { type: 'number', describe: 'patch-embed: hidden size' });
      for (const [flag, field] of Object.entries(TILE_FLAGS)) b = b.option(flag, { type: 'number', describe: `tile.${field} (overrides the design)` });
      return withSetOption(b) as unknown as Argv<KernelArgs>;
    },
    handler: (args) => {
      const design = applySingle(loadDesign(io, args.design), args.set, args.design, 'tessera kernel');
      const m = /^(\d+),(\d+)$/.exec(args.tile);
      if (!m || Number(m[1]) >= design.mesh.rows || Number(m[2]) >= design.mesh.cols) {
        throw new InputError('command line', '--tile', args.tile, `row,col inside the ${design.mesh.rows}x${design.mesh.cols} mesh`, 'use e.g. --tile 0,0');
      }
      const base = resolveTiles(design)[Number(m[1]) * design.mesh.cols + Number(m[2])];
      const tileIn: Record<string, unknown> = { ...base };
      for (const [flag, field] of Object.entries(TILE_FLAGS)) if (args[flag] !== undefined) tileIn[field] = args[flag];
      if (args.scheduling) tileIn.scheduling = args.scheduling;
      let tile: TileParams;
      try {
        tile = parseInput(TileParamsSchema, tileIn, 'tile parameters');
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        const flag = Object.entries(TILE_FLAGS).find(([, f]) => f === e.field)?.[0];
        throw new InputError(flag ? '--' + flag : args.design, `tile.${e.field}`, e.value, e.allowed, e.fix);
      }
      const precision = parsePrecision(args.precision, args.kv, design.precision as TilePrecision);
      const spec = kernelSpecFromArgs(args);
      const r = runKernel(tile, precision, spec, { fidelity: args.fidelity as 'fast' | 'detailed' });
      if (args.json) {
        io.stdout(
          `${JSON.stringify(
            { kernel: spec, fidelity: r.fidelity, precision, tile, design, cycles: r.cycles, busyCycles: r.busyCycles, romBytesRead: r.romBytesRead, romScaleBytesRead: r.counters['tile.romScaleBytesRead'], macs: r.macs, instructions: r.instructions, stallCycles: r.stallCycles, events: r.events, counters: r.counters },
            null,
            2,
          )}\n`,
        );
        return;
      }
      const lines: string[] = [];
      const p = precision;
      lines.push(`kernel ${spec.kind} (${Object.entries(spec).filter(([k]) => k !== 'kind').map(([k, v]) => `${k}=${Array.isArray(v) ? v.length : v}`).join(', ')}), ${r.fidelity} model, W:${p.weights} A:${p.activations} KV:${p.kvCache}`);
      lines.push(`tile: FETCH ${tile.fetchWidth}, STANUM ${tile.reservationStations}, VLEN ${tile.vlenBits}, dispatch ${tile.scalarDispatchPorts}s/${tile.vectorDispatchPorts}v, write ports ${tile.scalarWritePorts}s/${tile.vectorWritePorts}v, ROM ${tile.romBytesPerCycle || tile.vlenBits / 8} B/cycle, DMEM ${tile.dmemPorts} x ${tile.dmemBytesPerCycle || tile.vlenBits / 8} B/cycle, ${tile.scheduling}`);
      lines.push('');
      lines.push(`cycles          ${fmtInt(r.cycles).padStart(14)}`);
      lines.push(`busy            ${fmtInt(r.busyCycles).padStart(14)}  (${((100 * r.busyCycles) / Math.max(1, r.cycles)).toFixed(1)}%)`);
      lines.push(`instructions    ${fmtInt(r.instructions).padStart(14)}`);
      lines.push(`MACs            ${fmtInt(r.macs).padStart(14)}`);
      lines.push(`ROM bytes read  ${fmtInt(r.romBytesRead).padStart(14)}  (+ ${fmtInt(r.counters['tile.romScaleBytesRead'])} scale bytes)`);
      lines.push(`events          ${fmtInt(r.events).padStart(14)}`);
      lines.push('');
      lines.push('stall cycles by cause (priority order):');
      for (const c of STALL_CAUSES) lines.push(`  ${c.padEnd(12)} ${fmtInt(r.stallCycles[c]).padStart(14)}  (${((100 * r.stallCycles[c]) / Math.max(1, r.cycles)).toFixed(1)}%)`);
      lines.push('');
      lines.push('counters:');
      for (const [k, v] of Object.entries(r.counters)) lines.push(`  ${k.padEnd(30)} ${fmtInt(v).padStart(14)}`);
      io.stdout(`${lines.join('\n')}\n`);
    },
  };
}
