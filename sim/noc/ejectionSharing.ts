/**
 * Packets converging on one tile share its ejection port flit by flit: the flit model's
 * switch allocator grants the local output round-robin among the input ports whose packets
 * hold an ejection VC, so packets ejected at the same time finish late, together, rather
 * than one after another. The message-level model reserves the port's cycles in the order
 * it reserves routes (first come, first served), which gets the port's total right but not
 * who finishes when. This corrects the order: when packet P is ejected while packets
 * reserved before it are still being ejected (at most V - 1 of them hold the other ejection
 * VCs), round-robin would have interleaved P's flits with theirs, so each such packet Q
 * finishes later by the flits of P sent before Q's end,
 *   t_Q' = min(t_P, t_Q + a min(r_Q, L_P)),   r_Q = flits Q still had to send when P's head came,
 * (a = MessageCalibration.ejectionInterleave)
 * while P keeps its first-come tail t_P (the port carries the same flits either way). Q's
 * delivery is moved (nothing downstream of an ejection depends on it).
 */
/** What a packet being ejected records of its ejection (kept on the packet: no extra object). */
export interface Ejecting {
  /** cycle its head starts the ejection */
  ejectRelease: number;
  /** cycle its tail ends it */
  ejectTail: number;
  /** its slot in the sharing's ring (set by `add`) */
  ejectSlot: number;
}

export class EjectionSharing<P extends Ejecting> {
  /** per router, a ring of the last `window` packets reserved there (null: delivered) */
  private readonly ring: (P | null)[];
  /**
   * per router, packets reserved there so far (an Int32Array: its elements read back as
   * small integers, so the slot each packet records stays an unboxed field; a Float64Array
   * made every packet's `ejectSlot` a heap number, 72k a fast decode:1@512 run)
   */
  private readonly added: Int32Array;
  private readonly window: number;

  constructor(
    routers: number,
    private readonly vcs: number,
    /** a, the share of the interleaving applied */
    private readonly interleave: number,
    /** reservations remembered per ejection VC */
    windowPerVc: number,
  ) {
    this.window = windowPerVc * vcs;
    this.ring = vcs > 1 ? new Array<P | null>(routers * this.window).fill(null) : [];
    this.added = new Int32Array(vcs > 1 ? routers : 0);
  }

  /**
   * Packet p (`flits` long) starts its ejection at router r at p.ejectRelease and ends at
   * p.ejectTail (first come, first served). Calls `moved(q, tail)` for every packet ejected
   * there before whose tail moves later (before updating its ejectTail).
   */
  add(r: number, p: P, flits: number, moved: (q: P, tail: number) => void): void {
    if (this.vcs === 1) return; // one ejection VC: packets leave one after another
    const w = this.window;
    const base = r * w;
    const n = this.added[r];
    // the packets still being ejected when p's head comes, latest reserved first, at most
    // V - 1 (of the last `window` reserved here)
    const release = p.ejectRelease;
    const tail = p.ejectTail;
    let shared = 0;
    for (let back = 1; back <= w && back <= n && shared < this.vcs - 1; back++) {
      const q = this.ring[base + ((n - back) % w)];
      if (q === null || q.ejectTail <= release || q.ejectRelease > release) continue;
      shared++;
      const left = q.ejectTail - release;
      const t = Math.min(tail, q.ejectTail + Math.round(this.interleave * Math.min(left, flits)));
      if (t > q.ejectTail) {
        moved(q, t);
        q.ejectTail = t;
      }
    }
    const slot = base + (n % w);
    this.ring[slot] = p;
    p.ejectSlot = slot;
    this.added[r] = n + 1;
  }

  /** Packet p has been delivered: it shares nothing any more (and is not kept alive here). */
  delivered(p: P): void {
    if (this.vcs > 1 && this.ring[p.ejectSlot] === p) this.ring[p.ejectSlot] = null;
  }
}
