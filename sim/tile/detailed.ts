import { flatten, usesWritePort, isVectorAlu, isVectorReg, Op, PHYS_REGS_PER_FILE, SCALAR_REGS, usesVectorPort, INSTR_BYTES, IMEM_LINE_BYTES, type Instr, type Program } from './isa.js';
import { latencyOf, occupancyOf, type TileTiming } from './params.js';
import { Stall, TileStats } from './stats.js';
import { registerBits } from './registerTraffic.js';
import { PRECISION_BITS } from '../units/precision.js';

/**
 * The network interface as the detailed pipeline sees it. `send` hands a message over
 * (false: the interface cannot take it this cycle); `recv` posts a receive and returns the
 * cycle its data is in the register file, or -1 if not known yet (then `arrive` is called
 * from outside, e.g. by the discrete-event kernel, when it lands).
 */
export interface TileNic {
  send(cycle: number, peer: number, bytes: number, tag: number): boolean;
  recv(cycle: number, peer: number, tag: number, bytes: number, arrive: (cycle: number) => void): number;
}

/** Stand-in interface for a tile alone: sends always accepted, receives already waiting. */
export const LOOPBACK_NIC: TileNic = {
  send: () => true,
  recv: (cycle) => cycle + 1,
};

const FILE = PHYS_REGS_PER_FILE;
/** write-back slot reservation ring (cycles ahead); latencies are far below this */
const WB_RING = 1 << 13;
const WB_MASK = WB_RING - 1;
const INF = Number.POSITIVE_INFINITY;

/**
 * The detailed (instruction-by-instruction, cycle-by-cycle) tile pipeline (docs/tile.md):
 *
 *   fetch (FETCH per cycle from IMEM; a taken loop branch ends the fetch group; an IMEM
 *   miss stalls fetch for the refill) -> dispatch (in order, up to XDPNUM scalar and VDPNUM
 *   vector instructions per cycle, renaming onto physical registers, into STANUM
 *   reservation-station entries) -> issue (oldest ready first, or strictly in program
 *   order; one vector instruction per cycle into the pipelined vector unit, XDPNUM scalar
 *   ALUs, the ROM port, the DMEM ports, the network interface; a write-back slot reserved
 *   on the register write ports) -> write-back (results visible at issue + latency).
 *
 * Each cycle is busy (something issued) or stalled with exactly one cause.
 */
export class DetailedTile {
  readonly stats = new TileStats();
  private readonly T: TileTiming;
  private readonly n: number;
  // static program (structure of arrays)
  private readonly sOp: Int8Array;
  private readonly sDst: Int16Array;
  private readonly sSrc: Int16Array; // 3 per instruction, -1 = none
  private readonly sLat: Int32Array;
  /** Register-file bits each instruction reads and writes (registerTraffic.ts). */
  private readonly sRegReadBits: Float64Array;
  private readonly sRegWriteBits: Float64Array;
  private readonly sOcc: Int32Array;
  private readonly sVecPort: Uint8Array;
  private readonly sLoopTarget: Int32Array;
  private readonly sLoopCount: Int32Array;
  private readonly loopLeft: Int32Array;
  private readonly instrs: readonly Instr[];
  // front end
  private pc = 0;
  private fetchDone = false;
  private fetchStallUntil = 0;
  private readonly fq: Int32Array;
  private fqHead = 0;
  private fqCount = 0;
  private readonly fqCap: number;
  private readonly imemLimited: boolean;
  private readonly imemTags: Int32Array;
  // rename
  private readonly rat = new Int32Array(64);
  private readonly freeS: number[] = [];
  private readonly freeV: number[] = [];
  private readonly physReady = new Float64Array(2 * FILE);
  private readonly physProducer = new Int8Array(2 * FILE);
  private readonly physReaders = new Int32Array(2 * FILE);
  private readonly physSuperseded = new Uint8Array(2 * FILE);
  private pendingFree: number[] = [];
  // reservation stations, in age order
  private readonly rsSi: Int32Array;
  private readonly rsSrc: Int32Array; // 3 per entry
  private readonly rsDst: Int32Array;
  private rsCount = 0;
  // units
  private romFreeAt = 0;
  private readonly dmemFreeAt: Float64Array;
  private readonly wbCount = new Int32Array(2 * WB_RING);
  private readonly wbTime = new Float64Array(2 * WB_RING).fill(-1);
  private maxDone = 0;
  private maxDoneOp: number = Op.SALU;
  private prevDispatchPortBlocked = false;
  private outstandingRecv = 0;
  /** current cycle */
  now = 0;
  finished = false;
  /** optional trace of (static index, issue cycle) for debugging and tests */
  trace: number[] | null = null;

