import { Rng } from '../sim/random/rng.js';
import { MoeActor, headSoftmax, sampleContinuous } from '../search/sac/actor.js';
import { PrioritizedReplay } from '../search/sac/replay.js';
import { SacAgent, SAC_DEFAULTS, type SacArgs } from '../search/sac/sac.js';
import { WorldModel, mpcAction, MPC } from '../search/sac/worldModel.js';
import { designHash, SegmentStatsAccumulator } from '../search/sac/stats.js';

/**
 * The SAC pieces checked from first principles: the actor's hand-written backward pass and
 * the actor loss's gradient against finite differences, prioritised replay's sampling
 * frequencies and importance weights against their formulas, and the whole agent on a
 * small task whose best action is known.
 */

const spec = { obsDim: 6, contDim: 3, heads: 2, choices: 5, hidden: 8, experts: 3, gateFields: [0, 1, 2] };

function randomObs(n: number, d: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n * d }, () => rng.normal());
}

/** Parameters of a network as (array, index) pairs to perturb. */
function someParams(params: { value: Float32Array; grad: Float32Array }[], count: number, rng: Rng) {
  return Array.from({ length: count }, () => {
    const p = rng.pick(params);
    return { p, i: rng.int(0, p.value.length - 1) };
  });
}

/** Central difference (f(w + h) - f(w - h)) / 2h of `f` in parameter element p.value[i], which is restored. */
function centralDifference(p: { value: Float32Array }, i: number, h: number, f: () => number): number {
  const w = p.value[i];
  p.value[i] = w + h;
  const up = f();
  p.value[i] = w - h;
  const down = f();
  p.value[i] = w;
  return (up - down) / (2 * h);
}

describe('MoE actor', () => {
  test('backward matches finite differences of a linear functional of logits, mu, log sigma and gates', () => {
    const rng = new Rng(3, 'test');
    const actor = new MoeActor(spec, 7);
    const n = 5;
    const obs = randomObs(n, spec.obsDim, rng);
    const out0 = actor.forward(obs, n);
    const R = [out0.logits, out0.mu, out0.logStd, out0.gates].map((a) => Float32Array.from(a, () => rng.normal()));
    const functional = () => {
      const o = actor.forward(obs, n);
      let s = 0;
      [o.logits, o.mu, o.logStd, o.gates].forEach((a, k) => a.forEach((v, i) => (s += v * R[k][i])));
      return s;
    };
    actor.forward(obs, n, true);
    for (const p of actor.params()) p.grad.fill(0);
    actor.backward(R[0], R[1], R[2], R[3]);
    const h = 1e-3;
    for (const { p, i } of someParams(actor.params(), 40, rng)) {
      const fd = centralDifference(p, i, h, functional);
      expect(Math.abs(fd - p.grad[i])).toBeLessThan(2e-2 * Math.max(1, Math.abs(fd)));
    }
  });

  test('gates sum to one and depend only on the gate fields', () => {
    const actor = new MoeActor(spec, 2);
    const rng = new Rng(1, 'g');
    const obs = randomObs(4, spec.obsDim, rng);
    const g = actor.forward(obs, 4).gates;
    for (let i = 0; i < 4; i++) expect(g[i * 3] + g[i * 3 + 1] + g[i * 3 + 2]).toBeCloseTo(1, 6);
    const other = obs.slice();
    for (let i = 0; i < 4; i++) other[i * spec.obsDim + 5] += 3; // a non-gate field
    expect(Array.from(actor.forward(other, 4).gates)).toEqual(Array.from(g));
  });

  test('log pi of the tanh-squashed Gaussian integrates the change of variables', () => {
    // one dimension, mu = 0.3, sigma = e^-1: compare with the density of a = tanh(u) by counting
    const out = { n: 1, logits: new Float32Array(10), mu: Float32Array.of(0.3), logStd: Float32Array.of(-1), rho: new Float32Array(1), gates: Float32Array.of(1) };
    const rng = new Rng(5, 'lp');
    const s = sampleContinuous(out, 1, rng);
    const a = s.a[0];
    const u = Math.atanh(a);
    const sigma = Math.exp(-1);
    const density = Math.exp(-0.5 * ((u - 0.3) / sigma) ** 2) / (sigma * Math.sqrt(2 * Math.PI)) / (1 - a * a);
    expect(s.logPi[0]).toBeCloseTo(Math.log(density), 3);
  });
});

