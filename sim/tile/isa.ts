/**
 * The tile's micro-op ISA (docs/tile.md). A RISC-V-like core with a vector extension:
 * 32 scalar registers x0..x31 and 32 vector registers v0..v31 of VLEN bits, renamed onto
 * PHYS_REGS_PER_FILE physical registers per file.
 *
 * Programs are trees of straight-line code and counted loops (`loop` is a hardware loop
 * instruction at the end of the body; the branch is always predicted correctly). The
 * detailed model runs the flattened instruction array; the fast model times the tree.
 */

/** Operation codes (numbers, so the detailed model's hot loop stays monomorphic). */
export const Op = {
  /** scalar ALU: address and counter arithmetic, 1 cycle */
  SALU: 0,
  /** end of a counted loop body: branch back `loopCount - 1` times */
  LOOP: 1,
  /** wait until every older instruction has completed; younger ones wait for it */
  BARRIER: 2,
  /** vector multiply-accumulate (weights at weight precision are dequantised in the lane) */
  VMAC: 3,
  VADD: 4,
  VMUL: 5,
  VMAX: 6,
  /** exp approximation (special-function unit inside the vector pipeline) */
  VEXP: 7,
  /** reciprocal square root approximation */
  VRSQRT: 8,
  /** reduction of a vector to a scalar (sum or max): a log-depth tree */
  VRED: 9,
  /** load from the weight ROM (WMEM) into a vector register */
  LDROM: 10,
  /** load from DMEM into a vector or scalar register */
  LDDMEM: 11,
  /** store a register to DMEM */
  STDMEM: 12,
  /** hand a register's bytes to the network interface */
  SEND: 13,
  /** receive a message from the network into a register */
  RECV: 14,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];

export const OP_NAMES: readonly string[] = ['salu', 'loop', 'barrier', 'v.mac', 'v.add', 'v.mul', 'v.max', 'v.exp', 'v.rsqrt', 'v.red', 'ld.rom', 'ld.dmem', 'st.dmem', 'send', 'recv'];

export const SCALAR_REGS = 32;
export const VECTOR_REGS = 32;
/** Register ids: x0..x31 are 0..31, v0..v31 are 32..63. */
export const x = (i: number): number => i;
export const v = (i: number): number => SCALAR_REGS + i;
export const isVectorReg = (r: number): boolean => r >= SCALAR_REGS;
/** Physical registers per file (scalar and vector) for renaming (docs/tile.md). */
export const PHYS_REGS_PER_FILE = 96;
/** Bytes per instruction in IMEM. */
export const INSTR_BYTES = 4;
/** IMEM line (refill unit) in bytes. */
export const IMEM_LINE_BYTES = 64;

export interface Instr {
  readonly op: OpCode;
  /** destination register, or -1 */
  readonly dst: number;
  /** source registers */
  readonly srcs: readonly number[];
  /** bytes moved (ROM weight bytes, DMEM bytes, NoC bytes) */
  readonly bytes: number;
  /** ROM quantisation-scale bytes loaded with the weights */
  readonly scaleBytes: number;
  /** element operations (lanes used) for vector ops, for counters */
  readonly elems: number;
  /** DMEM access that touches the KV cache */
  readonly kv: boolean;
  /** NoC peer tile (send: destination, recv: source; -1 any) and message tag */
  readonly peer: number;
  readonly tag: number;
  /** LOOP only: iterations of the loop it closes */
  readonly loopCount: number;
  /**
   * Register-file traffic (sim/tile/registerTraffic.ts). `acc`: a VMAC whose accumulator
   * (srcs[0] = dst) stays in the lane for a chain of MACs; `bcast`: bit k set when srcs[k]
   * is read as one element broadcast to the lanes; `narrow`: bit k set when srcs[k] holds
   * elements of `narrowBits` bits (weights or KV entries at their storage precision).
   */
  readonly acc: boolean;
  readonly bcast: number;
  readonly narrow: number;
  readonly narrowBits: number;
}

export function instr(op: OpCode, dst: number, srcs: readonly number[], extra: Partial<Omit<Instr, 'op' | 'dst' | 'srcs'>> = {}): Instr {
  return {
    op,
    dst,
    srcs,
    bytes: extra.bytes ?? 0,
    scaleBytes: extra.scaleBytes ?? 0,
    elems: extra.elems ?? 0,
    kv: extra.kv ?? false,
    peer: extra.peer ?? -1,
    tag: extra.tag ?? 0,
    loopCount: extra.loopCount ?? 0,
    acc: extra.acc ?? false,
    bcast: extra.bcast ?? 0,
    narrow: extra.narrow ?? 0,
    narrowBits: extra.narrowBits ?? 0,
  };
}

