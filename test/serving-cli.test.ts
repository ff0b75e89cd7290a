import { main } from '../cli/main.js';
import { memoryIo } from '../cli/io.js';

/** `tessera sim --fidelity serve` from the command line: JSON, the saved step memo, capacity, bad options. */

async function run(args: string[], io = memoryIo()) {
  const code = await main(args, io);
  return { code, out: io.out, err: io.err, io };
}

const TRACE = 'poisson:rate=200,n=40,prompt=uniform(4,40),output=uniform(1,20)';
const BASE = ['sim', '--design', 'tiny-2x2', '--model', 'tiny', '--trace', TRACE, '--fidelity', 'serve', '--quiet'];

describe('tessera sim --fidelity serve', () => {
  test('--json: finite serving metrics, steps traced to simulations, and a second run served from the saved memo', async () => {
    const io = memoryIo();
    const first = await run([...BASE, '--json', '--memo', '/virtual/memo'], io);
    expect({ code: first.code, err: first.err }).toEqual({ code: 0, err: '' });
    const a = JSON.parse(first.out);
    for (const p of ['metrics.tokensPerSecond', 'metrics.ttftMs.p99', 'metrics.itlMs.p50', 'metrics.powerW', 'serving.ttftMs.p90', 'serving.e2eMs.p99', 'serving.tpotMs.p50', 'serving.goodputRequestsPerSecond', 'serving.sloAttainment', 'errorEstimate.ttftP99', 'errorEstimate.itlP50', 'run.iterationsPerSecond', 'run.load']) {
      const v = p.split('.').reduce((o: any, k) => o?.[k], a);
      expect({ p, finite: typeof v === 'number' && Number.isFinite(v) }).toEqual({ p, finite: true });
    }
    expect(a.run.fidelity).toBe('serve');
    expect(a.serving.requests).toMatchObject({ total: 40, served: 40 });
    expect(a.steps.simulated).toBeGreaterThan(0);
    expect(a.timeSeries.queueMean.length).toBe(a.timeSeries.startSeconds.length);
    expect(a.memoFile).toMatch(/^\/virtual\/memo\/[0-9a-f]+\.msgpack\.gz$/);
    io.out = '';
    const second = await run([...BASE, '--json', '--memo', '/virtual/memo'], io);
    const b = JSON.parse(second.out);
    expect(b.steps.simulated).toBe(0);
    expect(b.steps.loaded).toBe(a.steps.simulated);
    expect(b.serving).toEqual(a.serving);
    expect(b.power).toEqual(a.power);
  });

  test('requests that can never fit are rejected and counted, not fatal', async () => {
    // the tiny model's context is 1,024 tokens: prompts of 2,000 cannot be served
    const r = await run(['sim', '--design', 'tiny-2x2', '--model', 'tiny', '--trace', 'poisson:rate=100,n=30,prompt=uniform(10,2000),output=4', '--fidelity', 'serve', '--quiet', '--memo', 'off', '--json', '--holdout', '0']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.serving.requests.served + j.serving.requests.rejected.context + j.serving.requests.rejected.kv).toBe(30);
    expect(j.serving.requests.rejected.context + j.serving.requests.rejected.kv).toBeGreaterThan(0);
    expect(j.requests.filter((q: { rejected?: string }) => q.rejected).every((q: { ttftMs: null }) => q.ttftMs === null)).toBe(true);
  });

  test('--capacity bisects the rate scale and prints the answer with the figures at that rate', async () => {
    const r = await run([...BASE, '--memo', 'off', '--capacity', '--slo-ttft', '0.2', '--slo-itl', '0.05', '--slo-share', '0.8', '--holdout', '0']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/highest rate meeting the SLOs .* --rate-scale [0-9.]+/);
    expect(r.out).toMatch(/at capacity:/);
    expect(r.out).toMatch(/serving metrics/);
  });

  test('serving options need --fidelity serve; bad values are one-line input errors', async () => {
    const cases: [string[], RegExp][] = [
      [['sim', '--design', 'tiny-2x2', '--model', 'tiny', '--trace', 'decode:2@8', '--capacity'], /--capacity.*add --fidelity serve/],
      [[...BASE, '--context-grid', '0'], /--context-grid = 0/],
      [[...BASE, '--step-tolerance', '2'], /--step-tolerance = 2/],
      [[...BASE, '--slo-share', '0'], /--slo-share = 0/],
      [[...BASE, '--rate-scale', '-1'], /--rate-scale = -1/],
      [[...BASE, '--timeline', 't.json'], /--timeline/],
    ];
    for (const [args, msg] of cases) {
      const r = await run(args);
      expect({ args, code: r.code, lines: r.err.trim().split('\n').length }).toEqual({ args, code: 2, lines: 1 });
      expect(r.err).toMatch(msg);
    }
  });

  test('--from/--to and --rate-scale select requests at every fidelity', async () => {
    const r = await run(['sim', '--design', 'tiny-2x2', '--model', 'tiny', '--trace', 'poisson:rate=1,n=20,prompt=4,output=2', '--from', '0', '--to', '0.1', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.run.requestsSimulated).toBeGreaterThan(0);
    expect(j.run.requestsSimulated).toBeLessThan(20);
    expect(j.requests.every((q: { arrivalMs: number }) => q.arrivalMs < 6000)).toBe(true);
  });
});