const tinyArgs: SacArgs = { ...SAC_DEFAULTS, hidden: 16, batch: 16, experts: 3, worldModel: false, replayCapacity: 512 };

function filledAgent(args: SacArgs, seed: number): SacAgent {
  const agent = new SacAgent(args, { obsDim: 6, contDim: 3, heads: 2, choices: 5, gateFields: [0, 1] }, seed);
  const rng = new Rng(seed, 'fill');
  for (let i = 0; i < 64; i++) {
    const s = randomObs(1, 6, rng);
    agent.replay.add(s, [rng.int(0, 4), rng.int(0, 4)], Float32Array.from({ length: 3 }, () => 2 * rng.next() - 1), rng.normal(), randomObs(1, 6, rng));
  }
  return agent;
}

describe('SAC losses', () => {
  test('the actor loss gradient (reparameterised, exact over mesh moves, load balance) matches finite differences', () => {
    const agent = filledAgent(tinyArgs, 11);
    const batch = agent.replay.sample(16, 0.4, new Rng(1, 'b'));
    const loss = () => {
      const r = agent.actorGradients(batch, new Rng(9, 'eps'));
      for (const p of agent.actor.params()) p.grad.fill(0);
      return r.actorLoss;
    };
    for (const p of agent.actor.params()) p.grad.fill(0);
    agent.actorGradients(batch, new Rng(9, 'eps'));
    const params = agent.actor.params();
    const grads = params.map((p) => Float32Array.from(p.grad));
    const rng = new Rng(2, 'pick');
    const h = 2e-3;
    let agree = 0;
    const picks = someParams(params, 40, rng);
    for (const { p, i } of picks) {
      const k = params.indexOf(p);
      const fd = centralDifference(p, i, h, loss);
      if (Math.abs(fd - grads[k][i]) < 3e-2 * Math.max(0.05, Math.abs(fd))) agree++;
    }
    // a perturbation can flip a min(Q1, Q2): almost all, not all, must agree
    expect(agree).toBeGreaterThanOrEqual(36);
  });

  test('one update changes every network, moves the targets by tau, and keeps the temperatures in bounds', () => {
    const agent = filledAgent(tinyArgs, 12);
    const before = agent.targets[0].layers[0].w.slice();
    const q = agent.critics[0].layers[0].w.slice();
    const stats = agent.update(0, new Rng(1, 'u'));
    expect(Number.isFinite(stats.criticLoss) && Number.isFinite(stats.actorLoss)).toBe(true);
    const qNow = agent.critics[0].layers[0].w;
    const tNow = agent.targets[0].layers[0].w;
    for (let i = 0; i < 20; i++) expect(tNow[i]).toBeCloseTo(tinyArgs.tau * qNow[i] + (1 - tinyArgs.tau) * before[i], 5);
    expect(Array.from(qNow)).not.toEqual(Array.from(q));
    expect(stats.alphaC).toBeGreaterThan(Math.exp(-10));
    expect(stats.gateBalance).toBeGreaterThanOrEqual(1 - 1e-6); // K sum gbar^2 >= 1, equality at uniform use
  });
});

