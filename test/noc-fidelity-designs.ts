import { simulateChip, type ChipFidelity } from '../sim/chip/run.js';
import { builtinModel } from '../sim/model/catalog.js';
import { generateTrace } from '../sim/trace/generators.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { DesignSchema, type Design, type NocParams } from '../sim/design/design.js';
import { parseInput } from '../sim/validate/zod.js';
import { Rng } from '../sim/random/rng.js';

/**
 * Designs for comparing the message-level NoC (fast fidelity) with the flit-level one (flit
 * fidelity) on whole-chip traffic: the acceptance matrix (test/fidelity-noc-matrix.test.ts)
 * and the calibration (bench/noc-calibration.bench.ts) draw from here with different seeds.
 * Two models: `tiny` (the default: fast to simulate at flit level, and NoC-bound on a mesh:
 * its activations are 128 bytes, so the NoC's flit width, buffers and VCs set its pace) and
 * SmolLM2-135M (the search's workload: 576-wide activations and real weight streams, on
 * meshes up to 12x12).
 */
export type FidelityModel = 'tiny' | 'smollm2-135m';

export type NocKnobs = Partial<Pick<NocParams, 'virtualChannels' | 'bufferDepthFlits' | 'flitBits' | 'multicast' | 'injectionQueues'>>;

export interface FidelityDesign {
  /** default `tiny` */
  readonly model?: FidelityModel;
  readonly rows: number;
  readonly cols: number;
  readonly noc: NocKnobs;
  readonly pipelineStages?: number;
  readonly microBatches?: number;
}

/**
 * Tiles sized for the model (SmolLM2-135M: its ~264,000 KiB of FP16 weights spread over the
 * mesh with room to spare); NoC defaults 2 VCs x 4 flits x 128 bits.
 */
export function fidelityDesign(d: FidelityDesign): Design {
  const tiles = d.rows * d.cols;
  const tile =
    d.model === 'smollm2-135m'
      ? { fetchWidth: 2, reservationStations: 4, vlenBits: 512, dmemKiB: 512, wmemKiB: Math.ceil(300_000 / tiles), imemKiB: 8, scalarWritePorts: 2, vectorWritePorts: 2, scalarDispatchPorts: 2, vectorDispatchPorts: 2 }
      : { fetchWidth: 4, reservationStations: 8, vlenBits: 256, dmemKiB: 128, wmemKiB: 256, imemKiB: 8, scalarWritePorts: 1, vectorWritePorts: 2, scalarDispatchPorts: 1, vectorDispatchPorts: 2 };
  return parseInput(
    DesignSchema,
    {
      kind: 'design',
      schemaVersion: 1,
      name: `${d.model ?? 'tiny'} ${d.rows}x${d.cols} ${JSON.stringify(d.noc)}`,
      processNodeNm: 7,
      clockMHz: 500,
      mesh: { rows: d.rows, cols: d.cols },
      noc: { flitBits: 128, virtualChannels: 2, bufferDepthFlits: 4, ...d.noc },
      tile,
      mapping: { pipelineStages: d.pipelineStages ?? 1 },
      serving: { batching: 'continuous', maxBatch: 4, prefillChunkTokens: 32, microBatches: d.microBatches ?? 1 },
    },
    'fidelity design',
  );
}

/** The same design with ample NoC resources: 8 VCs, 32-flit buffers, 2048-bit flits. */
export function ampleNoc(d: FidelityDesign): FidelityDesign {
  return { ...d, noc: { ...d.noc, virtualChannels: 8, bufferDepthFlits: 32, flitBits: 2048 } };
}

/**
 * A seeded sample of `tiny` designs over the design space's NoC ranges (search/space.ts):
 * VCs 1-16, buffer depth 1-64 flits (log-uniform), flit width 64-8192 bits (powers of two),
 * multicast and injection queues either way; mesh rows and columns 2 to `meshMax`
 * (log-uniform above 6, uniform for meshMax 6, the calibration's draw), 1 or 2 pipeline
 * stages; one micro-batch.
 */
export function sampleFidelityDesigns(seed: number, count: number, meshMax = 6): FidelityDesign[] {
  const rng = new Rng(seed, 'noc-fidelity-designs');
  const side = () => (meshMax <= 6 ? rng.int(2, meshMax) : Math.round(Math.exp(Math.log(2) + rng.next() * Math.log(meshMax / 2))));
  const out: FidelityDesign[] = [];
  while (out.length < count) {
    const d: FidelityDesign = {
      rows: side(),
      cols: side(),
      noc: {
        virtualChannels: rng.int(1, 16),
        bufferDepthFlits: Math.round(Math.exp(rng.next() * Math.log(64))),
        flitBits: 64 * 2 ** rng.int(0, 7),
        multicast: rng.next() < 0.5 ? 'unicast' : 'tree',
        injectionQueues: rng.next() < 0.5 ? 'single' : 'per-vc',
      },
      pipelineStages: rng.int(1, 2),
    };
    out.push(d);
  }
  return out;
}

export interface FidelityRun {
  readonly tokensPerSecond: number;
  readonly powerW: number;
}

/** Tokens/s and power of `d` serving `trace` at `fidelity` (throws if the mapping is infeasible). */
export function runFidelity(d: FidelityDesign, trace: string, fidelity: ChipFidelity): FidelityRun {
  const r = simulateChip({ card: builtinModel(d.model ?? 'tiny')!, design: fidelityDesign(d), trace: generateTrace(trace), tech: DEFAULT_TECH, fidelity, seed: 1 }).result;
  if (!r.feasible) throw new Error(`${fidelityDesign(d).name}: infeasible (${r.mapping.reasons.join('; ')})`);
  return { tokensPerSecond: r.metrics.tokensPerSecond, powerW: r.metrics.powerW };
}
