import { INT4_GROUP_SIZE, PRECISION_BITS, SCALE_BYTES, storageBytes, type Precision } from '../units/precision.js';
import { instr, Op, v, x, type ProgramBuilder } from './isa.js';
import type { TileTiming } from './params.js';

/**
 * Matrix-vector and matrix-matrix kernels (docs/tile.md, "Kernels"): y[tok][r] =
 * sum_c W[r][c] x[tok][c] over a tile's weight slice, in two forms.
 *
 * - Row form: output rows across the lanes (weights stored column-major per block of
 *   `lanes` rows, so one ROM load feeds whole MACs); each activation is broadcast from a
 *   vector of `lanes` consecutive inputs. One ROM load and one MAC per column: at FETCH 2
 *   the loop overhead decides the efficiency, so a whole activation chunk (`lanes`
 *   columns) is unrolled per loop body (GEMV: 2 + 4/lanes instructions per column).
 * - Dot form: columns across the lanes (weights row-major), for the rows that do not fill
 *   a row block: one activation chunk serves a group of up to 23 rows, each row keeps
 *   its accumulators and ends with a reduction to a scalar.
 *
 * A slice runs its whole row blocks in row form and the remaining rows (rows mod lanes)
 * in whichever form issues fewer instructions, so a slice's time grows with its rows,
 * not with its rows rounded up to a block.
 */

/** Rotating register allocator over a range (renaming removes the false dependencies). */
export class Regs {
  private next = 0;
  constructor(
    private readonly base: number,
    private readonly count: number,
  ) {}
  take(): number {
    const r = this.base + (this.next % this.count);
    this.next++;
    return r;
  }
}

const ADDR = x(1);
/** Loop bodies are unrolled to about this many instructions (a few hundred bytes of IMEM). */
const BODY_INSTRUCTIONS = 128;

/** Largest power of two <= n (n >= 1). */
const pow2Floor = (n: number) => 2 ** Math.floor(Math.log2(Math.max(1, n)));

/** Sum accumulator registers pairwise into the first (a tree of vector adds); returns it. */
export function emitTreeSum(b: ProgramBuilder, regs: readonly number[], elems: number): number {
  let level = regs.slice();
  while (level.length > 1) {
    const nx: number[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      b.emit(instr(Op.VADD, level[i], [level[i], level[i + 1]], { elems }));
      nx.push(level[i]);
    }
    if (level.length % 2) nx.push(level[level.length - 1]);
    level = nx;
  }
  return level[0];
}

/** Columns one ROM load carries in row form (narrow weights packed in a VLEN register). */
function columnsPerLoad(t: TileTiming): number {
  return Math.max(1, Math.floor(t.tile.vlenBits / (t.lanes * PRECISION_BITS[t.precision.weights])));
}

/**
 * Accumulator registers of the dot form: v0 up to the activation registers, which sit
 * just below the weight registers (v24..v29).
 */
const dotAccumulators = (tokens: number) => 24 - tokens;

/** Rows the dot form keeps in flight per activation chunk (one accumulator each at least). */
function dotGroup(rows: number, tokens: number): number {
  const most = Math.max(1, Math.floor(dotAccumulators(tokens) / tokens));
  return Math.ceil(rows / Math.ceil(rows / most));
}

/** Instructions the row form issues for `rows` (< lanes) rows, per token tile (estimate for the form choice). */
function rowFormInstructions(t: TileTiming, cols: number, tokens: number): number {
  return cols / columnsPerLoad(t) + cols * tokens + 8;
}

/** Instructions the dot form issues for `rows` rows (estimate for the form choice). */
function dotFormInstructions(t: TileTiming, rows: number, cols: number, tokens: number): number {
  const chunks = Math.ceil(cols / t.lanes);
  const groups = Math.ceil(rows / dotGroup(rows, tokens));
  return chunks * (groups * tokens + rows * (1 + tokens)) + rows * tokens * 3;
}

