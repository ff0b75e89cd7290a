import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { builtinModel } from '../sim/model/catalog.js';
import { presetDesign } from '../sim/design/presets.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { runLabelJob, type LabelRecord, type LabelSettings } from '../search/label/job.js';
import { runLabels } from '../search/label/run.js';
import { PiscinaRunner } from '../search/label/pool.js';
import { sampleDesign } from '../search/sampler.js';
import { LLM_DECODE_V2 } from '../search/workload.js';
import { Surrogate, trainSurrogate, type Family } from '../search/surrogate/model.js';
import { analytic, featureMatrix } from '../search/surrogate/features.js';
import { encodeDesign } from '../search/space.js';
import { kernelSuite } from './kernel.bench.js';
import { exploreBench } from './explore.bench.js';
import type { BenchSuite, Measured } from './harness.js';

/**
 * Search benchmarks (issue 17): the label workload's simulation time on a paper-size Llama
 * 3.1 8B design, labels per minute with 1 and 2 workers, surrogate predictions per second
 * in batch (features and intervals included) and training time on 10,000 labels. The
 * kernel benchmark runs first as the same-run reference (machine speed varies ~3x by day).
 * TESSERA_BENCH_SEARCH_LABELS sets the labels per worker setting (default 6).
 */

const llama = () => builtinModel('llama-3.1-8b')!;
const settings = (seed: number): LabelSettings => ({ modelName: 'llama-3.1-8b', card: llama(), nodes: [28, 14, 7], seed, fidelity: 'fast', workload: LLM_DECODE_V2.name, eventLimit: 50_000_000, tech: DEFAULT_TECH });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/** Labels with synthetic metrics (a smooth function of the bounds) for timing the learners. */
function timingLabels(n: number): LabelRecord[] {
  const card = builtinModel('tiny')!;
  const ctx = { card, tech: DEFAULT_TECH, workload: LLM_DECODE_V2 };
  const out: LabelRecord[] = [];
  for (let i = 0; i < n; i++) {
    const s = sampleDesign({ card, modelName: 'tiny', nodes: [7, 28], seed: 1, workload: LLM_DECODE_V2 }, i);
    const a = analytic(s.design, ctx);
    const T = a.estTokensPerSecond * (0.4 + 0.2 * Math.sin(i));
    const P = a.energyFloorJ * T * 2 + a.leakageW;
    out.push({
      index: i, node: s.design.processNodeNm, status: 'ok', design: s.design, encoding: Array.from(encodeDesign(s.design).vector), sampler: { source: 'halton', candidate: 0, precheckFeasible: true }, workload: 'llm-decode-v2', simSeed: 1,
      metrics: { tokensPerSecond: T, ttftMs: { p50: 1e4 / T, p99: 1e4 / T }, itlMs: { p50: 1e3 / T, p99: 1.2e3 / T }, powerW: P, power: { computeW: P, sramW: 0, romW: 0, nocW: 0, leakageW: 0 }, energyPerTokenJ: P / T, areaMm2: a.areaMm2, ppaScore: 0.5, ppaObjective: 0 },
      bounds: null, mapping: { feasible: true, reasons: [], regions: 1, kvCapacityTokens: 1 }, events: 0, wallSeconds: 0,
    });
  }
  return out;
}

