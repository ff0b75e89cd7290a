import { INT4_GROUP_SIZE, PRECISION_BITS, SCALE_BYTES, storageBytes, type Precision } from '../units/precision.js';
import { InputError } from '../validate/inputError.js';
import { instr, Op, ProgramBuilder, v, x, type Program } from './isa.js';
import { checkFits, checkRomFits, type TileTiming } from './params.js';
import { emitMatmul, emitTreeSum, Regs } from './matmul.js';

/**
 * Kernels: each emits the instruction stream of one tile's share of a layer (docs/tile.md
 * "Kernels"). Vectors hold `lanes` activations (VLEN / activation bits); weights stream
 * from ROM at weight precision and are dequantised in the lanes; the KV cache sits in
 * DMEM at KV precision. Loops are unrolled just enough to keep the multiply-accumulate
 * recurrences hidden (accumulators = MAC latency), as hand-written kernels do.
 */
export type KernelSpec =
  | { readonly kind: 'gemv'; readonly rows: number; readonly cols: number }
  | { readonly kind: 'gemm'; readonly rows: number; readonly cols: number; readonly tokens: number }
  | {
      readonly kind: 'attention';
      readonly queryHeads: number;
      readonly headDim: number;
      readonly contextTokens: number;
      /** tokens whose K and V this tile appends to its cache first (decode: 1; default 0) */
      readonly appendTokens?: number;
      readonly combineFrom?: readonly number[];
      readonly sendPartialTo?: number;
    }
  | { readonly kind: 'rmsnorm'; readonly dim: number; readonly tokens?: number }
  | { readonly kind: 'layernorm'; readonly dim: number; readonly tokens?: number }
  | { readonly kind: 'silu-gate'; readonly dim: number; readonly tokens?: number }
  | { readonly kind: 'gelu'; readonly dim: number; readonly tokens?: number }
  | { readonly kind: 'rope'; readonly heads: number; readonly headDim: number; readonly tokens?: number }
  | { readonly kind: 'residual'; readonly dim: number; readonly tokens?: number }
  | { readonly kind: 'argmax'; readonly vocab: number }
  | { readonly kind: 'patch-embed'; readonly patches: number; readonly patchDim: number; readonly hidden: number }
  /** read `rows` rows of `width` weights from ROM into DMEM (embedding lookups) */
  | { readonly kind: 'rom-read'; readonly rows: number; readonly width: number }
  /** store `entries` new K/V vectors of `width` elements into the KV cache (at KV precision) */
  | { readonly kind: 'kv-write'; readonly entries: number; readonly width: number }
  /** merge `parts` partial attention results (max, sum, o) for each of `heads` query heads */
  | { readonly kind: 'attention-combine'; readonly parts: number; readonly heads: number; readonly headDim: number; readonly tokens?: number };

export type KernelKind = KernelSpec['kind'];
export const KERNEL_KINDS: readonly KernelKind[] = ['gemv', 'gemm', 'attention', 'rmsnorm', 'layernorm', 'silu-gate', 'gelu', 'rope', 'residual', 'argmax', 'patch-embed', 'rom-read', 'kv-write', 'attention-combine'];

export interface BuiltKernel {
  readonly program: Program;
  /** DMEM the kernel's operands occupy (checked against the tile's DMEM) */
  readonly dmemBytes: number;
}

const MAX_SIZE = 1 << 24;

function checkSize(kernel: string, field: string, value: unknown, min = 1, max = MAX_SIZE): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InputError('kernel', `${kernel}.${field}`, value, `an integer in ${min}..${max}`, `give ${field} as a whole number`);
  }
  return value;
}

const ADDR = x(1); // address pointer bumps
const SCAL = x(2); // scalar working registers x2..x7

/** One tile's program builder and the emit helpers every kernel shares. */
interface Emit {
  readonly b: ProgramBuilder;
  readonly t: TileTiming;
  /** vector lanes (activations per vector) */
  readonly L: number;
  /** bytes per activation */
  readonly actB: number;
  readonly lat: TileTiming['tile']['vectorLatencyCycles'];
  ld(dst: number, bytes: number, kv?: boolean): void;
  st(src: number, bytes: number, kv?: boolean): void;
  vop(op: (typeof Op)[keyof typeof Op], dst: number, srcs: number[], elems: number): void;
  /** advance the address pointer */
  bump(): void;
  /** number of accumulators that hides a recurrence of `latency` at one vector op per cycle */
  accs(latency: number, streams?: number): number;
  /** chunks of `n` elements, `L` lanes each: [full chunks, remainder] */
  chunks(n: number): [number, number];
  treeSum(regs: number[], elems: number): number;
  /** run `body(elems)` over `n` elements in chunks of `L` (a loop of full chunks and a tail) */
  overChunks(n: number, body: (elems: number) => void): void;
}