export function emitMatmul(b: ProgramBuilder, t: TileTiming, rows: number, cols: number, tokens: number): void {
  const L = t.lanes;
  const tail = rows % L;
  // the dot form needs whole activation chunks, keeps at most 4 tokens' accumulators and
  // stores each row's weights whole bytes (INT4 rows of odd length would need padding)
  const rowBytesWhole = (cols * PRECISION_BITS[t.precision.weights]) % 8 === 0;
  const dotTail = tail > 0 && tokens <= 4 && cols >= L && rowBytesWhole && dotFormInstructions(t, tail, cols, tokens) < rowFormInstructions(t, cols, tokens);
  const rowRows = dotTail ? rows - tail : rows;
  if (rowRows > 0) emitRowMatmul(b, t, rowRows, cols, tokens);
  if (dotTail) emitDotMatmul(b, t, tail, cols, tokens);
}

/**
 * Row form. For several tokens the weights loaded once serve up to 8 tokens
 * (weight-stationary); each token keeps enough accumulators to hide the MAC latency.
 */
function emitRowMatmul(b: ProgramBuilder, t: TileTiming, rows: number, cols: number, tokens: number): void {
  const L = t.lanes;
  const wp: Precision = t.precision.weights;
  const actB = PRECISION_BITS[t.precision.activations] / 8;
  const kw = columnsPerLoad(t);
  const macLat = t.tile.vectorLatencyCycles.mac;
  const Mt = Math.min(tokens, 8);
  // accumulators per token so that each accumulator's recurrence is hidden
  const aPer = Math.max(1, Math.min(Math.floor(16 / Mt), Math.ceil(macLat / Mt)));
  // columns per unrolled body: about BODY_INSTRUCTIONS instructions, a multiple of kw and
  // of the accumulators, at most one activation chunk
  const U = Math.min(L, Math.max(kw, aPer, pow2Floor(BODY_INSTRUCTIONS / (Mt + 1 / kw))));
  const wregs = new Regs(v(24), 6);
  const xregs = Array.from({ length: Mt }, (_, i) => v(16 + i));
  const acc = (tok: number, col: number) => v(tok * aPer + (col % aPer));

  const group = (rowsHere: number, nCols: number, toks: number) => {
    for (let c = 0; c < nCols; c += kw) {
      const k = Math.min(kw, nCols - c);
      const w = wregs.take();
      b.emit(instr(Op.LDROM, w, [ADDR], { bytes: storageBytes(rowsHere * k, wp) }));
      // accumulator in the lane, weights at their precision, the activation broadcast
      const mac = { elems: rowsHere, acc: true, narrow: 0b010, narrowBits: PRECISION_BITS[wp], bcast: 0b100 };
      for (let q = 0; q < k; q++) for (let tok = 0; tok < toks; tok++) b.emit(instr(Op.VMAC, acc(tok, c + q), [acc(tok, c + q), w, xregs[tok]], mac));
    }
  };
  const chunk = (rowsHere: number, cc: number, toks: number) => {
    for (let tok = 0; tok < toks; tok++) b.emit(instr(Op.LDDMEM, xregs[tok], [x(2)], { bytes: cc * actB }));
    b.loop(Math.floor(cc / U), () => {
      group(rowsHere, U, toks);
      b.emit(instr(Op.SALU, ADDR, [ADDR]));
    });
    if (cc % U) group(rowsHere, cc % U, toks);
    b.emit(instr(Op.SALU, x(2), [x(2)]));
  };
  const scalesPerRow = wp === 'int4' ? Math.ceil(cols / INT4_GROUP_SIZE) : wp === 'int8' ? 1 : 0;
  const rowBlock = (rowsHere: number, toks: number) => {
    for (let tok = 0; tok < toks; tok++) for (let a = 0; a < aPer; a++) b.emit(instr(Op.VADD, acc(tok, a), [], { elems: 0 }));
    if (scalesPerRow) b.emit(instr(Op.LDROM, v(30), [ADDR], { scaleBytes: rowsHere * scalesPerRow * SCALE_BYTES }));
    const full = Math.floor(cols / L);
    b.loop(full, () => chunk(rowsHere, L, toks));
    if (cols % L) chunk(rowsHere, cols % L, toks);
    for (let tok = 0; tok < toks; tok++) {
      const sum = emitTreeSum(b, Array.from({ length: aPer }, (_, a) => acc(tok, a)), rowsHere);
      if (scalesPerRow) b.emit(instr(Op.VMUL, sum, [sum, v(30)], { elems: rowsHere }));
      b.emit(instr(Op.STDMEM, -1, [sum, x(3)], { bytes: rowsHere * actB }));
    }
    b.emit(instr(Op.SALU, x(3), [x(3)]));
  };
  const tokenTiles = (rowsHere: number) => {
    b.loop(Math.floor(tokens / Mt), () => rowBlock(rowsHere, Mt));
    if (tokens % Mt) rowBlock(rowsHere, tokens % Mt);
  };
  b.loop(Math.floor(rows / L), () => tokenTiles(L));
  if (rows % L) tokenTiles(rows % L);
}

