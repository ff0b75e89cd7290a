import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { table } from '../format.js';
import { loadDesign } from '../load.js';
import { nocSvg } from '../nocSvg.js';
import { InputError } from '../../sim/validate/inputError.js';
import { parseInput } from '../../sim/validate/zod.js';
import { DesignSchema, type Design } from '../../sim/design/design.js';
import { runLoadPoint, sweepLoads, sweepPointCount, MAX_SWEEP_POINTS, type LoadPointResult } from '../../sim/noc/lab.js';
import { TRAFFIC_PATTERNS, type TrafficPattern } from '../../sim/noc/traffic.js';
import { ROUTING_FUNCTIONS } from '../../sim/noc/mesh.js';
import { applySets, parseSets, sweepPoints, withSetOption, type SetPoint } from '../overrides.js';
import { createProgress } from '../progress.js';
import { seedOption } from '../options.js';
import { fmtInt, plural } from '../format.js';

/**
 * `tessera noc`: the synthetic-traffic lab. Builds a mesh from the options (or from
 * `--design` with the options as overrides), runs one offered load (`--rate`) or a sweep
 * (`--sweep lo:hi:step`, stopping after the first saturated point unless
 * `--past-saturation`), and prints a table, `--json`, `--csv`, and `--svg` plots.
 */
export interface NocArgs {
  design?: string;
  mesh?: string;
  vcs?: number;
  buffer?: number;
  'flit-bits'?: number;
  'packet-flits': number;
  traffic: string;
  rate?: number;
  sweep?: string;
  routing?: string;
  model: string;
  engine: string;
  injection?: string;
  rc?: number;
  va?: number;
  sa?: number;
  st?: number;
  link?: number;
  credit?: number;
  self: boolean;
  'hotspot-fraction': number;
  warmup: number;
  measure: number;
  drain?: number;
  'past-saturation': boolean;
  seed: number;
  json: boolean;
  quiet: boolean;
  set?: string[];
  csv?: string;
  svg?: string;
}

const SRC = 'tessera noc';

function intOpt(name: string, v: number | undefined, lo: number, hi: number): number | undefined {
  if (v === undefined) return undefined;
  if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw new InputError(SRC, `--${name}`, v, `must be an integer in ${lo}..${hi}`, `use a value in ${lo}..${hi}`);
  return v;
}

function loadOpt(name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0 && v <= 1)) throw new InputError(SRC, name, v, 'offered load must be in (0, 1] flits/node/cycle', 'use e.g. 0.1');
  return v;
}

/** The design the lab runs: a built-in NoC test design, or --design, with --set edits, then the options applied. */
export function nocDesign(io: Io, a: Partial<NocArgs>, assignments: SetPoint['assignments'] = []): Design {
  const base = a.design
    ? structuredClone(applySets(loadDesign(io, a.design), assignments, a.design))
    : parseInput(DesignSchema, {
        kind: 'design',
        schemaVersion: 1,
        name: 'noc-lab',
        processNodeNm: 7,
        clockMHz: 500,
        mesh: { rows: 8, cols: 8 },
        noc: { flitBits: 128, virtualChannels: 2, bufferDepthFlits: 4 },
        tile: { fetchWidth: 2, reservationStations: 8, vlenBits: 256, dmemKiB: 64, wmemKiB: 256, imemKiB: 8, scalarWritePorts: 1, vectorWritePorts: 1, scalarDispatchPorts: 1, vectorDispatchPorts: 1 },
      }, SRC);
  if (!a.design) Object.assign(base, structuredClone(applySets(base, assignments, 'the noc lab design')));
  if (a.mesh !== undefined) {
    const m = /^(\d+)x(\d+)$/.exec(String(a.mesh));
    const rows = m ? Number(m[1]) : Number.NaN;
    const cols = m ? Number(m[2]) : Number.NaN;
    if (!m || rows < 1 || cols < 1 || rows > 64 || cols > 64) throw new InputError(SRC, '--mesh', a.mesh, 'must be ROWSxCOLS with 1..64 rows and columns', 'use e.g. --mesh 8x8');
    base.mesh = { rows, cols };
    base.tileOverrides = [];
    base.mapping = { ...base.mapping, pipelineStages: 1 };
  }
  const noc = base.noc;
  noc.virtualChannels = intOpt('vcs', a.vcs, 1, 16) ?? noc.virtualChannels;
  noc.bufferDepthFlits = intOpt('buffer', a.buffer, 1, 64) ?? noc.bufferDepthFlits;
  noc.flitBits = intOpt('flit-bits', a['flit-bits'], 64, 8192) ?? noc.flitBits;
  noc.routeComputeCycles = intOpt('rc', a.rc, 0, 16) ?? noc.routeComputeCycles;
  noc.vcAllocCycles = intOpt('va', a.va, 0, 16) ?? noc.vcAllocCycles;
  noc.switchAllocCycles = intOpt('sa', a.sa, 0, 16) ?? noc.switchAllocCycles;
  noc.switchTraversalCycles = intOpt('st', a.st, 0, 16) ?? noc.switchTraversalCycles;
  noc.linkTraversalCycles = intOpt('link', a.link, 1, 64) ?? noc.linkTraversalCycles;
  noc.creditReturnCycles = intOpt('credit', a.credit, 0, 64) ?? noc.creditReturnCycles;
  if (a.routing !== undefined) {
    if (!(a.routing in ROUTING_FUNCTIONS)) throw new InputError(SRC, '--routing', a.routing, `unknown routing function; allowed: ${Object.keys(ROUTING_FUNCTIONS).join(', ')}`, 'use --routing xy');
    noc.routing = a.routing as Design['noc']['routing'];
  }
  if (a.injection !== undefined) {
    if (a.injection !== 'single' && a.injection !== 'per-vc') throw new InputError(SRC, '--injection', a.injection, 'allowed: single, per-vc', 'use --injection single');
    noc.injectionQueues = a.injection;
  }
  return parseInput(DesignSchema, base, a.design ?? SRC);
}