type SpecOf<K extends KernelKind> = Extract<KernelSpec, { kind: K }>;

function emitContext(t: TileTiming): Emit {
  const L = t.lanes;
  const act = t.precision.activations;
  const actB = PRECISION_BITS[act] / 8;
  const lat = t.tile.vectorLatencyCycles;
  const b = new ProgramBuilder();
  const ld = (dst: number, bytes: number, kv = false) => b.emit(instr(Op.LDDMEM, dst, [ADDR], { bytes, kv }));
  const st = (src: number, bytes: number, kv = false) => b.emit(instr(Op.STDMEM, -1, [src, ADDR], { bytes, kv }));
  const vop = (op: (typeof Op)[keyof typeof Op], dst: number, srcs: number[], elems: number) => b.emit(instr(op, dst, srcs, { elems }));
  const bump = () => b.emit(instr(Op.SALU, ADDR, [ADDR]));
  /** number of accumulators that hides a recurrence of `latency` at one vector op per cycle */
  const accs = (latency: number, streams = 1) => Math.max(1, Math.min(8, Math.ceil(latency / streams)));
  /** chunks of `n` elements, `L` lanes each: [full chunks, remainder] */
  const chunks = (n: number): [number, number] => [Math.floor(n / L), n % L];
  const treeSum = (regs: number[], elems: number) => emitTreeSum(b, regs, elems);
  /** run `body(elems)` over `n` elements in chunks of `L` (a loop of full chunks and a tail) */
  const overChunks = (n: number, body: (elems: number) => void) => {
    const [full, rem] = chunks(n);
    b.loop(full, () => body(L));
    if (rem) body(rem);
  };
  return { b, t, L, actB, lat, ld, st, vop, bump, accs, chunks, treeSum, overChunks };
}

export function buildKernel(t: TileTiming, spec: KernelSpec): BuiltKernel {
  const k = emitContext(t);
  switch (spec.kind) {
    case 'gemv':
    case 'gemm':
    case 'patch-embed':
      return matmulKernel(k, spec);
    case 'attention':
      return attentionKernel(k, spec);
    case 'rmsnorm':
    case 'layernorm':
      return normKernel(k, spec);
    case 'silu-gate':
    case 'gelu':
    case 'residual':
      return elementwiseKernel(k, spec);
    case 'rope':
      return ropeKernel(k, spec);
    case 'argmax':
      return argmaxKernel(k, spec);
    case 'rom-read':
      return romReadKernel(k, spec);
    case 'kv-write':
      return kvWriteKernel(k, spec);
    case 'attention-combine':
      return attentionCombineKernel(k, spec);
  }
  throw new InputError('kernel', 'kind', (spec as { kind: unknown }).kind, `one of ${KERNEL_KINDS.join(', ')}`, 'pick a known kernel');
}

/** Matrix-vector (decode), matrix-matrix (prefill) and the ViT patch embedding: one tiled matmul over ROM weights. */
function matmulKernel(k: Emit, spec: SpecOf<'gemv' | 'gemm' | 'patch-embed'>): BuiltKernel {
  const { b, t, actB } = k;
  const rows = checkSize(spec.kind, spec.kind === 'patch-embed' ? 'hidden' : 'rows', spec.kind === 'patch-embed' ? spec.hidden : spec.rows);
  const cols = checkSize(spec.kind, spec.kind === 'patch-embed' ? 'patchDim' : 'cols', spec.kind === 'patch-embed' ? spec.patchDim : spec.cols);
  const tokens = spec.kind === 'gemv' ? 1 : spec.kind === 'gemm' ? checkSize('gemm', 'tokens', spec.tokens, 1, 65536) : checkSize('patch-embed', 'patches', spec.patches, 1, 65536);
  const dmem = (tokens * cols + tokens * rows) * actB;
  checkFits(t, spec.kind, dmem);
  checkRomFits(t, spec.kind, storageBytes(rows * cols, t.precision.weights));
  emitMatmul(b, t, rows, cols, tokens);
  return { program: b.build(spec.kind), dmemBytes: dmem };
}