/**
 * Dot form, for rows that do not fill a row block: weights stored row-major, a ROM load
 * carries `lanes` consecutive columns of one row; the activation chunk loaded once serves
 * a group of up to (24 - tokens) / tokens rows; each (row, token) keeps enough accumulators to hide
 * the MAC latency, summed at the end by a tree and a reduction to one scalar. Several
 * chunks are unrolled per loop body.
 */
function emitDotMatmul(b: ProgramBuilder, t: TileTiming, rows: number, cols: number, tokens: number): void {
  const L = t.lanes;
  const wp: Precision = t.precision.weights;
  const actB = PRECISION_BITS[t.precision.activations] / 8;
  const macLat = t.tile.vectorLatencyCycles.mac;
  const G = dotGroup(rows, tokens);
  const chains = G * tokens;
  const A = Math.max(1, Math.min(Math.floor(dotAccumulators(tokens) / chains), Math.ceil(macLat / chains)));
  // chunks per loop body: about BODY_INSTRUCTIONS instructions, a multiple of A
  const perChunk = tokens + G * (1 + tokens);
  const UC = A * Math.max(1, Math.floor(BODY_INSTRUCTIONS / (perChunk * A)));
  const acc = (r: number, tok: number, a: number) => v((r * tokens + tok) * A + a);
  const xregs = Array.from({ length: tokens }, (_, i) => v(dotAccumulators(tokens) + i));
  const wregs = new Regs(v(24), 6);
  const scalesPerRow = wp === 'int4' ? Math.ceil(cols / INT4_GROUP_SIZE) : wp === 'int8' ? 1 : 0;
  const chunk = (g: number, e: number, a: number) => {
    for (let tok = 0; tok < tokens; tok++) b.emit(instr(Op.LDDMEM, xregs[tok], [x(2)], { bytes: e * actB }));
    for (let r = 0; r < g; r++) {
      const w = wregs.take();
      b.emit(instr(Op.LDROM, w, [ADDR], { bytes: storageBytes(e, wp) }));
      for (let tok = 0; tok < tokens; tok++) b.emit(instr(Op.VMAC, acc(r, tok, a), [acc(r, tok, a), w, xregs[tok]], { elems: e, acc: true, narrow: 0b010, narrowBits: PRECISION_BITS[wp] }));
    }
  };
  const rowGroup = (g: number) => {
    for (let r = 0; r < g; r++) for (let tok = 0; tok < tokens; tok++) for (let a = 0; a < A; a++) b.emit(instr(Op.VADD, acc(r, tok, a), [], { elems: 0 }));
    if (scalesPerRow) b.emit(instr(Op.LDROM, v(30), [ADDR], { scaleBytes: g * scalesPerRow * SCALE_BYTES }));
    const full = Math.floor(cols / L);
    const unroll = Math.min(UC, full);
    b.loop(Math.floor(full / unroll), () => {
      for (let c = 0; c < unroll; c++) chunk(g, L, c % A);
      b.emit(instr(Op.SALU, ADDR, [ADDR]));
    });
    for (let c = 0; c < full % unroll; c++) chunk(g, L, c % A);
    if (cols % L) chunk(g, cols % L, 0);
    for (let r = 0; r < g; r++) {
      for (let tok = 0; tok < tokens; tok++) {
        const sum = emitTreeSum(b, Array.from({ length: A }, (_, a) => acc(r, tok, a)), L);
        b.emit(instr(Op.VRED, x(4), [sum], { elems: L })); // the row's dot product
        if (scalesPerRow) b.emit(instr(Op.SALU, x(4), [x(4), v(30)]));
        b.emit(instr(Op.STDMEM, -1, [x(4), x(3)], { bytes: actB }));
      }
    }
    b.emit(instr(Op.SALU, x(3), [x(3)]));
  };
  b.loop(Math.floor(rows / G), () => rowGroup(G));
  if (rows % G) rowGroup(rows % G);
}
