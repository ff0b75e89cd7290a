/**
 * A network interface with one injection FIFO per VC (`noc.injectionQueues = 'per-vc'`)
 * interleaves the FIFOs' flits round-robin, one flit per cycle (sim/noc/flitNetwork.ts,
 * evalInterface). The message-level model schedules the packets that enter an interface in
 * the same cycle together, as a fluid: while k FIFOs have a packet to send, each sends at
 * min(1/k, 1/cyclesPerFlit) flits per cycle (its share of the channel, or less when its VC
 * is credit-limited); a FIFO starts its next packet after the previous tail. The heads of
 * the FIFOs that start together leave in consecutive cycles. Without this, the packets of a
 * fan-out would leave one after another (as from a single FIFO), the first ones early and
 * the later ones with their whole head latency after the earlier tails.
 */
export interface InterleavedPacket {
  /** FIFO (= injection VC) the packet was dealt to */
  readonly fifo: number;
  readonly flits: number;
  /** at most one flit per this many cycles (its route's credit-limited rate) */
  readonly cyclesPerFlit: number;
  /** cycle the FIFO's VC is free for the first packet of the FIFO (from earlier packets) */
  readonly fifoFree: number;
  /** results: cycles the head and the tail are sent */
  head: number;
  tail: number;
}

/**
 * Schedule `pkts` (in the order they were dealt; packets of one FIFO in order) on a channel
 * free from cycle `start`: sets each packet's head and tail, and calls `scheduled(p)` as
 * soon as they are known, which returns the cycle p's FIFO may start its next packet.
 */
export function interleave(pkts: InterleavedPacket[], start: number, scheduled: (p: InterleavedPacket) => number): void {
  // per FIFO: its packets in order, the current one, flits left, when it may start
  const fifos = new Map<number, { list: InterleavedPacket[]; at: number; left: number; ready: number }>();
  for (const p of pkts) {
    const f = fifos.get(p.fifo);
    if (f) f.list.push(p);
    else fifos.set(p.fifo, { list: [p], at: 0, left: p.flits, ready: Math.max(start, p.fifoFree) });
  }
  const all = [...fifos.values()];
  let now = start;
  let order = 0; // heads that start together leave one per cycle
  const active: typeof all = [];
  const activate = () => {
    for (const f of all) {
      if (f.at < f.list.length && f.ready <= now + 1e-9 && !active.includes(f)) {
        const p = f.list[f.at];
        p.head = Math.max(Math.ceil(f.ready), Math.ceil(now) + order++);
        active.push(f);
      }
    }
  };
  activate();
  while (active.length > 0 || all.some((f) => f.at < f.list.length)) {
    if (active.length === 0) {
      now = Math.min(...all.filter((f) => f.at < f.list.length).map((f) => f.ready));
      order = 0;
      activate();
      continue;
    }
    const share = 1 / active.length;
    const rate = (f: (typeof all)[number]) => Math.min(share, 1 / f.list[f.at].cyclesPerFlit);
    let dt = Number.POSITIVE_INFINITY;
    for (const f of active) dt = Math.min(dt, f.left / rate(f));
    for (const f of all) if (f.at < f.list.length && !active.includes(f) && f.ready > now) dt = Math.min(dt, f.ready - now);
    for (const f of active) f.left -= rate(f) * dt;
    now += dt;
    order = 0;
    for (let i = active.length - 1; i >= 0; i--) {
      const f = active[i];
      if (f.left > 1e-9) continue;
      const p = f.list[f.at];
      p.tail = Math.max(p.head + p.flits - 1, Math.ceil(now - 1e-9) - 1);
      const free = scheduled(p);
      active.splice(i, 1);
      f.at++;
      if (f.at < f.list.length) {
        f.left = f.list[f.at].flits;
        f.ready = Math.max(p.tail + 1, free);
      }
    }
    activate();
  }
}