/** Attention over the tile's KV slice: append the new tokens' K and V, then the flash-decoding loop. */
function attentionKernel(k: Emit, spec: SpecOf<'attention'>): BuiltKernel {
  const { b, t, L, actB } = k;
  const G = checkSize('attention', 'queryHeads', spec.queryHeads, 1, 64);
  const D = checkSize('attention', 'headDim', spec.headDim, 1, 1024);
  const N = checkSize('attention', 'contextTokens', spec.contextTokens, 1, 1 << 22);
  const kvB = PRECISION_BITS[t.precision.kvCache] / 8;
  const dmem = Math.ceil(2 * N * D * kvB) + 2 * G * D * actB + N * actB * G;
  checkFits(t, 'attention', dmem);
  const append = checkSize('attention', 'appendTokens', spec.appendTokens ?? 0, 0, N);
  // append the new tokens' K and V (from the QKV projection in DMEM) at KV precision
  b.loop(append, () => {
    for (const what of [0, 1]) {
      const r = v(28 + what);
      b.emit(instr(Op.LDDMEM, r, [ADDR], { bytes: D * actB }));
      if (t.precision.kvCache !== t.precision.activations) b.emit(instr(Op.VMUL, r, [r], { elems: Math.min(D, L) })); // quantise
      b.emit(instr(Op.STDMEM, -1, [r, ADDR], { bytes: storageBytes(D, t.precision.kvCache), kv: true }));
    }
    b.emit(instr(Op.SALU, ADDR, [ADDR]));
  });
  emitAttention(b, t, G, D, N, spec.combineFrom ?? [], spec.sendPartialTo);
  return { program: b.build('attention'), dmemBytes: dmem };
}

/** RMSNorm / LayerNorm per row: a reduction pass (sum of squares, and sum), a scalar rsqrt, a scaling pass. */
function normKernel(k: Emit, spec: SpecOf<'rmsnorm' | 'layernorm'>): BuiltKernel {
  const { b, t, L, actB, lat, ld, st, vop, bump, accs, chunks, treeSum, overChunks } = k;
  const dim = checkSize(spec.kind, 'dim', spec.dim);
  const T = checkSize(spec.kind, 'tokens', spec.tokens ?? 1, 1, 65536);
  const ln = spec.kind === 'layernorm';
  const dmem = 2 * T * dim * actB + (T > 1 ? (ln ? 2 : 1) * dim * actB : 0);
  checkFits(t, spec.kind, dmem);
  const A = accs(lat.mac);
  // Several rows: stage gamma (and beta) from ROM into DMEM once, so the weights are
  // read from ROM once per kernel, not once per row.
  const staged = T > 1;
  const stage = new Regs(v(24), 8);
  if (staged) {
    for (let pass = 0; pass < (ln ? 2 : 1); pass++) {
      overChunks(dim, (e) => {
        const g = stage.take();
        b.emit(instr(Op.LDROM, g, [ADDR], { bytes: storageBytes(e, t.precision.weights) }));
        st(g, e * actB);
        bump();
      });
    }
  }
  const param = (r: number, e: number) => (staged ? ld(r, e * actB) : b.emit(instr(Op.LDROM, r, [ADDR], { bytes: storageBytes(e, t.precision.weights) })));
  b.loop(T, () => {
    // pass 1: sum of squares (and sum for LayerNorm), A accumulators per sum
    const ss = Array.from({ length: A }, (_, i) => v(8 + i));
    const sm = Array.from({ length: A }, (_, i) => v(16 + i));
    for (const r of ss) vop(Op.VADD, r, [], 0);
    if (ln) for (const r of sm) vop(Op.VADD, r, [], 0);
    const [full, rem] = chunks(dim);
    const unroll = Math.min(A, Math.max(1, full));
    const loads = new Regs(v(24), 8);
    b.loop(Math.floor(full / unroll), () => {
      for (let u = 0; u < unroll; u++) {
        const xr = loads.take();
        ld(xr, L * actB);
        b.emit(instr(Op.VMAC, ss[u], [ss[u], xr, xr], { elems: L, acc: true }));
        if (ln) vop(Op.VADD, sm[u], [sm[u], xr], L);
      }
      bump();
    });
    for (let c = 0; c < (full % unroll) + (rem ? 1 : 0); c++) {
      const e = c < full % unroll ? L : rem;
      const xr = loads.take();
      ld(xr, e * actB);
      b.emit(instr(Op.VMAC, ss[c], [ss[c], xr, xr], { elems: e, acc: true }));
      if (ln) vop(Op.VADD, sm[c], [sm[c], xr], e);
    }
    const s1 = treeSum(ss, L);
    b.emit(instr(Op.VRED, SCAL, [s1], { elems: L }));
    let meanReg = -1;
    if (ln) {
      const s2 = treeSum(sm, L);
      b.emit(instr(Op.VRED, x(3), [s2], { elems: L }));
      b.emit(instr(Op.SALU, x(3), [x(3)])); // mean = sum / dim
      b.emit(instr(Op.SALU, SCAL, [SCAL, x(3)])); // var = E[x^2] - mean^2
      meanReg = x(3);
    }
    b.emit(instr(Op.SALU, SCAL, [SCAL])); // / dim + eps
    vop(Op.VRSQRT, v(7), [SCAL], 1); // r = 1/sqrt(...), broadcast
    // pass 2: y = (x [- mean]) * r * gamma [+ beta]
    overChunks(dim, (e) => {
      const xr = loads.take();
      const g = loads.take();
      ld(xr, e * actB);
      param(g, e);
      let y = xr;
      if (ln) vop(Op.VADD, y, [xr, meanReg], e);
      b.emit(instr(Op.VMUL, y, [y, v(7)], { elems: e, bcast: 0b10 })); // r broadcast
      vop(Op.VMUL, y, [y, g], e);
      if (ln) {
        const bt = loads.take();
        param(bt, e);
        vop(Op.VADD, y, [y, bt], e);
      }
      st(y, e * actB);
      bump();
    });
  });
  return { program: b.build(spec.kind), dmemBytes: dmem };
}

