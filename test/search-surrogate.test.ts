import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import { main } from '../cli/main.js';
import { memoryIo } from '../cli/io.js';
import { Adam, Mlp } from '../search/nn/mlp.js';
import { fitGbdt, predictGbdt } from '../search/surrogate/gbdt.js';
import { auc, balancedAccuracy, coverage, kendallTau, mape, r2, topRecall } from '../search/surrogate/metrics.js';
import { Surrogate, loadSurrogate, saveSurrogate, trainSurrogate, normalCdf } from '../search/surrogate/model.js';
import { evaluateSurrogate } from '../search/surrogate/evaluate.js';
import { FEATURE_COUNT, FEATURE_NAMES, KERNEL_FEATURE_NAMES, featureMatrix, uniformAreaMm2 } from '../search/surrogate/features.js';
import { sampleDesign } from '../search/sampler.js';
import { builtinModel } from '../sim/model/catalog.js';
import { LLM_DECODE_V2 } from '../search/workload.js';
import { areaOf } from '../sim/power/area.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { presetDesign } from '../sim/design/presets.js';
import { Rng } from '../sim/random/rng.js';
import { synthLabels, tinyCard, writeLabelFile } from './search-helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-surrogate-'));

describe('NN module', () => {
  test('backpropagation matches finite differences, for weights and for the input', () => {
    for (const activation of ['relu', 'tanh', 'gelu'] as const) {
      const net = new Mlp({ sizes: [3, 5, 2], activation }, 4);
      const x = Float32Array.from([0.3, -0.7, 0.9, -0.2, 0.5, 0.1]);
      const loss = () => {
        const y = net.forward(x, 2);
        return y.reduce((s, v, i) => s + v * (i + 1), 0);
      };
      net.forward(x, 2, true);
      net.zeroGrad();
      const dx = net.backward(Float32Array.from([1, 2, 3, 4]));
      const w = net.layers[0].w;
      for (const k of [0, 4, 9]) {
        const old = w[k];
        w[k] = old + 1e-2;
        const up = loss();
        w[k] = old - 1e-2;
        const down = loss();
        w[k] = old;
        expect(net.layers[0].gw[k]).toBeCloseTo((up - down) / 2e-2, 2);
      }
      for (const k of [0, 5]) {
        const old = x[k];
        x[k] = old + 1e-2;
        const up = loss();
        x[k] = old - 1e-2;
        const down = loss();
        x[k] = old;
        expect(dx[k]).toBeCloseTo((up - down) / 2e-2, 2);
      }
    }
  });

  test('Adam fits a small regression; the state survives msgpack (Float32Arrays included)', () => {
    const net = new Mlp({ sizes: [2, 16, 1], activation: 'tanh' }, 1);
    const opt = new Adam(net.params(), { lr: 0.02 });
    const rng = new Rng(1, 'test/adam');
    const xs = Float32Array.from({ length: 128 }, () => 2 * rng.next() - 1);
    const ys = Float32Array.from({ length: 64 }, (_, i) => xs[2 * i] * xs[2 * i + 1]);
    const mse = () => net.forward(xs, 64).reduce((s, v, i) => s + (v - ys[i]) ** 2, 0) / 64;
    const before = mse();
    for (let s = 0; s < 400; s++) {
      const y = net.forward(xs, 64, true);
      net.backward(Float32Array.from(y, (v, i) => 2 * (v - ys[i])));
      opt.step(1 / 64);
    }
    expect(mse()).toBeLessThan(before / 10);
    const copy = Mlp.fromState(new Unpackr({ moreTypes: true, mapsAsObjects: true }).unpack(new Packr({ moreTypes: true }).pack(net.state())));
    expect(copy.forward(xs, 64)).toEqual(net.forward(xs, 64));
  });
});

