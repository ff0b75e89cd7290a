import { serveBenchmarks } from './serve.bench.js';
import * as fs from 'node:fs';
import { simulateChip, type ChipFidelity } from '../sim/chip/run.js';
import { builtinModel } from '../sim/model/catalog.js';
import { presetDesign } from '../sim/design/presets.js';
import { generateTrace } from '../sim/trace/generators.js';
import { parseAzureCsv } from '../sim/trace/azure.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { DesignSchema } from '../sim/design/design.js';
import { parseInput } from '../sim/validate/zod.js';
import type { Trace } from '../sim/trace/trace.js';
import type { BenchSuite, Measured } from './harness.js';
import { kernelEventsPerSecond } from './kernel.bench.js';

/**
 * Full-chip benchmarks (issue 6): wall time of one simulation, mapping included, process
 * start-up excluded, after three warm-up runs on another design point (so module loading
 * and JIT warm-up are not charged, and no kernel cache helps: every run builds its own).
 * Cases with a target of 2 s or less run 5 times and are judged on the median (garbage
 * collection makes single sub-second runs vary by +-30% here); min and max are printed
 * beside it. Longer cases run once.
 */

interface Case {
  readonly name: string;
  readonly model: string;
  readonly design: () => ReturnType<typeof presetDesign>;
  readonly trace: () => Trace;
  readonly fidelity: ChipFidelity;
  readonly targetSeconds: number;
  /**
   * Target for wall seconds x the kernel benchmark's events/s measured in the same run, in
   * millions (issue 11): machine-independent, unlike the seconds.
   */
  readonly targetMEvents?: number;
}

function azureConvPrefix(n: number): Trace {
  const text = fs.readFileSync(new URL('../traces/azure-llm-inference-2023/AzureLLMInferenceTrace_conv.csv', import.meta.url), 'utf8');
  const t = parseAzureCsv(text, 'azure-conv', 'azure-conv');
  return { ...t, requests: t.requests.slice(0, n) };
}

const CASES: Case[] = [
  { name: 'Llama 3.1 8B decode:1@512 on paper-llama-3nm, fast', model: 'llama-3.1-8b', design: () => presetDesign('paper-llama-3nm'), trace: () => generateTrace('decode:1@512'), fidelity: 'fast', targetSeconds: 0.25, targetMEvents: 3 },
  { name: 'Llama 3.1 8B decode:1@512 on paper-llama-3nm, flit', model: 'llama-3.1-8b', design: () => presetDesign('paper-llama-3nm'), trace: () => generateTrace('decode:1@512'), fidelity: 'flit', targetSeconds: 2, targetMEvents: 24 },
  { name: 'SmolVLM-256M 512x512 image + 32/32 tokens, paper-smolvlm-3nm, fast', model: 'smolvlm-256m', design: () => presetDesign('paper-smolvlm-3nm'), trace: () => generateTrace('request:32:32,image=512x512'), fidelity: 'fast', targetSeconds: 10 },
  {
    name: 'Azure conv first 20 requests, paper-llama-3nm INT8 KV, 1024 window, continuous, fast',
    model: 'llama-3.1-8b',
    design: () => {
      const d = presetDesign('paper-llama-3nm')!;
      return parseInput(DesignSchema, { ...d, precision: { ...d.precision, kvCache: 'int8' }, mapping: { ...d.mapping, kvWindowTokens: 1024 }, serving: { ...d.serving, batching: 'continuous' } }, 'paper-llama-3nm (INT8 KV, 1024 window)');
    },
    trace: () => azureConvPrefix(20),
    fidelity: 'fast',
    targetSeconds: 600,
  },
];

export const simSuite: BenchSuite = {
  name: 'sim',
  async run(print) {
    // the serving fidelity at scale (issue 13, bench/serve.bench.ts); TESSERA_BENCH_SIM naming a chip case skips it
    const serving = !process.env.TESSERA_BENCH_SIM || 'serving'.includes(process.env.TESSERA_BENCH_SIM) ? await serveBenchmarks(print) : [];
    print('Full-chip simulation wall time (mapping included, process start-up excluded)');
    // warm-up (module loading and JIT: three runs) on another design point, so no
    // per-design kernel cache helps the measured runs
    for (let i = 0; i < 3; i++) simulateChip({ card: builtinModel('llama-3.1-8b')!, design: presetDesign('paper-llama-5nm')!, trace: generateTrace('decode:1@256'), tech: DEFAULT_TECH, fidelity: 'fast', seed: 2 });
    const out: Measured[] = [...serving];
    const only = process.env.TESSERA_BENCH_SIM;
    // the kernel benchmark's rate in this run, before and after the cases (the reference for targetMEvents)
    const rates = [await kernelEventsPerSecond()];
    const rows: { c: Case; wall: number }[] = [];
    for (const c of CASES) {
      if (only && !c.name.includes(only)) continue;
      const runs = c.targetSeconds <= 2 ? 5 : 1;
      const walls: number[] = [];
      let result!: ReturnType<typeof simulateChip>['result'];
      for (let k = 0; k < runs; k++) {
        const t0 = performance.now();
        ({ result } = simulateChip({ card: builtinModel(c.model)!, design: c.design()!, trace: c.trace(), tech: DEFAULT_TECH, fidelity: c.fidelity, seed: 1 }));
        walls.push((performance.now() - t0) / 1000);
      }
      const sorted = [...walls].sort((a, b) => a - b);
      const s = sorted[Math.floor(runs / 2)];
      const spread = runs > 1 ? ` median of ${runs} (min ${sorted[0].toFixed(3)}, max ${sorted[runs - 1].toFixed(3)})` : '';
      if (!result.feasible) throw new Error(`${c.name}: infeasible: ${result.mapping.reasons[0]}`);
      const m = result.metrics;
      print(`  ${c.name}`);
      print(`    wall ${s.toFixed(runs > 1 ? 3 : 2)} s${spread} (target <= ${c.targetSeconds} s: ${s <= c.targetSeconds ? 'met' : 'MISSED'}); ${result.run.events.toLocaleString('en-US')} events, ${result.run.steps} steps, ${result.run.generatedTokens} tokens`);
      print(`    tokens/s ${m.tokensPerSecond.toFixed(1)}, TTFT p50/p99 ${m.ttftMs.p50.toFixed(2)}/${m.ttftMs.p99.toFixed(2)} ms, ITL p50/p99 ${m.itlMs ? `${m.itlMs.p50.toFixed(3)}/${m.itlMs.p99.toFixed(3)} ms` : 'n/a'}, ${m.powerW.toFixed(2)} W`);
      out.push({ name: c.name, perSecond: 1 / s, rmePercent: 0, samples: 1 });
      rows.push({ c, wall: s });
    }
    rates.push(await kernelEventsPerSecond());
    const rate = rates.reduce((a, b) => a + b, 0) / rates.length;
    print(`  kernel benchmark in this run: ${(rates[0] / 1e6).toFixed(2)} / ${(rates[1] / 1e6).toFixed(2)} M events/s before / after (mean ${(rate / 1e6).toFixed(2)} M)`);
    for (const { c, wall } of rows) {
      if (c.targetMEvents === undefined) continue;
      const product = (wall * rate) / 1e6;
      print(`  ${c.name}: wall x kernel events/s = ${product.toFixed(2)} M (target <= ${c.targetMEvents} M: ${product <= c.targetMEvents ? 'met' : 'MISSED'})`);
    }
    return out;
  },
};