/** Element-wise kernels, one vector at a time: residual add, SiLU gate (SwiGLU), GELU. */
function elementwiseKernel(k: Emit, spec: SpecOf<'silu-gate' | 'gelu' | 'residual'>): BuiltKernel {
  const { b, t, actB, ld, st, vop, bump, overChunks } = k;
  const dim = checkSize(spec.kind, 'dim', spec.dim);
  const T = checkSize(spec.kind, 'tokens', spec.tokens ?? 1, 1, 65536);
  const ins = spec.kind === 'gelu' ? 1 : 2;
  const dmem = (ins + 1) * T * dim * actB;
  checkFits(t, spec.kind, dmem);
  const regs = new Regs(v(0), 30);
  b.loop(T, () =>
    overChunks(dim, (e) => {
      const a = regs.take();
      ld(a, e * actB);
      if (spec.kind === 'residual') {
        const c = regs.take();
        ld(c, e * actB);
        vop(Op.VADD, a, [a, c], e);
      } else if (spec.kind === 'silu-gate') {
        const u = regs.take();
        ld(u, e * actB);
        const s = regs.take();
        vop(Op.VEXP, s, [a], e); // exp(-g)
        vop(Op.VADD, s, [s], e); // 1 + exp(-g)
        vop(Op.VRSQRT, s, [s], e); // 1/sqrt(.)
        vop(Op.VMUL, s, [s, s], e); // sigmoid(g) = (1/sqrt)^2
        vop(Op.VMUL, s, [s, a], e); // silu(g)
        vop(Op.VMUL, a, [s, u], e); // * up
      } else {
        // GELU, tanh form: 0.5 x (1 + tanh(c (x + 0.044715 x^3))), tanh(z) = 1 - 2/(1+exp(2z))
        const z = regs.take();
        vop(Op.VMUL, z, [a, a], e);
        vop(Op.VMUL, z, [z, a], e);
        vop(Op.VMAC, z, [z, a], e); // x + k x^3 (fused multiply-add)
        vop(Op.VEXP, z, [z], e);
        vop(Op.VADD, z, [z], e);
        vop(Op.VRSQRT, z, [z], e);
        vop(Op.VMUL, z, [z, z], e);
        vop(Op.VMUL, a, [z, a], e);
      }
      st(a, e * actB);
      bump();
    }),
  );
  return { program: b.build(spec.kind), dmemBytes: dmem };
}

/** Rotary position embedding: x cos + rotate-half(x) sin, with the position's cos/sin shared by every head. */
function ropeKernel(k: Emit, spec: SpecOf<'rope'>): BuiltKernel {
  const { b, t, L, actB, ld, st, vop, bump, overChunks } = k;
  const H = checkSize('rope', 'heads', spec.heads, 1, 1024);
  const D = checkSize('rope', 'headDim', spec.headDim, 2, 1024);
  const T = checkSize('rope', 'tokens', spec.tokens ?? 1, 1, 65536);
  const dmem = 2 * T * H * D * actB + T * D * actB; // q/k in, out, and the cos/sin table
  checkFits(t, 'rope', dmem);
  const regs = new Regs(v(2), 28);
  b.loop(T, () => {
    // cos and sin of this position, shared by every head
    ld(v(0), Math.min(D, L) * actB);
    ld(v(1), Math.min(D, L) * actB);
    b.loop(H, () =>
      overChunks(D, (e) => {
        const a = regs.take();
        const r = regs.take();
        ld(a, e * actB);
        vop(Op.VMUL, r, [a, v(1)], e); // rotate-half(x) * sin (lane permute folded in)
        vop(Op.VMUL, a, [a, v(0)], e); // x * cos
        vop(Op.VADD, a, [a, r], e);
        st(a, e * actB);
        bump();
      }),
    );
  });
  return { program: b.build('rope'), dmemBytes: dmem };
}