/** A program is a tree: straight-line code and counted loops. */
export type Node = { readonly kind: 'code'; readonly instrs: readonly Instr[] } | { readonly kind: 'loop'; readonly iterations: number; readonly body: readonly Node[] };

export interface Program {
  readonly name: string;
  readonly body: readonly Node[];
}

/** Does the op dispatch through a vector dispatch port? (vector destination or source, or a ROM load) */
export function usesVectorPort(i: Instr): boolean {
  if (i.op === Op.LDROM) return true;
  if (i.dst >= 0 && isVectorReg(i.dst)) return true;
  for (const s of i.srcs) if (isVectorReg(s)) return true;
  return false;
}

/**
 * Does the result go through the register-file write ports (XR_WP / VR_WP)? ALU results
 * do; loads and receives return through the memory unit's own write path.
 */
export function usesWritePort(op: number): boolean {
  return op === Op.SALU || isVectorAlu(op);
}

export function isVectorAlu(op: number): boolean {
  return op >= Op.VMAC && op <= Op.VRED;
}

/** A flattened program: the instruction array the detailed model fetches from. */
export interface FlatProgram {
  readonly instrs: readonly Instr[];
  /** LOOP at index i branches back to loopTarget[i] */
  readonly loopTarget: Int32Array;
}

export function flatten(p: Program): FlatProgram {
  const instrs: Instr[] = [];
  const targets: number[] = [];
  const walk = (nodes: readonly Node[]) => {
    for (const n of nodes) {
      if (n.kind === 'code') {
        for (const i of n.instrs) {
          instrs.push(i);
          targets.push(-1);
        }
      } else {
        const start = instrs.length;
        walk(n.body);
        const last = instrs.length - 1;
        if (n.iterations > 1) {
          if (last < start || instrs[last].op !== Op.LOOP) throw new Error('internal: loop body must end with its LOOP instruction');
          targets[last] = start;
        }
      }
    }
  };
  walk(p.body);
  return { instrs, loopTarget: Int32Array.from(targets) };
}

/** Instructions executed (dynamic count), computed from the tree. */
export function dynamicInstructions(nodes: readonly Node[]): number {
  let s = 0;
  for (const n of nodes) s += n.kind === 'code' ? n.instrs.length : n.iterations * dynamicInstructions(n.body);
  return s;
}

/** Static program size in instructions. */
export function staticInstructions(nodes: readonly Node[]): number {
  let s = 0;
  for (const n of nodes) s += n.kind === 'code' ? n.instrs.length : staticInstructions(n.body);
  return s;
}

/** Builder used by kernels: appends code, opens counted loops (the LOOP instruction is added). */
export class ProgramBuilder {
  private readonly stack: Node[][] = [[]];

  private get cur(): Node[] {
    return this.stack[this.stack.length - 1];
  }

  emit(i: Instr): this {
    const nodes = this.cur;
    const last = nodes[nodes.length - 1];
    if (last && last.kind === 'code') (last.instrs as Instr[]).push(i);
    else nodes.push({ kind: 'code', instrs: [i] });
    return this;
  }

  /** Run `body` `iterations` times as a hardware loop (inlined when iterations is 1, skipped when 0). */
  loop(iterations: number, body: () => void): this {
    if (iterations <= 0) return this;
    const nodes: Node[] = [];
    this.stack.push(nodes);
    body();
    this.stack.pop();
    if (iterations === 1) {
      for (const n of nodes) {
        if (n.kind === 'code') for (const i of n.instrs) this.emit(i);
        else this.cur.push(n);
      }
      return this;
    }
    const inner: Node[] = nodes;
    const last = inner[inner.length - 1];
    const loopInstr = instr(Op.LOOP, -1, [], { loopCount: iterations });
    if (last && last.kind === 'code') (last.instrs as Instr[]).push(loopInstr);
    else inner.push({ kind: 'code', instrs: [loopInstr] });
    this.cur.push({ kind: 'loop', iterations, body: inner });
    return this;
  }

  build(name: string): Program {
    return { name, body: this.stack[0] };
  }
}

/** One program that runs `programs` back to back (e.g. a layer's kernels on one tile). */
export function concatPrograms(name: string, programs: readonly Program[]): Program {
  return { name, body: programs.flatMap((p) => p.body) };
}