describe('prioritised replay', () => {
  test('draws in proportion to (|delta| + 1e-6)^alpha with weights (N P)^-beta / max', () => {
    const buf = new PrioritizedReplay(8, 1, 1, 0.6);
    for (let i = 0; i < 8; i++) buf.add(Float32Array.of(i), [0, 0], Float32Array.of(0), i, Float32Array.of(i));
    const deltas = Float32Array.from([1, 2, 3, 4, 0, 0, 8, 1]);
    buf.updatePriorities(Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]), deltas);
    const pr = Array.from(deltas, (d) => (d + 1e-6) ** 0.6);
    const total = pr.reduce((a, b) => a + b, 0);
    const counts = new Array(8).fill(0);
    const rng = new Rng(4, 'per');
    let batch;
    for (let k = 0; k < 2000; k++) {
      batch = buf.sample(8, 0.5, rng);
      batch.indices.forEach((i) => counts[i]++);
    }
    for (let i = 0; i < 8; i++) expect(counts[i] / 16000).toBeCloseTo(pr[i] / total, 1);
    const maxW = (8 * (Math.min(...pr) / total)) ** -0.5;
    batch!.indices.forEach((i, j) => expect(batch!.weights[j]).toBeCloseTo((8 * (pr[i] / total)) ** -0.5 / maxW, 4));
  });

  test('alpha = 0 is uniform replay with unit weights, and the state round-trips', () => {
    const buf = new PrioritizedReplay(16, 2, 1, 0);
    for (let i = 0; i < 10; i++) buf.add(Float32Array.of(i, -i), [1, 2], Float32Array.of(0.5), i, Float32Array.of(i + 1, 0));
    buf.updatePriorities(Int32Array.of(0), Float32Array.of(100));
    const b = buf.sample(10, 0.4, new Rng(1, 'u'));
    expect(Array.from(b.weights)).toEqual(new Array(10).fill(1));
    expect(new Set(b.indices).size).toBe(10); // stratified over equal priorities: each once
    const copy = PrioritizedReplay.fromState(buf.state(), 0);
    expect(copy.size).toBe(10);
    expect(Array.from(copy.sample(10, 0.4, new Rng(1, 'u')).obs)).toEqual(Array.from(b.obs));
  });
});

describe('world model and MPC', () => {
  test('learns a linear transition and MPC picks the candidate with the higher predicted return', () => {
    // s' = s + 0.1 a_0 (first obs dim), r = a_0: the best first action has a_0 = 1
    const agent = filledAgent({ ...tinyArgs, worldModel: true }, 13);
    const wm = new WorldModel({ obsDim: 6, discDim: 10, contDim: 3, hidden: 16 }, 1, 3e-3);
    const rng = new Rng(6, 'wm');
    const buf = new PrioritizedReplay(2048, 6, 3, 0);
    for (let i = 0; i < 2048; i++) {
      const s = randomObs(1, 6, rng);
      const a = Float32Array.from({ length: 3 }, () => 2 * rng.next() - 1);
      const s2 = s.slice();
      s2[0] += 0.1 * a[0];
      buf.add(s, [2, 2], a, a[0], s2);
    }
    for (let k = 0; k < 600; k++) wm.train(buf, 64, rng, 5);
    expect(wm.lastLoss).toBeLessThan(0.01);
    const obs = randomObs(1, 6, rng);
    const sacCont = Float32Array.of(-0.9, 0, 0);
    const a = mpcAction(obs, [2, 2], sacCont, agent.actor, wm, 0.99, rng);
    // blended 0.7 / 0.3 towards a better first coordinate than SAC's -0.9
    expect(a[0]).toBeGreaterThan(-0.9 * (1 - MPC.blendMpc) - 0.9 * MPC.blendMpc + 0.05);
  });
});