/** Greedy sampling: a running (max, index) per accumulator, then a max tree across them. */
function argmaxKernel(k: Emit, spec: SpecOf<'argmax'>): BuiltKernel {
  const { b, t, L, actB, lat, ld, vop, bump, accs, chunks } = k;
  const V = checkSize('argmax', 'vocab', spec.vocab);
  const dmem = V * actB;
  checkFits(t, 'argmax', dmem);
  const A = accs(lat.max);
  const mx = Array.from({ length: A }, (_, i) => v(8 + i));
  const ix = Array.from({ length: A }, (_, i) => v(16 + i));
  const loads = new Regs(v(24), 8);
  for (let i = 0; i < A; i++) {
    vop(Op.VADD, mx[i], [], 0);
    vop(Op.VADD, ix[i], [], 0);
  }
  const [full, rem] = chunks(V);
  const unroll = Math.min(A, Math.max(1, full));
  const step = (u: number, e: number) => {
    const xr = loads.take();
    ld(xr, e * actB);
    vop(Op.VMAX, ix[u], [ix[u], mx[u], xr], e); // index select on compare
    vop(Op.VMAX, mx[u], [mx[u], xr], e);
  };
  b.loop(Math.floor(full / unroll), () => {
    for (let u = 0; u < unroll; u++) step(u, L);
    bump();
  });
  for (let c = 0; c < (full % unroll) + (rem ? 1 : 0); c++) step(c, c < full % unroll ? L : rem);
  // combine lanes: max tree, then a max reduction to the winning (value, index)
  let level = mx.map((m, i) => [m, ix[i]] as const);
  while (level.length > 1) {
    const nx: (readonly [number, number])[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      vop(Op.VMAX, level[i][1], [level[i][1], level[i][0], level[i + 1][0]], L);
      vop(Op.VMAX, level[i][0], [level[i][0], level[i + 1][0]], L);
      nx.push(level[i]);
    }
    if (level.length % 2) nx.push(level[level.length - 1]);
    level = nx;
  }
  b.emit(instr(Op.VRED, x(3), [level[0][0]], { elems: L }));
  b.emit(instr(Op.VRED, x(4), [level[0][1], level[0][0]], { elems: L }));
  b.emit(instr(Op.STDMEM, -1, [x(4), ADDR], { bytes: 4 }));
  return { program: b.build('argmax'), dmemBytes: dmem };
}

function romReadKernel(k: Emit, spec: SpecOf<'rom-read'>): BuiltKernel {
  const { b, t, actB, st, vop, bump, overChunks } = k;
  // embedding rows: ROM -> vector register -> DMEM, one vector at a time
  const R = checkSize('rom-read', 'rows', spec.rows, 1, 65536);
  const W = checkSize('rom-read', 'width', spec.width);
  const dmem = R * W * actB;
  checkFits(t, 'rom-read', dmem);
  const regs = new Regs(v(0), 30);
  const wp = t.precision.weights;
  const scales = wp === 'int4' ? Math.ceil(W / INT4_GROUP_SIZE) : wp === 'int8' ? 1 : 0;
  b.loop(R, () => {
    if (scales) b.emit(instr(Op.LDROM, v(30), [ADDR], { scaleBytes: scales * SCALE_BYTES }));
    overChunks(W, (e) => {
      const r = regs.take();
      b.emit(instr(Op.LDROM, r, [ADDR], { bytes: storageBytes(e, wp) }));
      if (scales) vop(Op.VMUL, r, [r, v(30)], e); // dequantise
      st(r, e * actB);
      bump();
    });
  });
  return { program: b.build('rom-read'), dmemBytes: dmem };
}

function kvWriteKernel(k: Emit, spec: SpecOf<'kv-write'>): BuiltKernel {
  const { b, t, actB, ld, st, vop, bump, overChunks } = k;
  // new K/V vectors arrive in DMEM at activation precision; quantise and append to the cache
  const E = checkSize('kv-write', 'entries', spec.entries, 1, 1 << 22);
  const W = checkSize('kv-write', 'width', spec.width, 1, 65536);
  const kvP = t.precision.kvCache;
  const dmem = E * W * actB + Math.ceil(E * W * PRECISION_BITS[kvP] / 8);
  checkFits(t, 'kv-write', dmem);
  const regs = new Regs(v(0), 30);
  b.loop(E, () => {
    overChunks(W, (e) => {
      const r = regs.take();
      ld(r, e * actB);
      if (kvP !== 'fp16') vop(Op.VMUL, r, [r], e); // scale to the KV format
      st(r, storageBytes(e, kvP), true);
      bump();
    });
    if (kvP !== 'fp16') st(x(5), SCALE_BYTES, true); // the entry's scale
  });
  return { program: b.build('kv-write'), dmemBytes: dmem };
}

