import { main } from '../cli/main.js';
import { memoryIo } from '../cli/io.js';

async function run(args: string[], files: Record<string, string | Uint8Array> = {}) {
  const io = memoryIo(files);
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

const BASE = ['sim', '--design', 'tiny-2x2', '--model', 'tiny', '--trace', 'decode:4@16'];

describe('tessera sim', () => {
  test('--json has every field the issue names, all finite, and the counters balance', async () => {
    const r = await run([...BASE, '--json']);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    const j = JSON.parse(r.out);
    const paths = [
      'metrics.tokensPerSecond', 'metrics.ttftMs.p50', 'metrics.ttftMs.p99', 'metrics.itlMs.p50', 'metrics.itlMs.p99',
      'metrics.powerW', 'metrics.energyPerTokenJ', 'metrics.areaMm2', 'metrics.ppaScore',
      'power.computeW', 'power.sramW', 'power.romW', 'power.nocW', 'power.leakageW',
      'counters.romBytesRead', 'counters.kvBytesRead', 'counters.kvBytesWritten', 'counters.flitsInjected', 'counters.flitsEjected', 'counters.flitsReplicated', 'counters.macs',
      'bounds.computeTokensPerSecond', 'bounds.memoryTokensPerSecond', 'bounds.nocTokensPerSecond', 'bounds.mappingTokensPerSecond',
      'run.simulatedCycles', 'run.events', 'run.wallSeconds', 'run.requestsSimulated',
    ];
    for (const p of paths) {
      const v = p.split('.').reduce((o: any, k) => o?.[k], j);
      expect({ p, finite: typeof v === 'number' && Number.isFinite(v) }).toEqual({ p, finite: true });
    }
    expect(j.metrics.feasible).toBe(true);
    expect(j.run.fidelity).toBe('fast');
    expect(j.run.requestsSimulated).toBe(1);
    expect(j.counters.flitsEjected).toBe(j.counters.flitsInjected + j.counters.flitsReplicated);
  });

  test('--profile and --weights choose the PPA weights; the score changes with them', async () => {
    const score = async (extra: string[]) => JSON.parse((await run([...BASE, '--json', ...extra])).out).metrics.ppaScore as number;
    const dflt = await score([]);
    expect(await score(['--profile', 'default'])).toBe(dflt);
    expect(await score(['--weights', '0.4,0.4,0.2'])).toBe(dflt);
    expect(await score(['--weights', ' 0.4, 0.4 ,0.2'])).toBe(dflt);
    expect(await score(['--profile', 'low-power'])).not.toBe(dflt);
  });

  // [options, expected stderr]: each a single line, exit code 2, nothing on stdout
  const BAD: [string[], RegExp][] = [
    [['--weights', '1,0,0,4'], /--weights = "1,0,0,4": three numbers perf,power,area that sum to 1/],
    [['--weights', '0.5,,0.5'], /--weights = "0.5,,0.5": three numbers/],
    [['--weights', '0.5,0.5'], /--weights = "0.5,0.5": three numbers/],
    [['--weights', 'a,b,c'], /--weights = "a,b,c": three numbers/],
    [['--weights', '0.5,0.3,0.2', '--profile', 'low-power'], /either --weights or --profile, not both/],
    [['--weights', '1,0,0'], /power = 0: .*allowed a number in \(0, 1\]/],
    [['--weights', '0.5,0.3,0.3'], /sum/],
    [['--profile', 'fast'], /--profile.*"fast".*one of default, low-power/],
    [['--profile', 'toString'], /--profile.*"toString".*one of default, low-power/],
    // zero is excluded: the allowed text must say "> 0", not ">= 0"
    [['--power-budget', '0'], /powerBudgetW = 0: .*allowed a number > 0;/],
    [['--area-budget', '-1'], /areaBudgetMm2 = -1: .*allowed a number > 0;/],
    [['--max-batch', '0'], /maxBatch = 0: .*allowed an integer in 1\.\./],
    [['--fidelity', 'exact'], /fidelity/],
  ];
  for (const [args, re] of BAD) {
    test(`bad option ${args.join(' ')}: one line, exit code 2`, async () => {
      const r = await run([...BASE, ...args]);
      expect({ code: r.code, out: r.out }).toEqual({ code: 2, out: '' });
      expect(r.err).toMatch(re);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    });
  }
});
