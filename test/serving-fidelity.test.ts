import * as fs from 'node:fs';
import { simulateServing } from '../sim/serving/run.js';
import { simulateChip, type SimResult } from '../sim/chip/run.js';
import { builtinModel } from '../sim/model/catalog.js';
import { presetDesign } from '../sim/design/presets.js';
import { DesignSchema } from '../sim/design/design.js';
import { parseInput } from '../sim/validate/zod.js';
import { parseAzureCsv } from '../sim/trace/azure.js';
import { selectRequests } from '../sim/trace/transform.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';

/**
 * The serving fidelity against the step-by-step fast fidelity on a prefix of the Azure
 * conversation trace (the small version of issue 13's accuracy acceptance; the full one is
 * `tessera sim --fidelity serve --validate`, docs/serving.md): SmolLM2-135M on a 4x4 mesh in two
 * pipeline regions with two micro-batches in flight (so the regions' sharing is checked too),
 * tokens/s and TTFT/ITL p50 within 5%, p99 within 10%, power within 3%, and the run's
 * error estimate containing the observed error of every latency metric.
 */

const card = builtinModel('smollm2-135m')!;
const azure = parseAzureCsv(fs.readFileSync(new URL('../traces/azure-llm-inference-2023/AzureLLMInferenceTrace_conv.csv', import.meta.url), 'utf8'), 'azure-conv', 'azure-conv');

function smolDesign() {
  const d = presetDesign('edge-4x4-28nm')!;
  return parseInput(
    DesignSchema,
    { ...d, tile: { ...d.tile, dmemKiB: 1024 }, precision: { ...d.precision, kvCache: 'int4' }, mapping: { ...d.mapping, kvWindowTokens: 1024, pipelineStages: 2 }, serving: { ...d.serving, maxBatch: 4, microBatches: 2 } },
    'edge-4x4-28nm, INT4 KV, 1 MiB DMEM, 1024-token window, 2 regions, 2 micro-batches',
  );
}

describe('serving fidelity against step by step', () => {
  test('SmolLM2-135M on a 4x4 mesh (2 regions, 2 micro-batches), 16 Azure conversation requests: every metric within tolerance and inside the error estimate', () => {
    const design = smolDesign();
    // a fiftieth of the trace's rate: the 4x4 mesh at 50 MHz is far slower than the GPUs behind the trace
    const trace = selectRequests(azure, { requests: 16, rateScale: 0.02 }, 1);
    const serve = simulateServing({ card, design, trace, tech: DEFAULT_TECH, seed: 1 });
    const out = simulateChip({ card, design, trace, tech: DEFAULT_TECH, fidelity: 'fast', seed: 1 }).result;
    expect(out.feasible).toBe(true);
    const ref = out as SimResult;
    const m = serve.metrics!;
    const err = (a: number, b: number) => Math.abs(a - b) / b;
    const observed = {
      tokensPerSecond: err(m.tokensPerSecond, ref.metrics.tokensPerSecond!),
      ttftP50: err(m.ttftMs.p50, ref.metrics.ttftMs!.p50),
      ttftP99: err(m.ttftMs.p99, ref.metrics.ttftMs!.p99),
      itlP50: err(m.itlMs.p50, ref.metrics.itlMs!.p50),
      itlP99: err(m.itlMs.p99, ref.metrics.itlMs!.p99),
      power: err(serve.power!.totalW, ref.metrics.powerW!),
    };
    expect(m.requests.served).toBe(16);
    // micro-batches met in the regions, and such steps were among the held-out checks
    expect(serve.steps.holdout!.byKind.find((k) => k.kind === 'in-flight')?.samples).toBeGreaterThan(0);
    expect(observed.tokensPerSecond).toBeLessThanOrEqual(0.05);
    expect(observed.ttftP50).toBeLessThanOrEqual(0.05);
    expect(observed.itlP50).toBeLessThanOrEqual(0.05);
    expect(observed.ttftP99).toBeLessThanOrEqual(0.1);
    expect(observed.itlP99).toBeLessThanOrEqual(0.1);
    expect(observed.power).toBeLessThanOrEqual(0.03);
    const e = serve.errorEstimate!;
    expect(observed.tokensPerSecond).toBeLessThanOrEqual(e.tokensPerSecond);
    expect(observed.ttftP50).toBeLessThanOrEqual(e.ttftP50);
    expect(observed.ttftP99).toBeLessThanOrEqual(e.ttftP99);
    expect(observed.itlP50).toBeLessThanOrEqual(e.itlP50);
    expect(observed.itlP99).toBeLessThanOrEqual(e.itlP99);
    // every iteration time comes from simulated steps, far fewer than the iterations
    expect(serve.steps.simulated).toBeGreaterThan(0);
    expect(serve.steps.simulated).toBeLessThan(serve.run!.iterations / 5);
    expect(serve.run!.generatedTokens).toBe(ref.run.generatedTokens);
  });
});
