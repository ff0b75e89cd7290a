import * as fs from 'node:fs';
import { simulateServing } from '../sim/serving/run.js';
import { builtinModel } from '../sim/model/catalog.js';
import { parseAzureCsv } from '../sim/trace/azure.js';
import { selectRequests } from '../sim/trace/transform.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { serveBenchDesign } from './serveDesign.js';

/**
 * One cold serving run for `npm run bench -- sim` (bench/serve.bench.ts starts it as its own
 * process so that its peak RSS is its own): the Azure conversation trace, its first
 * `requests` requests (all when 0) at `rateScale`, no saved memo. Prints one JSON line.
 */
const [requests, rateScale] = process.argv.slice(2).map(Number);
const text = fs.readFileSync(new URL('../traces/azure-llm-inference-2023/AzureLLMInferenceTrace_conv.csv', import.meta.url), 'utf8');
const azure = parseAzureCsv(text, 'azure-conv', 'azure-conv');
const trace = selectRequests(azure, { rateScale, requests: requests > 0 ? requests : undefined }, 1);
const { design, model } = serveBenchDesign();
const t0 = performance.now();
const r = simulateServing({ card: builtinModel(model)!, design, trace, tech: DEFAULT_TECH, seed: 1 });
const wallSeconds = (performance.now() - t0) / 1000;
const m = r.metrics!;
const spanS = (trace.requests[trace.requests.length - 1].arrivalMs - trace.requests[0].arrivalMs) / 1000;
process.stdout.write(
  `${JSON.stringify({
    requests: trace.requests.length,
    wallSeconds,
    iterations: r.run!.iterations,
    stepsSimulated: r.steps.simulated,
    chipEvents: r.steps.chipEvents,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    traceSeconds: spanS,
    servedSeconds: m.windowSeconds,
    tokensPerSecond: m.tokensPerSecond,
    ttftMs: [m.ttftMs.p50, m.ttftMs.p99],
    itlMs: [m.itlMs.p50, m.itlMs.p99],
    rejected: m.requests.rejected,
    load: r.run!.load,
    holdoutMaxError: r.steps.holdout?.maxAbsError ?? null,
    powerW: r.power!.totalW,
  })}\n`,
);
