import { simulateChip, type ChipFidelity } from '../sim/chip/run.js';
import { builtinModel } from '../sim/model/catalog.js';
import { generateTrace } from '../sim/trace/generators.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { DesignSchema, type DesignInput } from '../sim/design/design.js';
import { parseInput } from '../sim/validate/zod.js';

/**
 * The scaling-laws table of docs/chip.md (issue 11): one knob at a time from a base
 * design, tokens/s, power and area at fast and flit fidelity. Base: SmolLM2-135M on an
 * 8x8 mesh at 7 nm, 500 MHz (VLEN 512, FETCH 2, 4 reservation stations, 512 KiB DMEM),
 * 2 pipeline regions, 2 micro-batches, max batch 4, 256-bit flits, 2 VCs of 4 flits,
 * tree multicast; trace decode:8@128x4 (four sequences decoding together), seed 1.
 * Run: node --import tsx bench/scaling-laws.ts
 */

const BASE: DesignInput = {
  kind: 'design',
  schemaVersion: 1,
  name: 'scaling-base',
  processNodeNm: 7,
  clockMHz: 500,
  mesh: { rows: 8, cols: 8 },
  noc: { flitBits: 256, virtualChannels: 2, bufferDepthFlits: 4, multicast: 'tree' },
  tile: { fetchWidth: 2, reservationStations: 4, vlenBits: 512, dmemKiB: 512, wmemKiB: 40000, imemKiB: 8, scalarWritePorts: 2, vectorWritePorts: 2, scalarDispatchPorts: 2, vectorDispatchPorts: 2 },
  mapping: { pipelineStages: 2 },
  serving: { batching: 'continuous', maxBatch: 4, prefillChunkTokens: 64, microBatches: 2 },
};

type Edit = (d: DesignInput) => DesignInput;
const KNOBS: [knob: string, change: string, edit: Edit][] = [
  ['tile count', '8x8 -> 12x12', (d) => ({ ...d, mesh: { rows: 12, cols: 12 } })],
  ['pipeline stages', '2 -> 4', (d) => ({ ...d, mapping: { ...d.mapping, pipelineStages: 4 } })],
  ['VLEN', '512 -> 1024 bits', (d) => ({ ...d, tile: { ...d.tile, vlenBits: 1024 } })],
  ['ROM bytes/cycle', '64 (VLEN/8) -> 32', (d) => ({ ...d, tile: { ...d.tile, romBytesPerCycle: 32 } })],
  ['flit width', '256 -> 64 bits', (d) => ({ ...d, noc: { ...d.noc, flitBits: 64 } })],
  ['virtual channels', '2 -> 4', (d) => ({ ...d, noc: { ...d.noc, virtualChannels: 4 } })],
  ['buffer depth', '4 -> 1 flit', (d) => ({ ...d, noc: { ...d.noc, bufferDepthFlits: 1 } })],
  ['micro-batches', '2 -> 4', (d) => ({ ...d, serving: { ...d.serving!, microBatches: 4 } })],
  ['DMEM', '512 -> 192 KiB', (d) => ({ ...d, tile: { ...d.tile, dmemKiB: 192 } })],
  ['mapping.treeRadix', '8 -> 2', (d) => ({ ...d, mapping: { ...d.mapping, treeRadix: 2 } })],
  ['mapping.allGather', 'tree -> ring', (d) => ({ ...d, mapping: { ...d.mapping, allGather: 'ring' } })],
];

const card = builtinModel('smollm2-135m')!;
const trace = generateTrace('decode:8@128x4');
function measure(input: DesignInput, fidelity: ChipFidelity) {
  const design = parseInput(DesignSchema, input, input.name);
  let out;
  try {
    out = simulateChip({ card, design, trace, tech: DEFAULT_TECH, fidelity, seed: 1 });
  } catch (e) {
    // one VC with tree multicast can deadlock at flit level (docs/noc.md)
    if ((e as Error).name === 'NocDeadlockError') return undefined;
    throw e;
  }
  const { result } = out;
  if (!result.feasible) return undefined;
  return { tps: result.metrics.tokensPerSecond, w: result.metrics.powerW, mm2: result.metrics.areaMm2, seq: result.concurrency.sequences };
}
const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${((100 * (a - b)) / b).toFixed(1)}%`;
const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

const base = { fast: measure(BASE, 'fast')!, flit: measure(BASE, 'flit')! };
console.log(`base: fast ${fmt(base.fast.tps)} tokens/s, ${fmt(base.fast.w, 3)} W; flit ${fmt(base.flit.tps)} tokens/s, ${fmt(base.flit.w, 3)} W; ${fmt(base.fast.mm2, 1)} mm2`);
console.log('| knob | change | tokens/s fast | tokens/s flit | power fast | power flit | area |');
console.log('|---|---|---|---|---|---|---|');
for (const [knob, change, edit] of KNOBS) {
  const fast = measure(edit(BASE), 'fast');
  const flit = measure(edit(BASE), 'flit');
  if (!fast || !flit) {
    console.log(`| ${knob} | ${change} | ${fast ? 'ok' : 'infeasible or NoC deadlock'} | ${flit ? 'ok' : 'infeasible or NoC deadlock'} | | | |`);
    continue;
  }
  console.log(`| ${knob} | ${change} | ${pct(fast.tps, base.fast.tps)} (${fmt(fast.tps)}) | ${pct(flit.tps, base.flit.tps)} (${fmt(flit.tps)}) | ${pct(fast.w, base.fast.w)} | ${pct(flit.w, base.flit.w)} | ${pct(fast.mm2, base.fast.mm2)} |${fast.seq !== base.fast.seq ? ` sequences in flight ${base.fast.seq} -> ${fast.seq}` : ''}`);
}
