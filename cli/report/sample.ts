import type { CounterRecord } from '../../sim/counters/counter.js';
import type { Design } from '../../sim/design/design.js';
import { resolveTiles } from '../../sim/design/tiles.js';
import { Rng } from '../../sim/random/rng.js';
import type { ReportInput, LinkLoad } from '../../sim/power/report.js';
import type { TechTable } from '../../sim/tech/table.js';
import type { WorkloadReference } from '../../sim/power/reference.js';

/**
 * A synthetic run for demonstrating and checking the report (clearly labelled as such):
 * per-tile decode-like activity (ROM streaming into MACs, KV reads from DMEM) drawn from
 * a seeded stream, and XY-routed traffic from every tile to tile [0,0]. Not a simulation.
 */
export function syntheticRun(design: Design, tech: TechTable, reference: WorkloadReference, cycles = 1_000_000, seed = 1): ReportInput {
  const rng = new Rng(seed, 'report/sample');
  const tiles = resolveTiles(design);
  const tileCounters: CounterRecord[] = tiles.map((t) => {
    const lanes = t.vlenBits / 16;
    const busy = Math.round(cycles * (0.35 + 0.6 * rng.next()));
    const vecBusy = Math.round(busy * 0.8);
    const macs = vecBusy * lanes;
    const romBytes = macs; // one INT8 weight per MAC (decode streams every weight once)
    const romBusy = Math.min(cycles, Math.round(romBytes / (t.vlenBits / 8)));
    const instr = Math.round(busy * Math.min(t.fetchWidth, 2) * 0.5);
    return {
      'tile.instructionsFetched': instr,
      'tile.instructionsIssued': instr,
      'tile.scalarInstructions': Math.round(instr * 0.2),
      'tile.vectorInstructions': Math.round(instr * 0.5),
      'tile.memoryInstructions': Math.round(instr * 0.25),
      'tile.nocInstructions': Math.round(instr * 0.03),
      'tile.controlInstructions': Math.round(instr * 0.02),
      'tile.macs': macs,
      'tile.vectorAluOps': Math.round(macs * 0.05),
      'tile.sfuOps': Math.round(macs * 0.002),
      'tile.registerReads': Math.round(instr * 2),
      'tile.registerWrites': instr,
      // about 16 weight bits read and 16 ROM-load bits written per MAC (docs/power.md 3.2)
      'tile.registerReadBits': Math.round(macs * 17),
      'tile.registerWriteBits': Math.round(macs * 16),
      'tile.romBytesRead': romBytes,
      'tile.romScaleBytesRead': Math.round(romBytes / 64),
      'tile.dmemBytesRead': Math.round(busy * 8),
      'tile.dmemBytesWritten': Math.round(busy * 2),
      'tile.kvBytesRead': Math.round(busy * 6),
      'tile.kvBytesWritten': Math.round(busy * 1),
      'tile.busyCycles': busy,
      'tile.vectorBusyCycles': vecBusy,
      'tile.romBusyCycles': romBusy,
      'tile.romIdleCycles': cycles - romBusy,
      'tile.dmemBusyCycles': Math.round(busy * 0.2),
      'tile.stallFetchCycles': Math.round((cycles - busy) * 0.1),
      'tile.stallDispatchCycles': 0,
      'tile.stallReservationCycles': 0,
      'tile.stallRawCycles': Math.round((cycles - busy) * 0.3),
      'tile.stallRomPortCycles': Math.round((cycles - busy) * 0.4),
      'tile.stallDmemPortCycles': 0,
      'tile.stallNocCycles': cycles - busy - Math.round((cycles - busy) * 0.1) - Math.round((cycles - busy) * 0.3) - Math.round((cycles - busy) * 0.4),
    };
  });
  const { rows, cols } = design.mesh;
  const load = new Map<string, number>();
  const packetFlits = 4;
  let hops = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // XY route from (r, c) to (0, 0): along the row first, then the column.
      let [x, y] = [c, r];
      while (x > 0 || y > 0) {
        const [nx, ny] = x > 0 ? [x - 1, y] : [x, y - 1];
        const key = `${y},${x}>${ny},${nx}`;
        load.set(key, (load.get(key) ?? 0) + packetFlits);
        hops++;
        [x, y] = [nx, ny];
      }
    }
  }
  const linkLoads: LinkLoad[] = [...load].map(([k, flits]) => {
    const [a, b] = k.split('>').map((s) => s.split(',').map(Number) as [number, number]);
    return { from: a, to: b, flits };
  });
  const sum = (name: string) => tileCounters.reduce((s, r) => s + (r[name] ?? 0), 0);
  const flits = rows * cols * packetFlits;
  const linkFlitHops = hops * packetFlits;
  const routerVisits = linkFlitHops + flits; // each hop enters a router, plus the source router
  const counters: CounterRecord = { 'kernel.eventsDispatched': 0 };
  for (const name of Object.keys(tileCounters[0])) counters[name] = sum(name);
  Object.assign(counters, {
    'noc.packetsInjected': rows * cols,
    'noc.flitsInjected': flits,
    'noc.flitsEjected': flits,
    'noc.flitsReplicated': 0,
    'noc.bufferWrites': routerVisits,
    'noc.bufferReads': routerVisits,
    'noc.routeComputations': routerVisits / packetFlits,
    'noc.vcAllocations': routerVisits / packetFlits,
    'noc.switchAllocations': routerVisits,
    'noc.crossbarTraversals': routerVisits,
    'noc.linkFlitHops': linkFlitHops,
    'noc.creditsReturned': routerVisits,
  });
  return {
    design,
    tech,
    counters,
    tileCounters,
    simulatedCycles: cycles,
    tokens: 16,
    linkLoads,
    reference,
    title: `${design.name} (SYNTHETIC counters for a report demonstration, not a simulation)`,
  };
}