function attentionCombineKernel(k: Emit, spec: SpecOf<'attention-combine'>): BuiltKernel {
  const { b, t, actB, ld, st, vop, bump, overChunks } = k;
  // m = max(m_i); o = sum exp(m_i - m) o_i; l = sum exp(m_i - m) l_i; out = o / l
  const P = checkSize('attention-combine', 'parts', spec.parts, 1, 65536);
  const H = checkSize('attention-combine', 'heads', spec.heads, 1, 4096);
  const D = checkSize('attention-combine', 'headDim', spec.headDim, 1, 1024);
  const T = checkSize('attention-combine', 'tokens', spec.tokens ?? 1, 1, 65536);
  // partials are merged as they arrive: the running (max, sum, o) per head plus one incoming part
  const dmem = 2 * H * (D + 2) * actB;
  checkFits(t, 'attention-combine', dmem);
  const regs = new Regs(v(0), 24);
  b.loop(T * H, () => {
    const o = v(24);
    vop(Op.VADD, o, [], 0);
    b.loop(P, () => {
      const ml = regs.take();
      ld(ml, 2 * actB); // (max, sum) of the part
      b.emit(instr(Op.SALU, x(5), [x(5), ml])); // running max
      vop(Op.VEXP, v(25), [x(5), ml], 2); // rescale factors
      overChunks(D, (e) => {
        const part = regs.take();
        ld(part, e * actB);
        vop(Op.VMAC, o, [o, part, v(25)], e);
      });
      bump();
    });
    vop(Op.VRSQRT, v(26), [o], 1); // 1 / l (reciprocal via the rsqrt unit, squared)
    overChunks(D, (e) => {
      vop(Op.VMUL, o, [o, v(26)], e);
      st(o, e * actB);
    });
  });
  return { program: b.build('attention-combine'), dmemBytes: dmem };
}

/**
 * GQA attention for G query heads sharing one KV head over N cached tokens (flash-decoding
 * style, one block of `lanes` tokens at a time): scores s = q K^T with K stored
 * transposed (dims x tokens) so the lanes run over tokens; online softmax (block max,
 * rescale by exp(m_old - m_new), exp, running sum); then o += p V with V token-major.
 * With `combineFrom`, partial (max, sum, o) results of the other context splits arrive over
 * the NoC and are merged: m = max(m_i), o = sum(exp(m_i - m) o_i), l = sum(exp(m_i - m) l_i).
 */
function emitAttention(b: ProgramBuilder, t: TileTiming, G: number, D: number, N: number, combineFrom: readonly number[], sendTo: number | undefined): void {
  const L = t.lanes;
  const actB = PRECISION_BITS[t.precision.activations] / 8;
  const kvP = t.precision.kvCache;
  const Dv = Math.ceil(D / L); // vectors per head vector
  const macLat = t.tile.vectorLatencyCycles.mac;
  const kregs = new Regs(v(28), 4);
  // up to 4 heads at a time (register budget): q in v20.., o in v24.., scores in v0..v15
  const group = (Gr: number) => {
    // score accumulators per head: enough to hide the MAC latency, within the 16 score registers
    const aS = Math.max(1, Math.min(Math.floor(16 / Gr), Math.ceil(macLat / Gr)));
    emitHeadGroup({ b, L, actB, kvP, D, Dv, kregs, Gr, aS }, N, combineFrom, sendTo);
  };
  b.loop(Math.floor(G / 4), () => group(4));
  if (G % 4) group(G % 4);
}

/** One group of `Gr` query heads sharing a KV head, with its sizes and register plan. */
interface HeadGroup {
  readonly b: ProgramBuilder;
  readonly L: number;
  readonly actB: number;
  readonly kvP: Precision;
  /** head dimension, and vectors per head vector */
  readonly D: number;
  readonly Dv: number;
  /** rotating registers for K and V rows (v28..v31) */
  readonly kregs: Regs;
  readonly Gr: number;
  /** score accumulators per head */
  readonly aS: number;
}

/** score register `a` of head `g` (v0..v15) */
const scoreReg = (h: HeadGroup, g: number, a: number) => v(g * h.aS + a);

/** Load the queries, stream the context block by block, merge the other splits' partials, write or send o. */
function emitHeadGroup(h: HeadGroup, N: number, combineFrom: readonly number[], sendTo: number | undefined): void {
  const { b, L, actB, D, Gr } = h;
  for (let g = 0; g < Gr; g++) b.emit(instr(Op.LDDMEM, v(20 + g), [ADDR], { bytes: D * actB }));
  b.loop(Math.floor(N / L), () => emitTokenBlock(h, L));
  if (N % L) emitTokenBlock(h, N % L);
  emitCombinePartials(h, combineFrom);
  emitAttentionOutput(h, sendTo);
}

/** One block of `tok` cached tokens: scores, online-softmax update, o += p V. */
function emitTokenBlock(h: HeadGroup, tok: number): void {
  const { D, Dv, Gr, aS } = h;
  // instructions of the two forms' score passes: by dimension D x (1 + Gr) + tree, by key tok x (Dv + Gr x (Dv + 3) + 1)
  const byKey = tok * (Dv + Gr * (Dv + 3) + 1) + Gr < D * (1 + Gr) + Gr * aS;
  if (byKey) emitScoresByKey(h, tok);
  else emitScoresByDim(h, tok);
  emitOnlineSoftmax(h, tok);
  emitPV(h, tok);
}