  constructor(
    timing: TileTiming,
    program: Program,
    private readonly nic: TileNic = LOOPBACK_NIC,
  ) {
    this.T = timing;
    const flat = flatten(program);
    const n = (this.n = flat.instrs.length);
    this.instrs = flat.instrs;
    this.sOp = new Int8Array(n);
    this.sDst = new Int16Array(n);
    this.sSrc = new Int16Array(3 * n).fill(-1);
    this.sLat = new Int32Array(n);
    this.sOcc = new Int32Array(n);
    this.sRegReadBits = new Float64Array(n);
    this.sRegWriteBits = new Float64Array(n);
    this.sVecPort = new Uint8Array(n);
    this.sLoopTarget = flat.loopTarget;
    this.sLoopCount = new Int32Array(n);
    this.loopLeft = new Int32Array(n).fill(-1);
    flat.instrs.forEach((ins, i) => {
      this.sOp[i] = ins.op;
      this.sDst[i] = ins.dst;
      if (ins.srcs.length > 3) throw new Error('internal: at most 3 source registers');
      ins.srcs.forEach((s, k) => (this.sSrc[3 * i + k] = s));
      this.sLat[i] = latencyOf(timing, ins);
      this.sOcc[i] = occupancyOf(timing, ins);
      const rb = registerBits(ins, timing.tile.vlenBits, PRECISION_BITS[timing.precision.activations]);
      this.sRegReadBits[i] = rb.readBits;
      this.sRegWriteBits[i] = rb.writeBits;
      this.sVecPort[i] = usesVectorPort(ins) ? 1 : 0;
      this.sLoopCount[i] = ins.loopCount;
      if (this.sLat[i] >= WB_RING / 2) throw new Error(`internal: latency ${this.sLat[i]} too long`);
    });
    this.fqCap = Math.max(2, 2 * timing.fetchWidth);
    this.fq = new Int32Array(this.fqCap);
    const rs = timing.reservationStations;
    this.rsSi = new Int32Array(rs);
    this.rsSrc = new Int32Array(3 * rs);
    this.rsDst = new Int32Array(rs);
    this.dmemFreeAt = new Float64Array(timing.dmemPorts);
    // IMEM: direct-mapped lines; the first IMEM-full of the program is preloaded
    const lines = Math.max(1, Math.floor(timing.imemBytes / IMEM_LINE_BYTES));
    this.imemLimited = n * INSTR_BYTES > timing.imemBytes;
    this.imemTags = new Int32Array(lines);
    for (let i = 0; i < lines; i++) this.imemTags[i] = i;
    // architectural registers start mapped and ready
    for (let r = 0; r < 64; r++) {
      const p = r < SCALAR_REGS ? r : FILE + (r - SCALAR_REGS);
      this.rat[r] = p;
    }
    for (let p = FILE - 1; p >= SCALAR_REGS; p--) this.freeS.push(p);
    for (let p = 2 * FILE - 1; p >= FILE + 32; p--) this.freeV.push(p);
    this.physReady.fill(0);
    if (n === 0) this.fetchDone = true;
  }

  /** Instructions the program executes in total is known from the stats when done. */
  get staticLength(): number {
    return this.n;
  }

  /** True when nothing can happen until an outside event (a message arriving). */
  get waitingOnNetwork(): boolean {
    return this.outstandingRecv > 0 && this.fqCount === 0 && this.rsCount > 0 && this.maxDone <= this.now;
  }