describe('surrogate pieces', () => {
  test('GBDT recovers a step-and-slope function', () => {
    const rng = new Rng(2, 'test/gbdt');
    const n = 600;
    const x = Float32Array.from({ length: n * 2 }, () => rng.next());
    const f = (a: number, b: number) => (a > 0.5 ? 2 : 0) + b;
    const y = Float64Array.from({ length: n }, (_, i) => f(x[2 * i], x[2 * i + 1]));
    const m = fitGbdt(x, n, 2, y, { rounds: 150, learningRate: 0.1, maxDepth: 4, minLeaf: 5, lambda: 1, subsample: 1, bins: 32, seed: 1 });
    const p = predictGbdt(m, x, n, 2);
    const err = p.reduce((s, v, i) => s + Math.abs(v - y[i]), 0) / n;
    expect(err).toBeLessThan(0.05);
  });

  test('metrics on cases with known answers', () => {
    expect(mape([100, 200], [110, 180])).toBeCloseTo(10);
    expect(r2([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(kendallTau([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1);
    expect(kendallTau([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
    expect(topRecall([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1, 2, 3, 4, 5, 6, 7, 8, 10, 9], true)).toBe(0);
    expect(topRecall([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1], false)).toBe(0);
    expect(topRecall([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], false)).toBe(1);
    expect(coverage([1, 5], [0, 6], [2, 7])).toBe(0.5);
    expect(balancedAccuracy([true, true, true, false], [0.9, 0.9, 0.9, 0.9])).toBe(0.5);
    expect(auc([false, false, true, true], [0.1, 0.2, 0.3, 0.4])).toBe(1);
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.6448536)).toBeCloseTo(0.95, 4);
  });

  test('every feature is finite on sampled designs (a NaN or infinite feature silently breaks the networks)', () => {
    for (const name of ['tiny', 'smollm2-135m']) {
      const card = builtinModel(name)!;
      const designs = Array.from({ length: 300 }, (_, i) => sampleDesign({ card, modelName: name, nodes: [7, 28], seed: 4, workload: LLM_DECODE_V2 }, i).design);
      const { x } = featureMatrix(designs, { card, tech: DEFAULT_TECH, workload: LLM_DECODE_V2 });
      const bad = FEATURE_NAMES.filter((_, j) => designs.some((_, i) => !Number.isFinite(x[i * FEATURE_COUNT + j])));
      expect(bad).toEqual([]);
    }
  });

  test('area is computed, not learned: the O(1) formula equals the area model for uniform tiles', () => {
    for (const name of ['paper-llama-28nm', 'w4a16-8x8-7nm', 'tiny-2x2']) {
      const d = presetDesign(name)!;
      expect(uniformAreaMm2(d, DEFAULT_TECH)).toBeCloseTo(areaOf(d, DEFAULT_TECH).totalMm2, 6);
    }
  });
});

describe('surrogate train / eval / predict', () => {
  const train = synthLabels(160, 1);
  const test_ = synthLabels(60, 2);
  const trainFile = path.join(dir, 'train.msgpack');
  const testFile = path.join(dir, 'test.msgpack');
  writeLabelFile(trainFile, train, 1);
  writeLabelFile(testFile, test_, 2);
  const ctx = { card: tinyCard(), tech: DEFAULT_TECH, workload: LLM_DECODE_V2 };
  const meta = { simulatorVersion: 'sim-test', model: { name: 'tiny', hash: 'x' }, workload: 'llm-decode-v2', files: ['train'] };

  test.each(['gbdt', 'mlp-ensemble', 'mlp-small'] as const)('%s learns the synthetic labels and its intervals cover them', (family) => {
    const b = trainSurrogate(train, ctx, meta, { family, gbdt: { rounds: 150 }, ensemble: family === 'mlp-small' ? { steps: 2500 } : { steps: 600, members: 2, hidden: [32, 32] } });
    const r = evaluateSurrogate(new Surrogate(b, ctx), test_);
    expect(r.overall.targets.tokensPerSecond.mape).toBeLessThan(family === 'gbdt' ? 15 : 25);
    expect(b.family).toBe(family);
    expect(r.overall.targets.ppaScore.kendallTau).toBeGreaterThan(0.8);
    expect(r.overall.targets.tokensPerSecond.intervalCoverage).toBeGreaterThan(0.6);
    // area comes from the area model where it is exact: zero error there
    expect(r.overall.targets.areaMm2.mape).toBeLessThan(1e-6 + (test_.some((l) => l.design.mapping.heterogeneousTiles) ? 100 : 0));
    expect(b.featureNames).toHaveLength(FEATURE_COUNT);
  });

  test('gbdt-kernels: trained and queried with the kernel features; its file keeps them (a plain context is upgraded on load)', () => {
    const b = trainSurrogate(train, ctx, meta, { family: 'gbdt-kernels', gbdt: { rounds: 60 } });
    expect(b.kernelFeatures).toBe(true);
    expect(b.featureNames).toEqual([...FEATURE_NAMES, ...KERNEL_FEATURE_NAMES]);
    const file = path.join(dir, 'kernels.msgpack');
    saveSurrogate(file, b);
    const s = new Surrogate(loadSurrogate(file), ctx);
    expect(s.ctx.kernels).toBe(true);
    const designs = test_.map((l) => l.design);
    const { x } = featureMatrix(designs, s.ctx);
    expect(x.every(Number.isFinite)).toBe(true);
    expect(s.predict(designs).map((p) => p.targets.tokensPerSecond.value)).toEqual(new Surrogate(b, ctx).predict(designs).map((p) => p.targets.tokensPerSecond.value));
    const r = evaluateSurrogate(s, test_);
    expect(r.overall.targets.ppaScore.kendallTau).toBeGreaterThan(0.5);
    // the plain families keep the plain features
    expect(trainSurrogate(train, { ...ctx, kernels: true }, meta, { family: 'gbdt', gbdt: { rounds: 10 } }).featureNames).toHaveLength(FEATURE_COUNT);
  });

  test('a small training set still calibrates its intervals on at least 5 labels (they never collapse to a point)', () => {
    const few = train.slice(0, 24);
    for (const family of ['gbdt', 'bounds'] as const) {
      const b = trainSurrogate(few, ctx, meta, { family, gbdt: { rounds: 30 } });
      expect(b.trainedOn.labels).toBe(24);
      // s0 is the calibration residuals' RMS: zero only when no label was held out for it
      for (const t of ['tokensPerSecond', 'powerW', 'energyPerTokenJ']) expect(b.calibration.s0[b.targets.indexOf(t)]).toBeGreaterThan(1e-3);
      const r = evaluateSurrogate(new Surrogate(b, ctx), test_);
      expect(r.overall.targets.tokensPerSecond.intervalCoverage).toBeGreaterThan(0.3);
    }
  });

  test('CLI: train, eval --json --html, predict; bad model files and label files are one-line errors', async () => {
    const run = async (args: string[]) => {
      const io = memoryIo();
      const code = await main(args, io);
      return { code, out: io.out, err: io.err, io };
    };
    const modelFile = path.join(dir, 'model.msgpack');
    const t = await run(['surrogate', 'train', '--labels', trainFile, '--out', modelFile, '--family', 'gbdt', '--quiet']);
    expect({ code: t.code, err: t.err }).toEqual({ code: 0, err: '' });
    const html = path.join(dir, 'parity.html');
    const e = await run(['surrogate', 'eval', '--model', modelFile, '--labels', testFile, '--json', '--html', html]);
    expect(e.code).toBe(0);
    const j = JSON.parse(e.out);
    for (const k of ['tokensPerSecond', 'powerW', 'energyPerTokenJ', 'ttftMs', 'itlMsP50', 'ppaScore']) {
      for (const m of ['mape', 'r2', 'kendallTau', 'top10Recall', 'intervalCoverage']) expect({ k, m, ok: typeof j.overall.targets[k][m] === 'number' }).toEqual({ k, m, ok: true });
    }
    expect(Object.keys(j.perNode)).toEqual(['7', '28']);
    expect(j.overall.feasibility.auc).toBeGreaterThan(0.5);
    expect(String(e.io.written.get(html))).toMatch(/<svg[^>]*>.*<circle/s);
    const p = await run(['surrogate', 'predict', '--model', modelFile, '--design', 'tiny-2x2', '--node', '28', '--power-budget', '1', '--json']);
    expect(p.code).toBe(0);
    const pj = JSON.parse(p.out);
    expect(pj.node).toBe(28);
    expect(pj.prediction.tokensPerSecond.lo).toBeLessThanOrEqual(pj.prediction.tokensPerSecond.value);
    expect(pj.pFeasible).toBeGreaterThanOrEqual(0);

    // a model file from another space version
    const b = loadSurrogate(modelFile);
    const old = path.join(dir, 'old-space.msgpack');
    saveSurrogate(old, { ...b, spaceVersion: 'space-0.000000000000' });
    const r1 = await run(['surrogate', 'eval', '--model', old, '--labels', testFile]);
    expect(r1.code).toBe(2);
    expect(r1.err.trim().split('\n')).toHaveLength(1);
    expect(r1.err).toMatch(/old-space\.msgpack: spaceVersion = "space-0.000000000000": .*another design space.*fix: retrain/);
    // labels of another model than the surrogate's
    const other = path.join(dir, 'other-model.msgpack');
    const { LabelWriter } = await import('../search/label/file.js');
    const { headerFor } = await import('../search/label/run.js');
    const { builtinModel } = await import('../sim/model/catalog.js');
    const w = LabelWriter.create(other, headerFor({ modelName: 'smollm2-135m', card: builtinModel('smollm2-135m')!, nodes: [7], seed: 1, fidelity: 'fast', workload: 'llm-decode-v2', eventLimit: 1, tech: DEFAULT_TECH }, 1, new Date(0)));
    w.close();
    const r2_ = await run(['surrogate', 'eval', '--model', modelFile, '--labels', other]);
    expect(r2_.code).toBe(2);
    expect(r2_.err).toMatch(/other-model\.msgpack: model = "smollm2-135m": labels of another model than the surrogate's tiny; fix:/);
  });
});