/** scores, K^T stored dims x tokens: for each dimension d, its row over `tok` tokens across the lanes */
function emitScoresByDim(h: HeadGroup, tok: number): void {
  const { b, D, Gr, aS } = h;
  for (let g = 0; g < Gr; g++) for (let a = 0; a < aS; a++) b.emit(instr(Op.VADD, scoreReg(h, g, a), [], { elems: 0 }));
  const unroll = Math.max(1, Math.min(D, aS * 2));
  b.loop(Math.floor(D / unroll), () => {
    for (let d = 0; d < unroll; d++) emitScoreDim(h, tok, d);
    b.emit(instr(Op.SALU, ADDR, [ADDR]));
  });
  for (let d = 0; d < D % unroll; d++) emitScoreDim(h, tok, d);
  for (let g = 0; g < Gr; g++) for (let a = 1; a < aS; a++) b.emit(instr(Op.VADD, scoreReg(h, g, 0), [scoreReg(h, g, 0), scoreReg(h, g, a)], { elems: tok }));
}

/** dimension `d` of K^T over `tok` tokens, times each head's q[d] (broadcast), into accumulator d mod aS */
function emitScoreDim(h: HeadGroup, tok: number, d: number): void {
  const { b, kvP, Gr, aS } = h;
  const k = h.kregs.take();
  b.emit(instr(Op.LDDMEM, k, [ADDR], { bytes: storageBytes(tok, kvP), kv: true }));
  const mac = { elems: tok, acc: true, narrow: 0b010, narrowBits: PRECISION_BITS[kvP], bcast: 0b100 };
  for (let g = 0; g < Gr; g++) b.emit(instr(Op.VMAC, scoreReg(h, g, d % aS), [scoreReg(h, g, d % aS), k, v(20 + g)], mac));
}

/**
 * scores for a short block, one key at a time with the head dimension across the lanes:
 * a dot product per head, reduced to a scalar and stored; the block's scores are then
 * loaded back as one vector per head
 */
function emitScoresByKey(h: HeadGroup, tok: number): void {
  const { b, actB, Gr } = h;
  const pair = 2;
  b.loop(Math.floor(tok / pair), () => emitKeyDots(h, pair));
  if (tok % pair) emitKeyDots(h, tok % pair);
  for (let g = 0; g < Gr; g++) b.emit(instr(Op.LDDMEM, scoreReg(h, g, 0), [ADDR], { bytes: tok * actB }));
}

/** `n` keys per loop body (up to 2, each with its own accumulators), heads interleaved so that consecutive instructions are independent */
function emitKeyDots(h: HeadGroup, n: number): void {
  const { b, L, actB, kvP, D, Dv, Gr } = h;
  const ks: number[][] = [];
  for (let j = 0; j < n; j++) {
    ks.push([]);
    for (let dv = 0; dv < Dv; dv++) {
      const k = h.kregs.take();
      b.emit(instr(Op.LDDMEM, k, [ADDR], { bytes: storageBytes(Math.min(L, D - dv * L), kvP), kv: true }));
      ks[j].push(k);
    }
  }
  const acc = (j: number, g: number) => v(j * Gr + g);
  for (let j = 0; j < n; j++) for (let g = 0; g < Gr; g++) b.emit(instr(Op.VADD, acc(j, g), [], { elems: 0 }));
  // accumulator in the lane, the key at KV precision, the query element-wise
  const mac = (dv: number) => ({ elems: Math.min(L, D - dv * L), acc: true, narrow: 0b010, narrowBits: PRECISION_BITS[kvP] });
  for (let dv = 0; dv < Dv; dv++) for (let j = 0; j < n; j++) for (let g = 0; g < Gr; g++) b.emit(instr(Op.VMAC, acc(j, g), [acc(j, g), ks[j][dv], v(20 + g)], mac(dv)));
  for (let j = 0; j < n; j++) for (let g = 0; g < Gr; g++) b.emit(instr(Op.VRED, x(4 + ((j * Gr + g) % 4)), [acc(j, g)], { elems: Math.min(L, D) }));
  for (let j = 0; j < n; j++) for (let g = 0; g < Gr; g++) b.emit(instr(Op.STDMEM, -1, [x(4 + ((j * Gr + g) % 4)), ADDR], { bytes: actB }));
  b.emit(instr(Op.SALU, ADDR, [ADDR]));
}