interface Point extends LoadPointResult {
  wallSeconds: number;
}

/** One load point as JSON (statistics with no measured packet behind them are null). */
function pointJson(p: Point) {
  return {
    offeredFlitsPerNodeCycle: p.offeredFlitsPerNodeCycle,
    acceptedFlitsPerNodeCycle: p.acceptedFlitsPerNodeCycle,
    avgPacketLatencyCycles: Number.isFinite(p.avgPacketLatencyCycles) ? p.avgPacketLatencyCycles : null,
    avgNetworkLatencyCycles: Number.isFinite(p.avgNetworkLatencyCycles) ? p.avgNetworkLatencyCycles : null,
    p99PacketLatencyCycles: Number.isFinite(p.p99PacketLatencyCycles) ? p.p99PacketLatencyCycles : null,
    avgHops: Number.isFinite(p.avgHops) ? p.avgHops : null,
    zeroLoadLatencyCycles: p.zeroLoadLatencyCycles,
    saturated: p.saturated,
    converged: p.converged,
    packetsMeasured: p.packetsMeasured,
    simulatedCycles: p.simulatedCycles,
    wallSeconds: p.wallSeconds,
    routerEvaluations: p.routerEvaluations,
    counters: p.counters,
  };
}

/** A --set sweep of labs: one row per design with its zero-load latency and saturation (or its one load point). */
function printNocSweep(io: Io, a: NocArgs, paths: readonly string[], runs: readonly { design: Design; combo: SetPoint; points: Point[] }[], traffic: string, packetFlits: number): void {
  const saturation = (points: readonly Point[]) => points.filter((p) => !p.saturated).reduce((m, p) => Math.max(m, p.offeredFlitsPerNodeCycle), 0);
  if (a.json) {
    const out = runs.map((r) => ({ set: Object.fromEntries(paths.map((p, k) => [p, r.combo.assignments[k].value])), mesh: `${r.design.mesh.rows}x${r.design.mesh.cols}`, noc: r.design.noc, design: r.design, saturationFlitsPerNodeCycle: saturation(r.points), points: r.points.map(pointJson) }));
    io.stdout(`${JSON.stringify({ sweep: paths, traffic, model: a.model, seed: a.seed, packetFlits, runs: out }, null, 2)}\n`);
    return;
  }
  const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : Number.isNaN(v) ? '-' : String(v));
  const single = a.sweep === undefined;
  io.stdout(`tessera noc: ${traffic} traffic, ${packetFlits}-flit packets, ${a.model} model; ${plural(runs.length, 'design')} (${paths.join(', ')}); seed ${a.seed}\n`);
  io.stdout(
    table(
      runs.map((r) => {
        const values = r.combo.assignments.map((x) => (typeof x.value === 'string' ? x.value : JSON.stringify(x.value)));
        const p = r.points[0];
        return single
          ? [...values, f(p.zeroLoadLatencyCycles), f(p.offeredFlitsPerNodeCycle, 3), f(p.acceptedFlitsPerNodeCycle, 4), f(p.avgPacketLatencyCycles), f(p.p99PacketLatencyCycles, 0), p.saturated ? 'yes' : 'no']
          : [...values, f(p.zeroLoadLatencyCycles), r.points.some((q) => q.saturated) ? f(saturation(r.points), 3) : `> ${f(r.points[r.points.length - 1].offeredFlitsPerNodeCycle, 3)}`, String(r.points.length)];
      }),
      single ? [...paths, 'zero-load', 'offered', 'accepted', 'avg latency', 'p99', 'saturated'] : [...paths, 'zero-load', 'saturation', 'points run'],
    ),
  );
  if (!single) io.stdout('saturation: the highest unsaturated offered load in flits/node/cycle ("> x": none of the loads run saturated)\n');
}

