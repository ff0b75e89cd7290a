import { builtinModel } from '../sim/model/catalog.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { planMapping } from '../sim/chip/run.js';
import { DEFAULT_WEIGHTS, EQ34_OBJECTIVE_CLIP, eq34Reward, ppaScore, SEARCH_DEFAULT_CONSTRAINTS } from '../sim/power/ppa.js';
import { referenceFor } from '../sim/power/reference.js';
import { Rng } from '../sim/random/rng.js';
import { LLM_DECODE_V2, workloadTraces } from '../search/workload.js';
import { designInBox, samplerBox } from '../search/sampler.js';
import { DIMENSIONS } from '../search/space.js';
import { trainSurrogate, Surrogate } from '../search/surrogate/model.js';
import { mappingSummary } from '../search/env/mappingSummary.js';
import { ActionSpace, CONTINUOUS_COUNT, CONTINUOUS_DIMS, parseFreeze } from '../search/env/actions.js';
import { DesignEnv } from '../search/env/env.js';
import { REWARD_DEFAULTS, scoreDesigns } from '../search/env/evaluate.js';
import { GATE_FIELDS, OBS_DIM, OBS_FIELDS } from '../search/env/observation.js';
import { synthLabels } from './search-helpers.js';

/**
 * The explore environment's contract (docs/explore.md): the mapping summary agrees with the
 * mapping pass, actions quantise onto the grid and invert, frozen dimensions stay put, the
 * reward is finite and inside its documented range for every design (mapping-infeasible and
 * beyond-the-reticle ones included), and reset/step behave as a gym environment.
 */

const tiny = builtinModel('tiny')!;
const smol = builtinModel('smollm2-135m')!;

function randomDesigns(card: typeof tiny, node: 7 | 28, n: number, seed: number) {
  const rng = new Rng(seed, 'env-test');
  return Array.from({ length: n }, (_, i) => designInBox(card, node, samplerBox(card, node), Float64Array.from(DIMENSIONS, () => rng.next()), `d${i}`));
}

describe('mapping summary', () => {
  test.each([
    ['tiny', tiny, 40],
    ['smollm2-135m', smol, 15],
  ] as const)('%s: same verdict as the mapping pass; weight pressure within 1% on uniform tiles', (_name, card, n) => {
    for (const d of randomDesigns(card, 7, n, 3)) {
      const exact = planMapping(card, d, workloadTraces(LLM_DECODE_V2, d).decode).mapping;
      const s = mappingSummary(card, d, LLM_DECODE_V2);
      expect({ design: d.name, feasible: s.feasible }).toEqual({ design: d.name, feasible: exact.feasible });
      expect(s.regions).toBe(exact.regions.length);
      if (!d.mapping.heterogeneousTiles && card === smol) {
        const load = Math.max(...exact.tiles.map((t) => t.romBytes / t.romCapacityBytes));
        expect(Math.abs(s.weightPressure / load - 1)).toBeLessThan(0.01);
      }
    }
  });
});

describe('actions', () => {
  const space = new ActionSpace(smol, 7);
  test('a continuous action quantises onto the grid and the design maps back to the same action values', () => {
    for (const d of randomDesigns(smol, 7, 10, 5)) {
      const a = space.actionOf(d);
      expect(a.every((v) => v >= -1 && v <= 1)).toBe(true);
      const again = space.apply(d, { discrete: [2, 2], continuous: a });
      for (const dim of CONTINUOUS_DIMS) {
        const get = (x: any) => dim.path.split('.').reduce((o, k) => o[k], x);
        if (dim.path === 'tile.wmemKiB') expect(Math.abs(get(again) / get(d) - 1)).toBeLessThan(0.01);
        else expect({ dim: dim.path, v: get(again) }).toEqual({ dim: dim.path, v: get(d) });
      }
    }
  });

  test('the ends of the squash reach the ends of the box; mesh moves are clamped to it', () => {
    const d = randomDesigns(smol, 7, 1, 9)[0];
    const lo = space.apply(d, { discrete: [0, 0], continuous: new Float32Array(CONTINUOUS_COUNT).fill(-1) });
    const hi = space.apply(d, { discrete: [4, 4], continuous: new Float32Array(CONTINUOUS_COUNT).fill(1) });
    expect(lo.clockMHz).toBe(10);
    expect(hi.clockMHz).toBe(570);
    expect(lo.tile.vlenBits).toBe(128);
    expect(hi.tile.vlenBits).toBe(2048);
    expect(lo.mesh.rows).toBe(Math.max(2, d.mesh.rows - 2));
    expect(hi.mesh.cols).toBe(Math.min(16, d.mesh.cols + 2));
    let m = d;
    for (let k = 0; k < 20; k++) m = space.apply(m, { discrete: [4, 0], continuous: space.actionOf(m) });
    expect(m.mesh).toEqual({ rows: 16, cols: 2 });
  });

  test('--freeze keeps the frozen dimensions and ignores the mesh moves', () => {
    const base = randomDesigns(smol, 7, 1, 11)[0];
    const frozen = new ActionSpace(smol, 7, parseFreeze('chip'), base);
    const rng = new Rng(2, 'freeze');
    const out = frozen.apply(base, { discrete: [4, 0], continuous: Float32Array.from({ length: CONTINUOUS_COUNT }, () => 2 * rng.next() - 1) });
    expect(out.mesh).toEqual(base.mesh);
    expect(out.tile).toEqual(base.tile);
    expect(out.noc).toEqual(base.noc);
    expect(out.clockMHz).toBe(base.clockMHz);
    expect(() => parseFreeze('tile.nonsense')).toThrow(/--freeze/);
  });
});

