import { Simulator } from '../sim/kernel/simulator.js';
import type { NetworkMessage, NetworkPort, DeliveryHandler } from '../sim/noc/port.js';
import { CounterRegistry } from '../sim/counters/registry.js';
import { TileMailboxes, TileProcess } from '../sim/tile/process.js';
import { resolveTiming } from '../sim/tile/params.js';
import { buildKernel } from '../sim/tile/kernels.js';
import { concatPrograms } from '../sim/tile/isa.js';
import { runKernel } from '../sim/tile/run.js';
import { CONFIGS } from './tile-matrix.js';

/** Stand-in network (tests only): delivery after a fixed latency plus one cycle per 64 bytes. */
class StandInPort implements NetworkPort {
  private id = 0;
  readonly sent: NetworkMessage[] = [];
  constructor(
    private readonly sim: Simulator,
    readonly latencyCycles: number,
  ) {}
  send(src: number, dst: number, bytes: number, onDelivered: DeliveryHandler, tag = 0): NetworkMessage {
    const msg: NetworkMessage = { id: this.id++, src, dst, bytes, tag, createdAtCycles: this.sim.now };
    this.sent.push(msg);
    this.sim.schedule(this.latencyCycles + Math.ceil(bytes / 64), () => onDelivered(msg, this.sim.now));
    return msg;
  }
  multicast(src: number, dsts: readonly number[], bytes: number, onDelivered: DeliveryHandler, tag = 0): void {
    for (const d of dsts) this.send(src, d, bytes, onDelivered, tag);
  }
}

function splitAttention(fidelity: 'fast' | 'detailed', latency: number) {
  const sim = new Simulator();
  const port = new StandInPort(sim, latency);
  const mail = new TileMailboxes();
  const reg = new CounterRegistry();
  const c = CONFIGS[0];
  const t = resolveTiming(c.tile, c.precision);
  const ends: Record<number, number> = {};
  const half = (extra: object) => buildKernel(t, { kind: 'attention', queryHeads: 4, headDim: 64, contextTokens: 512, ...extra }).program;
  const p0 = new TileProcess(sim, port, mail, 0, t, half({ sendPartialTo: 1 }), { fidelity, registry: reg, instance: 'tile[0,0]', onDone: (e) => (ends[0] = e) });
  const p1 = new TileProcess(sim, port, mail, 1, t, half({ combineFrom: [0] }), { fidelity, registry: reg, instance: 'tile[0,1]', onDone: (e) => (ends[1] = e) });
  p0.start();
  p1.start();
  sim.run();
  return { ends, events: sim.eventsDispatched, sent: port.sent, reg, p0, p1 };
}

describe('tiles in the discrete-event kernel over a NetworkPort (stand-in network)', () => {
  for (const fidelity of ['detailed', 'fast'] as const) {
    test(`${fidelity}: split-context attention combines the partial sent by the other tile`, () => {
      const r = splitAttention(fidelity, 50);
      expect(r.sent.length).toBe(4); // one partial (o, m, l) per query head
      expect(r.sent.every((m) => m.src === 0 && m.dst === 1)).toBe(true);
      // the combining tile cannot finish before the last partial has arrived
      const lastArrival = Math.max(...r.sent.map((m) => m.createdAtCycles + 50 + Math.ceil(m.bytes / 64)));
      expect(r.ends[1]).toBeGreaterThan(lastArrival);
      expect(r.ends[0]).toBeGreaterThan(0);
      const byTile = r.reg.byInstance('tile.nocInstructions');
      expect(byTile).toEqual({ 'tile[0,0]': 4, 'tile[0,1]': 4 });
      const cycles = r.reg.byInstance('tile.busyCycles');
      expect(cycles['tile[0,1]']).toBeGreaterThan(0);
    });
  }

  test('a slower network delays the combining tile by the extra latency; fast and detailed agree', () => {
    const dFast = splitAttention('detailed', 10);
    const dSlow = splitAttention('detailed', 2000);
    expect(dSlow.ends[1] - dFast.ends[1]).toBeGreaterThanOrEqual(1900);
    const fSlow = splitAttention('fast', 2000);
    expect(Math.abs(fSlow.ends[1] - dSlow.ends[1]) / dSlow.ends[1]).toBeLessThan(0.05);
    // waiting on the network is charged to the NoC
    expect(dSlow.p1.stats!.stall[0]).toBeGreaterThan(1500);
    // fast mode: events only at communication points and ends
    expect(fSlow.events * 20).toBeLessThan(dSlow.events);
  });

  test('a layer as one program: kernels back to back on a tile', () => {
    const c = CONFIGS[0];
    const t = resolveTiming(c.tile, c.precision);
    const specs = [{ kind: 'rmsnorm', dim: 1024 }, { kind: 'gemv', rows: 256, cols: 1024 }, { kind: 'residual', dim: 256 }] as const;
    const layer = concatPrograms('layer', specs.map((s) => buildKernel(t, s).program));
    for (const fidelity of ['fast', 'detailed'] as const) {
      const sim = new Simulator();
      let end = -1;
      new TileProcess(sim, new StandInPort(sim, 1), new TileMailboxes(), 0, t, layer, { fidelity, onDone: (e) => (end = e) }).start();
      sim.run();
      const alone = specs.map((s) => runKernel(c.tile, c.precision, s, { fidelity }).cycles);
      // overlap between kernels can only hide fill and drain, never the work itself
      expect(end).toBeGreaterThanOrEqual(Math.max(...alone));
      expect(end).toBeLessThanOrEqual(alone.reduce((a, b) => a + b, 0));
      expect(end).toBeGreaterThan(alone.reduce((a, b) => a + b, 0) * 0.9);
    }
  });
});
