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
}

export class EjectionSharing<P extends Ejecting> {
  private readonly lists: (P[] | undefined)[];

  constructor(
    routers: number,
    private readonly vcs: number,
    /** a, the share of the interleaving applied */
    private readonly interleave: number,
    /** reservations remembered per ejection VC */
    private readonly windowPerVc: number,
  ) {
    this.lists = new Array(routers).fill(undefined);
  }

  /**
   * Packet p (`flits` long) starts its ejection at router r at p.ejectRelease and ends at
   * p.ejectTail (first come, first served). Calls `moved(q, tail)` for every packet ejected
   * there before whose tail moves later (before updating its ejectTail).
   */
  add(now: number, r: number, p: P, flits: number, moved: (q: P, tail: number) => void): void {
    if (this.vcs === 1) return; // one ejection VC: packets leave one after another
    const list = (this.lists[r] ??= []);
    const window = this.windowPerVc * this.vcs;
    if (list.length > 2 * window) {
      let keep = 0;
      for (const e of list) if (e.ejectTail >= now) list[keep++] = e;
      list.length = keep;
      if (keep > 2 * window) list.splice(0, keep - window);
    }
    // the packets still being ejected when p's head comes, latest reserved first, at most
    // V - 1 (of the last `window` reserved here)
    const release = p.ejectRelease;
    const tail = p.ejectTail;
    let shared = 0;
    const from = Math.max(0, list.length - window);
    for (let i = list.length - 1; i >= from && shared < this.vcs - 1; i--) {
      const q = list[i];
      if (q.ejectTail <= release || q.ejectRelease > release) continue;
      shared++;
      const left = q.ejectTail - release;
      const t = Math.min(tail, q.ejectTail + Math.round(this.interleave * Math.min(left, flits)));
      if (t > q.ejectTail) {
        moved(q, t);
        q.ejectTail = t;
      }
    }
    list.push(p);
  }
}