describe('reward', () => {
  test('Eq. 34 with the memory and hazard penalties, clipped objective, finite for an undefined one', () => {
    const ref = referenceFor(tiny);
    const r = ppaScore({ tokensPerSecond: ref.tokensPerSecond * 4, powerW: ref.powerW, areaMm2: ref.areaMm2 }, ref);
    expect(eq34Reward(r, ref.powerW, {}, 1, { memory: 0.5, hazard: 0.1 })).toBeCloseTo(r.objective + 1 - 0.6, 12);
    const huge = ppaScore({ tokensPerSecond: ref.tokensPerSecond * 2 ** 40, powerW: ref.powerW, areaMm2: ref.areaMm2 }, ref);
    expect(eq34Reward(huge, ref.powerW)).toBe(EQ34_OBJECTIVE_CLIP + 1);
    const zero = ppaScore({ tokensPerSecond: 0, powerW: 1, areaMm2: 1 }, ref, { mappingFeasible: false });
    expect(eq34Reward(zero, 1)).toBe(-EQ34_OBJECTIVE_CLIP - 1);
  });

  test('finite and within [-16.25, 6] for every design, infeasible ones included', () => {
    const labels = synthLabels(60);
    const fctx = { card: tiny, tech: DEFAULT_TECH, workload: LLM_DECODE_V2 };
    const s = new Surrogate(trainSurrogate(labels, fctx, { simulatorVersion: 'x', model: { name: 'tiny', hash: 'x' }, workload: 'llm-decode-v2', files: [] }, { family: 'mlp-ensemble', ensemble: { steps: 50 } }), fctx);
    const ctx = { card: tiny, tech: DEFAULT_TECH, workload: LLM_DECODE_V2, reference: referenceFor(tiny), weights: DEFAULT_WEIGHTS, constraints: { ...SEARCH_DEFAULT_CONSTRAINTS, powerBudgetW: 1e-4, areaBudgetMm2: 0.5, latencySloMs: 1e-3, ttftSloMs: 1e-3 }, reward: REWARD_DEFAULTS };
    const designs = [...randomDesigns(tiny, 7, 30, 4), ...randomDesigns(tiny, 28, 30, 5)];
    // mapping-infeasible: no room for the weights; and beyond the reticle: the largest mesh and memories
    designs.push({ ...designs[0], tile: { ...designs[0].tile, wmemKiB: 256, dmemKiB: 16 }, mesh: { rows: 2, cols: 2 }, mapping: { ...designs[0].mapping, heterogeneousTiles: false } });
    designs.push({ ...designs[1], mesh: { rows: 64, cols: 64 }, tile: { ...designs[1].tile, wmemKiB: 1048576 }, mapping: { ...designs[1].mapping, heterogeneousTiles: false } });
    const scores = scoreDesigns(designs, s, ctx);
    expect(scores.some((x) => !x.mapping.feasible)).toBe(true);
    expect(scores.some((x) => x.dies > 1)).toBe(true);
    for (const x of scores) {
      expect(Number.isFinite(x.reward)).toBe(true);
      expect(x.reward).toBeGreaterThanOrEqual(-16.25);
      expect(x.reward).toBeLessThanOrEqual(6);
    }
  });
});

describe('environment', () => {
  test('reset/step: finite observations of the documented width, truncation after the episode, no termination, deterministic', () => {
    expect(OBS_FIELDS.length).toBe(OBS_DIM);
    for (const f of OBS_FIELDS) expect(f.what.length).toBeGreaterThan(5);
    expect(GATE_FIELDS.every((i) => OBS_FIELDS[i].source === 'card' || OBS_FIELDS[i].source === 'node')).toBe(true);
    const labels = synthLabels(60);
    const fctx = { card: tiny, tech: DEFAULT_TECH, workload: LLM_DECODE_V2 };
    const s = new Surrogate(trainSurrogate(labels, fctx, { simulatorVersion: 'x', model: { name: 'tiny', hash: 'x' }, workload: 'llm-decode-v2', files: [] }, { family: 'mlp-ensemble', ensemble: { steps: 50 } }), fctx);
    const ctx = { card: tiny, tech: DEFAULT_TECH, workload: LLM_DECODE_V2, reference: referenceFor(tiny), weights: DEFAULT_WEIGHTS, constraints: SEARCH_DEFAULT_CONSTRAINTS, reward: REWARD_DEFAULTS };
    const episode = () => {
      const env = new DesignEnv(ctx, 7, () => s, 4);
      const rng = new Rng(8, 'episode');
      const first = env.reset(env.randomDesign(rng));
      const trace = [Array.from(first.obs)];
      for (let t = 0; t < 4; t++) {
        const r = env.step({ discrete: [rng.int(0, 4), rng.int(0, 4)], continuous: Float32Array.from({ length: CONTINUOUS_COUNT }, () => 2 * rng.next() - 1) });
        expect(r.obs.length).toBe(OBS_DIM);
        expect(r.obs.every(Number.isFinite)).toBe(true);
        expect(r.terminated).toBe(false);
        expect(r.truncated).toBe(t === 3);
        trace.push([...Array.from(r.obs), r.reward]);
      }
      expect(env.surrogateCalls).toBe(5);
      return trace;
    };
    expect(episode()).toEqual(episode());
  });
});