  /** Run to completion (for a tile alone); returns total cycles. */
  run(): number {
    while (!this.finished) this.step();
    return this.stats.cycles;
  }

  /** Simulate cycle `now` and advance. */
  step(): void {
    const t = this.now;
    if (this.fetchDone && this.fqCount === 0 && this.rsCount === 0 && t >= this.maxDone && this.outstandingRecv === 0) {
      this.finished = true;
      this.stats.cycles = t;
      return;
    }
    const st = this.stats;
    const T = this.T;
    // ---- issue -------------------------------------------------------------------
    let issued = 0;
    let vecIssued = 0;
    let scalIssued = 0;
    let nocIssued = 0;
    let oldestReason = -1;
    const inOrder = T.inOrder;
    let k = 0;
    while (k < this.rsCount) {
      const si = this.rsSi[k];
      const op = this.sOp[si];
      let reason = -1;
      if (op === Op.BARRIER) {
        if (k === 0 && t >= this.maxDone && this.outstandingRecv === 0) {
          this.removeRs(0);
          issued++;
          st.instructionsIssued++;
          st.controlInstructions++;
          continue;
        }
        if (k === 0) oldestReason = this.drainCause();
        break; // nothing younger passes a barrier
      }
      // operands
      for (let j = 0; j < 3; j++) {
        const p = this.rsSrc[3 * k + j];
        if (p >= 0 && this.physReady[p] > t) {
          const prod = this.physProducer[p];
          reason = prod === Op.LDROM ? Stall.romPort : prod === Op.LDDMEM ? Stall.dmemPort : prod === Op.RECV ? Stall.noc : Stall.raw;
          break;
        }
      }
      // unit
      let port = -1;
      if (reason < 0) {
        if (isVectorAlu(op)) {
          if (vecIssued >= T.vectorUnits) reason = Stall.raw;
        } else if (op === Op.SALU || op === Op.LOOP) {
          if (scalIssued >= T.scalarAlus) reason = Stall.raw;
        } else if (op === Op.LDROM) {
          if (this.romFreeAt > t) reason = Stall.romPort;
        } else if (op === Op.LDDMEM || op === Op.STDMEM) {
          for (let q = 0; q < T.dmemPorts; q++) {
            if (this.dmemFreeAt[q] <= t) {
              port = q;
              break;
            }
          }
          if (port < 0) reason = Stall.dmemPort;
        } else if (op === Op.SEND || op === Op.RECV) {
          if (nocIssued >= 1) reason = Stall.noc;
        }
      }
      // write-back slot
      const dst = this.rsDst[k];
      const lat = this.sLat[si];
      let wbSlot = -1;
      if (reason < 0 && dst >= 0 && usesWritePort(op)) {
        const file = dst >= FILE ? 1 : 0;
        const u = t + lat;
        wbSlot = file * WB_RING + (u & WB_MASK);
        if (this.wbTime[wbSlot] !== u) {
          this.wbTime[wbSlot] = u;
          this.wbCount[wbSlot] = 0;
        }
        if (this.wbCount[wbSlot] >= (file ? T.tile.vectorWritePorts : T.tile.scalarWritePorts)) reason = Stall.writePort;
      }
      if (reason >= 0) {
        if (k === 0) oldestReason = reason;
        if (inOrder) break;
        k++;
        continue;
      }
      if (op === Op.SEND) {
        const ins = this.instrs[si];
        if (!this.nic.send(t, ins.peer, ins.bytes, ins.tag)) {
          if (k === 0) oldestReason = Stall.noc;
          if (inOrder) break;
          k++;
          continue;
        }
      }
      // ---- issue it
      if (this.trace) this.trace.push(si, t);
      issued++;
      st.instructionsIssued++;
      st.registerReadBits += this.sRegReadBits[si];
      st.registerWriteBits += this.sRegWriteBits[si];
      let done = t + lat;
      if (isVectorAlu(op)) {
        vecIssued++;
        st.vectorInstructions++;
        const e = this.instrs[si].elems;
        if (op === Op.VMAC) st.macs += e;
        else if (op === Op.VEXP || op === Op.VRSQRT) st.sfuOps += e;
        else st.vectorAluOps += e;
      } else if (op === Op.SALU) {
        scalIssued++;
        st.scalarInstructions++;
      } else if (op === Op.LOOP) {
        scalIssued++;
        st.controlInstructions++;
      } else if (op === Op.LDROM) {
        const ins = this.instrs[si];
        this.romFreeAt = t + this.sOcc[si];
        st.romBusyCycles += this.sOcc[si];
        st.memoryInstructions++;
        st.romBytesRead += ins.bytes;
        st.romScaleBytesRead += ins.scaleBytes;
      } else if (op === Op.LDDMEM || op === Op.STDMEM) {
        const ins = this.instrs[si];
        this.dmemFreeAt[port] = t + this.sOcc[si];
        st.dmemBusyCycles += this.sOcc[si];
        st.memoryInstructions++;
        if (op === Op.LDDMEM) {
          st.dmemBytesRead += ins.bytes;
          if (ins.kv) st.kvBytesRead += ins.bytes;
        } else {
          st.dmemBytesWritten += ins.bytes;
          if (ins.kv) st.kvBytesWritten += ins.bytes;
        }
      } else if (op === Op.SEND) {
        nocIssued++;
        st.nocInstructions++;
      } else if (op === Op.RECV) {
        nocIssued++;
        st.nocInstructions++;
        const ins = this.instrs[si];
        const pd = dst;
        this.outstandingRecv++;
        this.physReady[pd] = INF;
        const arrive = (c: number) => {
          this.physReady[pd] = Math.max(c, t + 1);
          this.outstandingRecv--;
          if (this.physReady[pd] > this.maxDone) {
            this.maxDone = this.physReady[pd];
            this.maxDoneOp = Op.RECV;
          }
        };
        const at = this.nic.recv(t, ins.peer, ins.tag, ins.bytes, arrive);
        if (at >= 0) arrive(at);
        done = -1;
        st.registerWrites++;
      }
      // operands read, result slot taken
      for (let j = 0; j < 3; j++) {
        const p = this.rsSrc[3 * k + j];
        if (p >= 0) {
          st.registerReads++;
          if (--this.physReaders[p] === 0 && this.physSuperseded[p]) this.pendingFree.push(p);
        }
      }
      if (wbSlot >= 0) this.wbCount[wbSlot]++;
      if (dst >= 0 && op !== Op.RECV) {
        this.physReady[dst] = done;
        st.registerWrites++;
      }
      if (done > this.maxDone) {
        this.maxDone = done;
        this.maxDoneOp = op;
      }
      this.removeRs(k);
    }
    if (vecIssued) st.vectorBusyCycles++;

    // ---- dispatch (in order, rename, into the reservation stations) ------------
    let vd = 0;
    let sd = 0;
    let rsBlocked = false;
    let portBlocked = false;
    const VDP = T.tile.vectorDispatchPorts;
    const SDP = T.tile.scalarDispatchPorts;
    while (this.fqCount > 0) {
      const si = this.fq[this.fqHead];
      const vec = this.sVecPort[si];
      if (vec ? vd >= VDP : sd >= SDP) {
        portBlocked = true;
        break;
      }
      if (this.rsCount >= T.reservationStations) {
        rsBlocked = true;
        break;
      }
      const d = this.sDst[si];
      if (d >= 0 && (isVectorReg(d) ? this.freeV.length === 0 : this.freeS.length === 0)) {
        rsBlocked = true; // out of physical registers: the window is full
        break;
      }
      if (vec) vd++;
      else sd++;
      this.fqHead = this.fqHead + 1 === this.fqCap ? 0 : this.fqHead + 1;
      this.fqCount--;
      const e = this.rsCount++;
      this.rsSi[e] = si;
      for (let j = 0; j < 3; j++) {
        const r = this.sSrc[3 * si + j];
        if (r >= 0) {
          const p = this.rat[r];
          this.rsSrc[3 * e + j] = p;
          this.physReaders[p]++;
        } else this.rsSrc[3 * e + j] = -1;
      }
      if (d >= 0) {
        const p = isVectorReg(d) ? this.freeV.pop()! : this.freeS.pop()!;
        const old = this.rat[d];
        this.physSuperseded[old] = 1;
        if (this.physReaders[old] === 0) this.pendingFree.push(old);
        this.rat[d] = p;
        this.physReady[p] = INF;
        this.physProducer[p] = this.sOp[si];
        this.physReaders[p] = 0;
        this.physSuperseded[p] = 0;
        this.rsDst[e] = p;
      } else this.rsDst[e] = -1;
    }

    // ---- fetch -----------------------------------------------------------------
    if (!this.fetchDone && t >= this.fetchStallUntil) {
      let f = 0;
      while (f < T.fetchWidth && this.fqCount < this.fqCap) {
        const pc = this.pc;
        if (this.imemLimited) {
          const line = (pc * INSTR_BYTES) / IMEM_LINE_BYTES | 0;
          const slot = line % this.imemTags.length;
          if (this.imemTags[slot] !== line) {
            this.imemTags[slot] = line;
            this.fetchStallUntil = t + T.tile.imemRefillCycles;
            break;
          }
        }
        let tail = this.fqHead + this.fqCount;
        if (tail >= this.fqCap) tail -= this.fqCap;
        this.fq[tail] = pc;
        this.fqCount++;
        st.instructionsFetched++;
        f++;
        if (this.sOp[pc] === Op.LOOP && this.sLoopTarget[pc] >= 0) {
          let left = this.loopLeft[pc];
          if (left < 0) left = this.sLoopCount[pc] - 1;
          if (left > 0) {
            this.loopLeft[pc] = left - 1;
            this.pc = this.sLoopTarget[pc];
            break; // a taken branch ends the fetch group
          }
          this.loopLeft[pc] = -1;
        }
        this.pc = pc + 1;
        if (this.pc >= this.n) {
          this.fetchDone = true;
          break;
        }
      }
    }

    // ---- account the cycle ------------------------------------------------------
    if (issued > 0) st.busyCycles++;
    else {
      let cause: number;
      if (oldestReason >= 0) {
        const r = oldestReason;
        if (r === Stall.noc || r === Stall.romPort || r === Stall.dmemPort) cause = r;
        else if (rsBlocked) cause = Stall.reservation;
        else cause = r;
      } else if (this.prevDispatchPortBlocked) cause = Stall.dispatch;
      else if (this.fetchDone && this.fqCount === 0) cause = this.drainCause();
      else cause = Stall.fetch;
      st.stall[cause]++;
    }
    this.prevDispatchPortBlocked = portBlocked;

    // ---- free physical registers whose last reader has issued and value is written
    if (this.pendingFree.length) {
      const keep: number[] = [];
      for (const p of this.pendingFree) {
        if (this.physReaders[p] === 0 && this.physReady[p] <= t) {
          this.physSuperseded[p] = 0;
          (p >= FILE ? this.freeV : this.freeS).push(p);
        } else keep.push(p);
      }
      this.pendingFree = keep;
    }
    this.now = t + 1;
  }

  /** Cause for cycles spent waiting for in-flight results: the class of the last one. */
  private drainCause(): number {
    const op = this.maxDoneOp;
    if (this.outstandingRecv > 0 || op === Op.RECV) return Stall.noc;
    return op === Op.LDROM ? Stall.romPort : op === Op.LDDMEM || op === Op.STDMEM ? Stall.dmemPort : Stall.raw;
  }

  private removeRs(k: number): void {
    const n = --this.rsCount;
    for (let i = k; i < n; i++) {
      this.rsSi[i] = this.rsSi[i + 1];
      this.rsDst[i] = this.rsDst[i + 1];
      this.rsSrc[3 * i] = this.rsSrc[3 * i + 3];
      this.rsSrc[3 * i + 1] = this.rsSrc[3 * i + 4];
      this.rsSrc[3 * i + 2] = this.rsSrc[3 * i + 5];
    }
  }
}