/** online softmax per head: block max, m_new, p = exp(s - m_new), rescale l and o by exp(m - m_new) */
function emitOnlineSoftmax(h: HeadGroup, tok: number): void {
  const { b, L, actB, D, Gr } = h;
  for (let g = 0; g < Gr; g++) {
    const m = x(8 + g);
    const s0 = scoreReg(h, g, 0);
    b.emit(instr(Op.VRED, x(4), [s0], { elems: tok })); // block max
    b.emit(instr(Op.SALU, x(5), [m, x(4)])); // m_new = max(m, block max)
    b.emit(instr(Op.VADD, s0, [s0, x(5)], { elems: tok })); // s - m_new
    b.emit(instr(Op.VEXP, s0, [s0], { elems: tok })); // p
    b.emit(instr(Op.SALU, x(6), [m, x(5)])); // m - m_new
    b.emit(instr(Op.VEXP, v(17), [x(6)], { elems: 1 })); // rescale factor
    b.emit(instr(Op.SALU, m, [x(5)]));
    b.emit(instr(Op.VRED, x(7), [s0], { elems: tok })); // block sum
    b.emit(instr(Op.SALU, x(16 + g), [x(16 + g), x(7), v(17)])); // l = l * f + sum
    b.emit(instr(Op.VMUL, v(24 + g), [v(24 + g), v(17)], { elems: Math.min(D, L), bcast: 0b10 })); // o *= f
    b.emit(instr(Op.STDMEM, -1, [s0, ADDR], { bytes: tok * actB })); // p for the PV pass
  }
}

/** o += p V: V rows token by token, unrolled 4 tokens per loop body */
function emitPV(h: HeadGroup, tok: number): void {
  const { b } = h;
  const tu = Math.max(1, Math.min(tok, 4));
  b.loop(Math.floor(tok / tu), () => {
    for (let j = 0; j < tu; j++) emitPVToken(h);
    b.emit(instr(Op.SALU, ADDR, [ADDR]));
  });
  for (let j = 0; j < tok % tu; j++) emitPVToken(h);
}

/** one V row (token-major), times each head's p (broadcast), into o */
function emitPVToken(h: HeadGroup): void {
  const { b, L, kvP, D, Dv, Gr } = h;
  for (let dv = 0; dv < Dv; dv++) {
    const e = Math.min(L, D - dv * L);
    const vr = h.kregs.take();
    b.emit(instr(Op.LDDMEM, vr, [ADDR], { bytes: storageBytes(e, kvP), kv: true }));
    const mac = { elems: e, acc: true, narrow: 0b010, narrowBits: PRECISION_BITS[kvP], bcast: 0b100 };
    for (let g = 0; g < Gr; g++) b.emit(instr(Op.VMAC, v(24 + g), [v(24 + g), vr, scoreReg(h, g, 0)], mac));
  }
}

/** merge the partial (max, sum, o) of each other context split as it arrives over the NoC */
function emitCombinePartials(h: HeadGroup, combineFrom: readonly number[]): void {
  const { b, L, actB, D, Gr } = h;
  for (const src of combineFrom) {
    for (let g = 0; g < Gr; g++) {
      const m = x(8 + g);
      b.emit(instr(Op.RECV, v(18), [], { peer: src, tag: g, bytes: D * actB + 4 }));
      b.emit(instr(Op.SALU, x(5), [m, v(18)])); // m = max(m, m_i)
      b.emit(instr(Op.VEXP, v(17), [x(5), v(18)], { elems: 2 })); // exp(m_i - m), exp(m_old - m)
      b.emit(instr(Op.VMUL, v(24 + g), [v(24 + g), v(17)], { elems: Math.min(D, L), bcast: 0b10 }));
      b.emit(instr(Op.VMAC, v(24 + g), [v(24 + g), v(18), v(17)], { elems: Math.min(D, L), bcast: 0b100 }));
      b.emit(instr(Op.SALU, x(16 + g), [x(16 + g), v(17)]));
      b.emit(instr(Op.SALU, m, [x(5)]));
    }
  }
}

/** per head: send the partial (o, max, sum) to the combining split, or normalise o = o / l and store it */
function emitAttentionOutput(h: HeadGroup, sendTo: number | undefined): void {
  const { b, L, actB, D, Gr } = h;
  for (let g = 0; g < Gr; g++) {
    const o = v(24 + g);
    if (sendTo !== undefined) {
      b.emit(instr(Op.SEND, -1, [o, x(8 + g), x(16 + g)], { peer: sendTo, tag: g, bytes: D * actB + 4 }));
    } else {
      b.emit(instr(Op.VRSQRT, v(19), [x(16 + g)], { elems: 1 })); // 1/l via rsqrt^2
      b.emit(instr(Op.VMUL, v(19), [v(19), v(19)], { elems: 1 }));
      b.emit(instr(Op.VMUL, o, [o, v(19)], { elems: Math.min(D, L) }));
      b.emit(instr(Op.STDMEM, -1, [o, ADDR], { bytes: D * actB }));
    }
  }
}