export function nocCommand(io: Io, now: () => number = () => performance.now()): CommandModule<object, NocArgs> {
  return {
    command: 'noc',
    builder: (y: Argv) =>
      y
        .option('design', { type: 'string', describe: 'start from this design (file or preset); the options below override its NoC' })
        .option('mesh', { type: 'string', describe: 'mesh size ROWSxCOLS (default 8x8)' })
        .option('vcs', { type: 'number', describe: 'virtual channels per input port (default 2)' })
        .option('buffer', { type: 'number', describe: 'buffer depth per VC in flits (default 4)' })
        .option('flit-bits', { type: 'number', describe: 'flit width in bits (default 128)' })
        .option('packet-flits', { type: 'number', default: 1, describe: 'packet length in flits' })
        .option('traffic', { type: 'string', default: 'uniform', describe: `traffic pattern: ${TRAFFIC_PATTERNS.join(', ')}` })
        .option('rate', { type: 'number', describe: 'offered load in flits/node/cycle, in (0, 1]' })
        .option('sweep', { type: 'string', describe: 'sweep of offered loads lo:hi:step, e.g. 0.02:0.5:0.02' })
        .option('routing', { type: 'string', describe: 'routing function: xy (default) or yx' })
        .option('model', { type: 'string', default: 'flit', describe: 'flit (cycle-accurate) or message (fast link reservation)' })
        .option('engine', { type: 'string', default: 'event', describe: 'flit model engine: event (default) or cycle (reference, every router every cycle)' })
        .option('injection', { type: 'string', describe: 'injection queues: single (default) or per-vc' })
        .option('rc', { type: 'number', describe: 'route computation cycles (default 1)' })
        .option('va', { type: 'number', describe: 'VC allocation cycles (default 1)' })
        .option('sa', { type: 'number', describe: 'switch allocation cycles (default 1)' })
        .option('st', { type: 'number', describe: 'switch traversal cycles (default 1)' })
        .option('link', { type: 'number', describe: 'link traversal cycles (default 1)' })
        .option('credit', { type: 'number', describe: 'credit return delay cycles (default 0)' })
        .option('self', { type: 'boolean', default: false, describe: 'uniform/hotspot: a node may send to itself' })
        .option('hotspot-fraction', { type: 'number', default: 0.2, describe: 'hotspot: fraction of packets to the centre tile' })
        .option('warmup', { type: 'number', default: 2000, describe: 'warm-up cycles' })
        .option('measure', { type: 'number', default: 10000, describe: 'measurement window in cycles' })
        .option('drain', { type: 'number', describe: 'longest drain of the measured packets in cycles (default: the window length)' })
        .option('past-saturation', { type: 'boolean', default: false, describe: 'keep sweeping after the first saturated point' })
        .option('seed', seedOption)
        .option('json', { type: 'boolean', default: false, describe: 'print the results as JSON (with the resolved design)' })
        .option('quiet', { type: 'boolean', default: false, describe: 'no progress lines on stderr' })
        .option('csv', { type: 'string', describe: 'write CSV to this file (or to stdout when given no file)' })
        .option('svg', { type: 'string', describe: 'write latency/throughput plots and a link-load heatmap to this SVG file' })
        .option('set', { type: 'string', array: true, requiresArg: true, describe: 'edit the design: --set path=value (repeatable); a comma list (--set noc.virtualChannels=1,2,4) runs one lab per value and prints one row per value' }) as unknown as Argv<NocArgs>,
    handler: (a) => {
      const traffic = a.traffic as TrafficPattern;
      if (!TRAFFIC_PATTERNS.includes(traffic)) throw new InputError(SRC, '--traffic', a.traffic, `unknown pattern; allowed: ${TRAFFIC_PATTERNS.join(', ')}`, 'use --traffic uniform');
      if (a.model !== 'flit' && a.model !== 'message') throw new InputError(SRC, '--model', a.model, 'allowed: flit, message', 'use --model flit');
      if (a.engine !== 'event' && a.engine !== 'cycle') throw new InputError(SRC, '--engine', a.engine, 'allowed: event, cycle', 'use --engine event');
      const packetFlits = intOpt('packet-flits', a['packet-flits'], 1, 1024)!;
      const warmup = intOpt('warmup', a.warmup, 0, 1e8)!;
      const measure = intOpt('measure', a.measure, 1, 1e8)!;
      const drain = intOpt('drain', a.drain, 0, 1e9) ?? measure;
      const hf = a['hotspot-fraction'];
      if (!(hf >= 0 && hf <= 1)) throw new InputError(SRC, '--hotspot-fraction', hf, 'must be in 0..1', 'use e.g. 0.2');
      let loads: number[];
      if (a.sweep !== undefined) {
        if (a.rate !== undefined) throw new InputError(SRC, '--rate', a.rate, 'give either --rate or --sweep, not both', 'drop one of them');
        const parts = String(a.sweep).split(':').map(Number);
        if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x))) throw new InputError(SRC, '--sweep', a.sweep, 'must be lo:hi:step', 'use e.g. --sweep 0.02:0.5:0.02');
        const [lo, hi, step] = parts;
        loadOpt('--sweep lo', lo);
        loadOpt('--sweep hi', hi);
        if (!(step > 0) || hi < lo) throw new InputError(SRC, '--sweep', a.sweep, 'needs lo <= hi and step > 0', 'use e.g. --sweep 0.02:0.5:0.02');
        if (step < 1e-6) throw new InputError(SRC, '--sweep', a.sweep, 'a step of at least 1e-6 flits/node/cycle (finer loads round to the same point)', 'use e.g. --sweep 0.02:0.5:0.02');
        const points = sweepPointCount(lo, hi, step);
        if (points > MAX_SWEEP_POINTS) throw new InputError(SRC, '--sweep', a.sweep, `at most ${MAX_SWEEP_POINTS} points (this one has ${points})`, 'use a larger step, e.g. --sweep 0.02:0.5:0.02');
        loads = sweepLoads(lo, hi, step);
      } else loads = [loadOpt('--rate', a.rate ?? 0.1)];
      const sets = parseSets(a.set);
      const combos = sweepPoints(sets);
      if (combos.length > 1 && (a.csv !== undefined || a.svg)) throw new InputError(SRC, '--set', sets.find((x) => x.values.length > 1)!.text, '--csv and --svg take one design, not a --set sweep', 'give one value per --set, or drop --csv/--svg');
      const designs = combos.map((c) => nocDesign(io, a, c.assignments));
      for (const d of designs) {
        const { rows, cols } = d.mesh;
        if ((traffic === 'uniform' || traffic === 'hotspot') && rows * cols === 1 && !a.self) throw new InputError(SRC, '--mesh', `${rows}x${cols}`, `${traffic} traffic on one tile has no destination but the source itself`, 'use a larger mesh, or add --self to measure a router turning packets round');
        if (traffic === 'transpose' && rows !== cols) throw new InputError(SRC, '--traffic', traffic, `transpose needs a square mesh (this one is ${rows}x${cols})`, 'use --mesh KxK or another pattern');
      }

      // progress in load points (fractions while a point runs), on stderr after a second
      const total = designs.length * loads.length;
      const progress = createProgress(io, { label: 'noc', total, unit: 'points', quiet: a.quiet, delayMs: 1000 });
      let done = 0;
      const runPoints = (design: Design, tag: string): Point[] => {
        const points: Point[] = [];
        for (const rate of loads) {
          const t0 = now();
          const detail = `${tag}load ${rate}`;
          const r = runLoadPoint(design, {
            pattern: traffic,
            rate,
            packetFlits,
            seed: a.seed,
            model: a.model as 'flit' | 'message',
            engine: a.engine as 'event' | 'cycle',
            warmupCycles: warmup,
            measureCycles: measure,
            drainCycles: drain,
            patternOptions: { selfAllowed: a.self, hotspotFraction: hf },
            onProgress: (cycle, measureEnd) => progress.update(done + 0.99 * Math.min(1, cycle / measureEnd), `${detail}, cycle ${cycle.toLocaleString('en-US')}${cycle > measureEnd ? ' (draining)' : ''}`),
          });
          points.push({ ...r, wallSeconds: (now() - t0) / 1000 });
          progress.update(++done, detail);
          if (r.saturated && !a['past-saturation'] && a.sweep !== undefined) break;
        }
        // points past saturation were not run: count them as done for the progress line
        done += loads.length - points.length;
        return points;
      };
      const runs = designs.map((d, i) => ({ design: d, combo: combos[i], points: runPoints(d, combos.length > 1 ? `${combos[i].label}, ` : '') }));
      progress.finish();
      if (runs.length > 1) {
        printNocSweep(io, a, sets.map((x) => x.path.join('.')), runs, traffic, packetFlits);
        return;
      }
      const design = designs[0];
      const points = runs[0].points;
      const { rows, cols } = design.mesh;

      const label = `${rows}x${cols} ${traffic}, ${design.noc.virtualChannels} VCs x ${design.noc.bufferDepthFlits} flits, ${packetFlits}-flit packets, ${a.model}`;
      // NaN marks a statistic with no measured packet behind it: printed as "-", never "NaN"
      const num = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : Number.isNaN(v) ? '-' : String(v));
      const satCell = (p: LoadPointResult) => (p.packetsMeasured === 0 && p.converged ? 'n/a' : p.saturated ? (p.converged ? 'yes (latency)' : 'yes (no drain)') : 'no');
      if (a.json) {
        const out = {
          mesh: `${rows}x${cols}`,
          traffic,
          model: a.model,
          engine: a.engine,
          seed: a.seed,
          packetFlits,
          warmupCycles: warmup,
          measureCycles: measure,
          drainCycles: drain,
          noc: design.noc,
          design,
          saturationFlitsPerNodeCycle: points.filter((p) => !p.saturated).reduce((m, p) => Math.max(m, p.offeredFlitsPerNodeCycle), 0),
          points: points.map(pointJson),
        };
        io.stdout(`${JSON.stringify(out, null, 2)}\n`);
      } else if (a.csv === undefined || a.csv !== '') {
        io.stdout(`tessera noc: ${label}; warm-up ${fmtInt(warmup)}, window ${fmtInt(measure)}, drain <= ${fmtInt(drain)} cycles; seed ${a.seed}\n`);
        io.stdout(
          table(
            points.map((p) => [num(p.offeredFlitsPerNodeCycle, 3), num(p.acceptedFlitsPerNodeCycle, 4), num(p.avgPacketLatencyCycles), num(p.avgNetworkLatencyCycles), num(p.p99PacketLatencyCycles, 0), num(p.avgHops), satCell(p), fmtInt(p.simulatedCycles), num(p.wallSeconds)]),
            ['offered', 'accepted', 'avg latency', 'avg network', 'p99', 'hops', 'saturated', 'cycles', 'wall s'],
          ),
        );
        const sat = points.filter((p) => !p.saturated).reduce((m, p) => Math.max(m, p.offeredFlitsPerNodeCycle), 0);
        const satText = a.sweep === undefined ? (points[0]?.saturated ? '; this load is past saturation' : '') : points.some((p) => p.saturated) ? `; saturation at ${sat} flits/node/cycle (highest unsaturated offered load)` : '; no saturated point in the sweep';
        io.stdout(`zero-load latency ${num(points[0]?.zeroLoadLatencyCycles ?? Number.NaN)} cycles${satText}\n`);
        const empty = points.filter((p) => p.packetsMeasured === 0 && p.converged);
        if (empty.length) io.stdout(`no packet was injected in the measurement window at offered load ${empty.map((p) => p.offeredFlitsPerNodeCycle).join(', ')}: latency is undefined there; raise --rate or lengthen --measure\n`);
      }
      if (a.csv !== undefined) {
        const head = 'offeredFlitsPerNodeCycle,acceptedFlitsPerNodeCycle,avgPacketLatencyCycles,avgNetworkLatencyCycles,p99PacketLatencyCycles,avgHops,saturated,simulatedCycles,wallSeconds';
        const cell = (v: number) => (Number.isNaN(v) ? '' : v); // an empty CSV field, not "NaN"
        const csv = `${head}\n${points.map((p) => [p.offeredFlitsPerNodeCycle, p.acceptedFlitsPerNodeCycle, cell(p.avgPacketLatencyCycles), cell(p.avgNetworkLatencyCycles), cell(p.p99PacketLatencyCycles), cell(p.avgHops), p.saturated, p.simulatedCycles, p.wallSeconds.toFixed(4)].join(',')).join('\n')}\n`;
        if (a.csv === '') io.stdout(csv);
        else io.writeFile(a.csv, csv);
      }
      if (a.svg) io.writeFile(a.svg, nocSvg(points, rows, cols, label));
    },
  };
}