export const searchSuite: BenchSuite = {
  name: 'search',
  async run(print) {
    const out: Measured[] = [];
    print('Reference (same run): the event-kernel benchmark');
    await kernelSuite.run((l) => print(l));

    // 1. the label workload on the paper's 41x42 Llama design
    print('\nLabel workload llm-decode-v2 on paper-llama-3nm (41x42, Llama 3.1 8B), fast fidelity: both runs, mapping included');
    const design = presetDesign('paper-llama-3nm')!;
    runLabelJob({ runId: 'warm', index: 0, settings: settings(1), design: presetDesign('paper-llama-5nm')! });
    const walls: number[] = [];
    let events = 0;
    for (let k = 0; k < 5; k++) {
      const l = runLabelJob({ runId: 'bench', index: k, settings: settings(1), design });
      walls.push(l.wallSeconds);
      events = l.events;
    }
    const m = median(walls);
    print(`  median ${m.toFixed(3)} s of 5 (min ${Math.min(...walls).toFixed(3)}, max ${Math.max(...walls).toFixed(3)}), ${events.toLocaleString('en-US')} chip events; target <= 1.5 s: ${m <= 1.5 ? 'met' : 'MISSED'}`);
    out.push({ name: 'label workload, paper-llama-3nm', perSecond: 1 / m, rmePercent: 0, samples: 5 });

    // 2. labels per minute, 1 and 2 workers, the same sampled Llama designs
    const per = Number(process.env.TESSERA_BENCH_SEARCH_LABELS ?? 6);
    print(`\nLabels per minute, Llama 3.1 8B sampled designs (nodes 28/14/7, ${per} labels per setting, same designs for both)`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-'));
    const rates: number[] = [];
    for (const workers of [1, 2]) {
      const runner = new PiscinaRunner(workers);
      const t0 = performance.now();
      await runLabels({ out: path.join(dir, `w${workers}.msgpack`), settings: settings(7), count: per, resume: false, runner });
      const seconds = (performance.now() - t0) / 1000;
      await runner.close();
      rates.push((60 * per) / seconds);
      print(`  ${workers} worker${workers > 1 ? 's' : ''}: ${rates[rates.length - 1].toFixed(1)} labels/min (${seconds.toFixed(1)} s for ${per})`);
      out.push({ name: `labels/min, ${workers} workers`, perSecond: per / seconds, rmePercent: 0, samples: 1 });
    }
    print(`  speed-up ${(rates[1] / rates[0]).toFixed(2)}x (target >= 1.7x on an otherwise idle 2-core machine; load average now ${os.loadavg()[0].toFixed(1)})`);
    fs.rmSync(dir, { recursive: true, force: true });

    // 3. training time on 10,000 labels and 4. batch predictions
    const n = Number(process.env.TESSERA_BENCH_SEARCH_TRAIN ?? 10_000);
    print(`\nSurrogate on ${n} labels (tiny-model designs, synthetic metrics: timing only)`);
    const t0 = performance.now();
    const labels = timingLabels(n);
    print(`  making ${n} sampled designs: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const ctx = { card: builtinModel('tiny')!, tech: DEFAULT_TECH, workload: LLM_DECODE_V2 };
    const meta = { simulatorVersion: 'bench', model: { name: 'tiny', hash: '-' }, workload: 'llm-decode-v2', files: [] };
    const batch = labels.slice(0, 10_000).map((l) => l.design);
    {
      featureMatrix(batch.slice(0, 500), ctx);
      const t1 = performance.now();
      let done = 0;
      while (performance.now() - t1 < 2000) {
        featureMatrix(batch, ctx);
        done += batch.length;
      }
      const us = ((performance.now() - t1) * 1000) / done;
      print(`  features (encoding, bounds, step and energy estimates): ${us.toFixed(1)} us per design (target <= 1 ms: ${us <= 1000 ? 'met' : 'MISSED'})`);
      out.push({ name: 'features per second', perSecond: 1e6 / us, rmePercent: 0, samples: 1 });
    }
    {
      // the accuracy model's kernel features (gbdt-kernels): the path's tile work through the
      // tile model, memoised by tile and shape; cold on new designs, warm on designs seen before
      const card = builtinModel('smollm2-135m')!;
      const kctx = { card, tech: DEFAULT_TECH, workload: LLM_DECODE_V2, kernels: true };
      const designs = Array.from({ length: 60 }, (_, i) => sampleDesign({ card, modelName: card.name, nodes: [7], seed: 99, workload: LLM_DECODE_V2 }, i).design);
      const t1 = performance.now();
      featureMatrix(designs, kctx);
      const cold = (performance.now() - t1) / designs.length;
      const t2 = performance.now();
      featureMatrix(designs, kctx);
      const warm = (performance.now() - t2) / designs.length;
      print(`  kernel features (gbdt-kernels, SmolLM2 designs): ${cold.toFixed(1)} ms per new design, ${warm.toFixed(2)} ms per design seen before (the accuracy model; the explore model is plain gbdt)`);
      out.push({ name: 'kernel features per second (new designs)', perSecond: 1000 / cold, rmePercent: 0, samples: 1 });
    }
    for (const family of ['gbdt', 'mlp-ensemble', 'mlp-small'] as Family[]) {
      const b = trainSurrogate(labels, ctx, meta, { family });
      print(`  ${family}: training ${b.trainedOn.seconds.toFixed(1)} s (target <= 120 s: ${b.trainedOn.seconds <= 120 ? 'met' : 'MISSED'})`);
      out.push({ name: `${family} training, ${n} labels`, perSecond: 1 / b.trainedOn.seconds, rmePercent: 0, samples: 1 });
      const s = new Surrogate(b, ctx);
      s.predictLog(batch.slice(0, 500));
      const t1 = performance.now();
      let done = 0;
      while (performance.now() - t1 < 3000) {
        s.predictLog(batch);
        done += batch.length;
      }
      const rate = done / ((performance.now() - t1) / 1000);
      print(`  ${family}: ${Math.round(rate).toLocaleString('en-US')} predictions/s in batches of ${batch.length} (features, 7 targets with 90% intervals; target >= 100,000: ${rate >= 1e5 ? 'met' : 'MISSED'})`);
      out.push({ name: `${family} predictions/s`, perSecond: rate, rmePercent: 0, samples: 1 });
    }
    // 5. explore (issue 14): SAC updates, environment steps, the projected seven-node run
    out.push(...(await exploreBench(print)));
    return out;
  },
};