describe('the agent learns', () => {
  test('a one-step task whose best action is known: mesh move 4 and a continuous target', () => {
    // gamma 0: a bandit, so Q is the reward itself and the test stays short
    const args: SacArgs = { ...SAC_DEFAULTS, gamma: 0, lr: 1e-3, hidden: 32, batch: 32, experts: 2, worldModel: false, replayCapacity: 4096, warmupSteps: 200 };
    const agent = new SacAgent(args, { obsDim: 4, contDim: 2, heads: 2, choices: 5, gateFields: [0] }, 21);
    const rng = new Rng(21, 'task');
    const target = [0.5, -0.3];
    const reward = (d: readonly number[], a: Float32Array) => (d[0] === 4 ? 1 : 0) - (a[0] - target[0]) ** 2 - (a[1] - target[1]) ** 2;
    const steps = 1000;
    for (let t = 0; t < steps; t++) {
      const s = Float32Array.of(1, 0, 0, 0);
      const act = agent.act(s, t < args.warmupSteps ? 1 : 0.1, rng);
      agent.replay.add(s, act.discrete, act.continuous, reward(act.discrete, act.continuous), s);
      if (t >= args.warmupSteps) agent.update(t / steps, rng);
    }
    const out = agent.actor.forward(Float32Array.of(1, 0, 0, 0), 1);
    const { p } = headSoftmax(out.logits, 1, 2, 5);
    const mean = sampleContinuous(out, 2, null).a;
    expect(p[4]).toBeGreaterThan(0.5);
    expect(agent.alphaC).toBeLessThan(SAC_DEFAULTS.alphaInit);
    expect(Math.abs(mean[0] - target[0])).toBeLessThan(0.15);
    expect(Math.abs(mean[1] - target[1])).toBeLessThan(0.15);
  });
});

describe('training statistics', () => {
  test('a segment\'s statistics: pre-squash mean and sigma, saturation, rewards, distinct designs', () => {
    const acc = new SegmentStatsAccumulator();
    const seen = new Set<number>([designHash('old')]);
    // two policy actions over 2 dimensions, one random action
    acc.step({ discrete: [2, 2], continuous: Float32Array.of(0.995, 0), mpc: false, source: 'policy', mu: Float32Array.of(3, -1), logStd: Float32Array.of(Math.log(0.5), Math.log(0.5)) }, 1, true, designHash('a'), seen);
    acc.step({ discrete: [2, 2], continuous: Float32Array.of(-0.5, -0.999), mpc: true, source: 'policy', mu: Float32Array.of(0, 1), logStd: Float32Array.of(0, 0) }, -3, false, designHash('b'), seen);
    acc.step({ discrete: [0, 4], continuous: Float32Array.of(0.999, 0.999), mpc: false, source: 'random' }, 2, true, designHash('a'), seen);
    acc.update({ criticLoss: 1, actorLoss: 0, alphaC: 0.2, alphaD: 0.1, entropyD: 1, gateBalance: 1, qMean: 4, targetMean: 5, logPiMean: -2 });
    acc.update({ criticLoss: 3, actorLoss: 0, alphaC: 0.1, alphaD: 0.1, entropyD: 2, gateBalance: 1, qMean: 6, targetMean: 7, logPiMean: -4 });
    const s = acc.finish(4, 30, 2, seen.size);
    expect([s.randomSteps, s.policySteps, s.mpcSteps]).toEqual([1, 2, 1]);
    expect(s.meanAbsMu).toBeCloseTo((3 + 1 + 0 + 1) / 4, 6);
    expect(s.meanSigma).toBeCloseTo((0.5 + 0.5 + 1 + 1) / 4, 6);
    // |a| > 0.99: 0.995 and -0.999 of the policy's four values (the random action does not count)
    expect(s.saturated).toBeCloseTo(2 / 4, 6);
    // |tanh(mu)| > 0.99 only for mu = 3
    expect(s.meanSaturated).toBeCloseTo(1 / 4, 6);
    expect(s.alphaC).toBeCloseTo(0.15, 12);
    expect([s.entropyC, s.entropyD, s.qMean, s.targetMean, s.criticLoss]).toEqual([3, 1.5, 5, 6, 2]);
    expect(s.reward.mean).toBeCloseTo(0, 9);
    expect(s.reward.sd).toBeCloseTo(Math.sqrt((1 + 9 + 4) / 3), 9);
    expect([s.reward.min, s.reward.max, s.feasibleShare]).toEqual([-3, 2, 2 / 3]);
    expect([s.distinctDesigns, s.distinctDesignsSoFar]).toEqual([2, 3]);
  });
});
