/**
 * Hash matrix of full-chip results: a speed change to the simulator must leave every
 * result bit-identical. Runs 34 cases (tiny-2x2, the SmolLM2 edge / W4A16 / heterogeneous
 * presets, Llama 3.2 1B, Llama 3.1 8B on paper-llama-3nm, SmolVLM; fast, flit and detailed
 * fidelity; decode, prefill, request and serving traces) and prints one SHA-256 of the
 * whole JSON result per case (metrics, power by component, counters, events, bounds,
 * report).
 *
 *   node --import tsx bench/sim-hash-matrix.ts                 # hashes of the sources
 *   node --import tsx bench/sim-hash-matrix.ts A/dist B/dist   # two builds side by side: same or DIFF per case
 *
 * Exits 1 when two builds differ on any case.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

interface Api {
  simulateChip: typeof import('../sim/chip/run.js').simulateChip;
  builtinModel: typeof import('../sim/model/catalog.js').builtinModel;
  presetDesign: typeof import('../sim/design/presets.js').presetDesign;
  generateTrace: typeof import('../sim/trace/generators.js').generateTrace;
  DEFAULT_TECH: typeof import('../sim/tech/defaultTable.js').DEFAULT_TECH;
}

async function load(root: string | undefined): Promise<Api> {
  const at = (p: string) => (root ? pathToFileURL(resolve(root, p.replace(/\.ts$/, '.js'))).href : new URL(`../${p}`, import.meta.url).href);
  return {
    simulateChip: (await import(at('sim/chip/run.ts'))).simulateChip,
    builtinModel: (await import(at('sim/model/catalog.ts'))).builtinModel,
    presetDesign: (await import(at('sim/design/presets.ts'))).presetDesign,
    generateTrace: (await import(at('sim/trace/generators.ts'))).generateTrace,
    DEFAULT_TECH: (await import(at('sim/tech/defaultTable.ts'))).DEFAULT_TECH,
  };
}

type Fidelity = 'fast' | 'flit' | 'detailed';
interface Case {
  readonly model: string;
  readonly design: string;
  readonly trace: string;
  readonly fidelity: Fidelity;
  /** serve with continuous batching (max batch 4, 2 micro-batches) instead of the preset's serving */
  readonly continuous?: boolean;
}

const ALL: readonly Fidelity[] = ['fast', 'flit', 'detailed'];
const CASES: Case[] = [
  ...ALL.flatMap((fidelity) => ['decode:16@32', 'prefill:48', 'request:12:6'].map((trace) => ({ model: 'tiny', design: 'tiny-2x2', trace, fidelity }))),
  ...ALL.map((fidelity) => ({ model: 'smollm2-135m', design: 'edge-4x4-28nm', trace: 'decode:8@16', fidelity })),
  ...(['fast', 'flit'] as const).map((fidelity) => ({ model: 'smollm2-135m', design: 'edge-4x4-28nm', trace: 'prefill:64', fidelity })),
  ...(['fast', 'flit'] as const).map((fidelity) => ({ model: 'smollm2-135m', design: 'edge-4x4-28nm', trace: 'poisson:rate=50,n=4,prompt=24,output=6', fidelity, continuous: true })),
  ...(['fast', 'flit'] as const).map((fidelity) => ({ model: 'smollm2-135m', design: 'hetero-6x6-5nm', trace: 'decode:8@16', fidelity })),
  { model: 'smollm2-135m', design: 'hetero-6x6-5nm', trace: 'prefill:96', fidelity: 'fast' },
  { model: 'smollm2-135m', design: 'hetero-6x6-5nm', trace: 'decode:4@64x3', fidelity: 'fast', continuous: true },
  ...(['fast', 'flit'] as const).map((fidelity) => ({ model: 'smollm2-135m', design: 'w4a16-8x8-7nm', trace: 'decode:8@256', fidelity })),
  { model: 'smollm2-135m', design: 'w4a16-8x8-7nm', trace: 'poisson:rate=200,n=6,prompt=32,output=4', fidelity: 'fast', continuous: true },
  ...(['fast', 'flit'] as const).map((fidelity) => ({ model: 'llama-3.2-1b', design: 'paper-llama-7nm', trace: 'decode:2@256', fidelity })),
  { model: 'llama-3.2-1b', design: 'paper-llama-7nm', trace: 'prefill:32', fidelity: 'fast' },
  ...(['fast', 'flit'] as const).map((fidelity) => ({ model: 'llama-3.1-8b', design: 'paper-llama-3nm', trace: 'decode:1@512', fidelity })),
  { model: 'llama-3.1-8b', design: 'paper-llama-3nm', trace: 'decode:2@256', fidelity: 'fast' },
  { model: 'llama-3.1-8b', design: 'paper-llama-3nm', trace: 'prefill:16', fidelity: 'fast' },
  { model: 'llama-3.1-8b', design: 'paper-llama-3nm', trace: 'decode:2@128x3', fidelity: 'fast', continuous: true },
  { model: 'llama-3.1-8b', design: 'paper-llama-5nm', trace: 'decode:1@256', fidelity: 'fast' },
  { model: 'llama-3.1-8b', design: 'paper-llama-3nm', trace: 'poisson:rate=400,n=3,prompt=16,output=3', fidelity: 'fast', continuous: true },
  { model: 'smolvlm-256m', design: 'paper-smolvlm-3nm', trace: 'request:8:2,image=256x256', fidelity: 'fast' },
  { model: 'smolvlm-256m', design: 'paper-smolvlm-3nm', trace: 'decode:4@64', fidelity: 'flit' },
];

const name = (c: Case) => `${c.model} ${c.design}${c.continuous ? ' (continuous)' : ''} ${c.trace} ${c.fidelity}`;

/** SHA-256 of the result's JSON, non-finite numbers spelled out (JSON would turn them into null). */
function hashOf(api: Api, c: Case): string {
  const preset = api.presetDesign(c.design);
  if (!preset) throw new Error(`no preset ${c.design}`);
  const design = c.continuous ? { ...preset, serving: { ...preset.serving, batching: 'continuous' as const, maxBatch: 4, microBatches: 2 } } : preset;
  const { result } = api.simulateChip({ card: api.builtinModel(c.model)!, design, trace: api.generateTrace(c.trace), tech: api.DEFAULT_TECH, fidelity: c.fidelity, seed: 1 });
  const json = JSON.stringify(result, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
  return `${createHash('sha256').update(json).digest('hex').slice(0, 16)} ${result.feasible ? 'feasible' : 'infeasible'}`;
}

const roots = process.argv.slice(2);
const apis = roots.length ? await Promise.all(roots.map(load)) : [await load(undefined)];
let differ = 0;
for (const c of CASES) {
  const hashes = apis.map((a) => hashOf(a, c));
  const same = hashes.every((h) => h === hashes[0]);
  if (!same) differ++;
  console.log(`${apis.length > 1 ? (same ? 'same ' : 'DIFF ') : ''}${hashes.join(' | ')}  ${name(c)}`);
}
if (apis.length > 1) console.log(`${CASES.length} cases: ${differ === 0 ? 'all identical' : `${differ} differ`}`);
process.exitCode = differ ? 1 : 0;
