import { isVectorAlu, isVectorReg, Op, type Instr } from './isa.js';

/**
 * Register-file traffic of one instruction, in bits (docs/power.md "Register files"): the
 * register files move the elements an instruction actually uses, at their width, not a
 * whole VLEN register per operand.
 *
 * - A vector source is read over the instruction's active elements (`elems`) at the
 *   activation width, or at `narrowBits` for a narrow source (weights or KV entries at
 *   their storage precision); a broadcast source (`bcast`) reads one element.
 * - A VMAC that keeps its accumulator in the lane (`acc`: srcs[0] = dst, a chain of MACs)
 *   neither reads nor writes the accumulator in the register file; the chain's register
 *   write is counted once, where the kernel clears the accumulator (an instruction with no
 *   sources writes a whole VLEN register).
 * - A vector result is written over the active elements at the activation width; a load
 *   or receive writes the bytes it moves (capped at VLEN); a store or send reads them.
 * - A scalar register read or write is 32 bits; a vector register read by a scalar
 *   instruction is one element.
 * - A source register named twice is read once.
 */
export interface RegisterBits {
  readonly readBits: number;
  readonly writeBits: number;
}

const SCALAR_BITS = 32;

export function registerBits(i: Instr, vlenBits: number, elementBits: number): RegisterBits {
  const op = i.op;
  if (op === Op.LOOP || op === Op.BARRIER) return { readBits: 0, writeBits: 0 };
  const moved = Math.min(vlenBits, 8 * (i.bytes + i.scaleBytes));
  let read = 0;
  for (let k = 0; k < i.srcs.length; k++) {
    const r = i.srcs[k];
    if (i.srcs.indexOf(r) !== k) continue; // the same register named twice is read once
    if (!isVectorReg(r)) read += SCALAR_BITS;
    else if (op === Op.VMAC && i.acc && k === 0 && r === i.dst) continue; // accumulator in the lane
    else if (isVectorAlu(op)) read += (i.bcast >> k) & 1 ? elementBits : i.elems * ((i.narrow >> k) & 1 ? i.narrowBits : elementBits);
    else if (op === Op.STDMEM || op === Op.SEND) read += moved;
    else read += elementBits; // a scalar instruction reads one element of a vector register
  }
  let write = 0;
  if (i.dst >= 0) {
    if (!isVectorReg(i.dst)) write = SCALAR_BITS;
    else if (op === Op.VMAC && i.acc) write = 0; // stays in the lane
    else if (isVectorAlu(op)) write = i.srcs.length === 0 ? vlenBits : i.elems * elementBits;
    else if (op === Op.LDROM || op === Op.LDDMEM || op === Op.RECV) write = moved;
    else write = elementBits;
  }
  return { readBits: read, writeBits: write };
}
