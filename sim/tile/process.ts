import type { Simulator } from '../kernel/simulator.js';
import { Priority } from '../kernel/priority.js';
import type { NetworkMessage, NetworkPort } from '../noc/port.js';
import type { CounterRegistry } from '../counters/registry.js';
import { DetailedTile, type TileNic } from './detailed.js';
import { FastTile, type FastResult, type NocRequest } from './fast.js';
import type { Program } from './isa.js';
import type { TileTiming } from './params.js';
import { registerTileCounters, type TileStats } from './stats.js';
import type { Fidelity } from './run.js';

/**
 * Message matching for tiles on one network: a receive `(peer, tag)` takes the oldest
 * delivered message from that source (any source when peer is -1) with that tag.
 */
export class TileMailboxes {
  private readonly boxes = new Map<number, { msg: NetworkMessage; at: number }[]>();
  private readonly waiting = new Map<number, { peer: number; tag: number; resolve: (at: number) => void }[]>();

  deliver(msg: NetworkMessage, at: number): void {
    const w = this.waiting.get(msg.dst) ?? [];
    const i = w.findIndex((r) => (r.peer < 0 || r.peer === msg.src) && r.tag === msg.tag);
    if (i >= 0) {
      const [r] = w.splice(i, 1);
      r.resolve(at);
      return;
    }
    const box = this.boxes.get(msg.dst) ?? [];
    box.push({ msg, at });
    this.boxes.set(msg.dst, box);
  }

  /** Take a matching message now (returns its delivery cycle) or wait for one. */
  receive(tile: number, peer: number, tag: number, resolve: (at: number) => void): void {
    const box = this.boxes.get(tile) ?? [];
    const i = box.findIndex((e) => (peer < 0 || e.msg.src === peer) && e.msg.tag === tag);
    if (i >= 0) {
      const [e] = box.splice(i, 1);
      resolve(e.at);
      return;
    }
    const w = this.waiting.get(tile) ?? [];
    w.push({ peer, tag, resolve });
    this.waiting.set(tile, w);
  }
}

export interface TileProcessOptions {
  readonly fidelity: Fidelity;
  /** registers the tile's counters under this instance name (e.g. `tile[1,2]`) */
  readonly registry?: CounterRegistry;
  readonly instance?: string;
  readonly onDone?: (endCycle: number, stats: TileStats) => void;
}

/**
 * One tile running one program inside the discrete-event kernel, talking to other tiles
 * through a NetworkPort. Detailed: one event per simulated cycle (none while it waits
 * for a message). Fast: events only at communication points (each send, each receive's
 * arrival) and at the end; the block-level model runs between them.
 */
export class TileProcess {
  private startCycle = 0;
  stats: TileStats | null = null;
  endCycle = -1;

  constructor(
    private readonly sim: Simulator,
    private readonly port: NetworkPort,
    private readonly mail: TileMailboxes,
    readonly tile: number,
    private readonly timing: TileTiming,
    private readonly program: Program,
    private readonly options: TileProcessOptions,
  ) {}

  start(): void {
    this.startCycle = this.sim.now;
    if (this.options.fidelity === 'detailed') this.startDetailed();
    else this.startFast();
  }

  private send(peer: number, bytes: number, tag: number): void {
    this.port.send(this.tile, peer, bytes, (msg, at) => this.mail.deliver(msg, at), tag);
  }

  private finish(stats: TileStats): void {
    this.stats = stats;
    this.endCycle = this.startCycle + stats.cycles;
    if (this.options.registry) stats.addTo(registerTileCounters(this.options.registry, this.options.instance ?? `tile[${this.tile}]`));
    this.options.onDone?.(this.endCycle, stats);
  }

  private startDetailed(): void {
    const base = this.startCycle;
    let sleeping = false;
    const step = () => {
      tile.step();
      if (tile.finished) {
        // the last step found nothing left: that cycle is not part of the run
        this.sim.schedule(0, () => this.finish(tile.stats), undefined, Priority.Low);
        return;
      }
      if (tile.waitingOnNetwork) sleeping = true;
      else this.sim.schedule(1, step);
    };
    const wake = (at: number) => {
      if (!sleeping) return;
      sleeping = false;
      // skip the idle cycles: the tile replays them as network stalls
      const target = Math.max(at - base, tile.now);
      while (tile.now < target && !tile.finished) tile.step();
      this.sim.scheduleAt(Math.max(this.sim.now, base + tile.now), step);
    };
    const nic: TileNic = {
      send: (cycle, peer, bytes, tag) => {
        this.sim.scheduleAt(Math.max(this.sim.now, base + cycle), () => this.send(peer, bytes, tag), undefined, Priority.Default);
        return true;
      },
      recv: (_cycle, peer, tag, _bytes, arrive) => {
        this.mail.receive(this.tile, peer, tag, (at) => {
          arrive(at - base);
          wake(at);
        });
        return -1;
      },
    };
    const tile = new DetailedTile(this.timing, this.program, nic);
    this.sim.schedule(0, step);
  }

  private startFast(): void {
    const base = this.startCycle;
    const model = new FastTile(this.timing, this.program);
    const gen = model.steps();
    const advance = (input: number) => {
      let r = gen.next(input);
      while (!r.done) {
        const req: NocRequest = r.value;
        if (req.kind === 'send') {
          const at = Math.max(this.sim.now, base + req.cycle);
          this.sim.scheduleAt(at, () => this.send(req.peer, req.bytes, req.tag));
          r = gen.next(0);
          continue;
        }
        // a receive: suspend the model until the message is there
        this.mail.receive(this.tile, req.peer, req.tag, (at) => {
          this.sim.scheduleAt(Math.max(this.sim.now, at), () => advance(Math.max(req.cycle + 1, at - base)));
        });
        return;
      }
      const res: FastResult = r.value;
      this.sim.scheduleAt(Math.max(this.sim.now, base + res.stats.cycles), () => this.finish(res.stats));
    };
    this.sim.schedule(0, () => advance(0));
  }
}
