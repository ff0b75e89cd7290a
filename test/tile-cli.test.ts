import { main } from '../cli/main.js';
import { memoryIo } from '../cli/io.js';

async function run(args: string[]) {
  const io = memoryIo({});
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

describe('tessera kernel', () => {
  test('--json gives cycles, romBytesRead, macs, stallCycles by cause and events', async () => {
    const r = await run(['kernel', '--kernel', 'gemv', '--rows', '256', '--cols', '512', '--precision', 'w16a16', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.romBytesRead).toBe(256 * 512 * 2);
    expect(j.macs).toBe(256 * 512);
    expect(j.cycles).toBeGreaterThan(0);
    expect(Object.keys(j.stallCycles).sort()).toEqual(['dispatch', 'dmemPort', 'fetch', 'noc', 'raw', 'reservation', 'romPort', 'writePort']);
    expect(j.events).toBeGreaterThan(0);
    expect(j.fidelity).toBe('fast');
  });

  test('tile flags override the design; detailed fidelity; text output', async () => {
    const r = await run(['kernel', '--kernel', 'gemv', '--rows', '128', '--cols', '128', '--design', 'tiny-2x2', '--vlen', '512', '--fetch-width', '8', '--fidelity', 'detailed']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/VLEN 512/);
    expect(r.out).toMatch(/FETCH 8/);
    expect(r.out).toMatch(/detailed model/);
    expect(r.out).toMatch(/MACs\s+16,384/);
    expect(r.out).toMatch(/stall cycles by cause/);
    expect(r.out).toMatch(/tile\.romBytesRead/);
  });

  test('other kernels run', async () => {
    for (const args of [
      ['--kernel', 'attention', '--heads', '4', '--head-dim', '64', '--context', '128', '--splits', '2'],
      ['--kernel', 'rmsnorm', '--dim', '1024'],
      ['--kernel', 'argmax', '--vocab', '2048'],
      ['--kernel', 'patch-embed', '--patches', '4', '--patch-dim', '192', '--hidden', '64'],
      ['--kernel', 'gemm', '--rows', '64', '--cols', '64', '--tokens', '8'],
    ]) {
      const r = await run(['kernel', ...args, '--json']);
      expect({ args, code: r.code, err: r.err }).toEqual({ args, code: 0, err: '' });
    }
  });

  test('bad input: one line, exit code 2', async () => {
    for (const [args, re] of [
      [['--kernel', 'gemv', '--rows', '8', '--cols', '8', '--vlen', '300'], /--vlen: tile\.vlenBits = 300: must be a power of two/],
      [['--kernel', 'gemv', '--rows', '8'], /--cols.*required for --kernel gemv/],
      [['--kernel', 'gemv', '--rows', '300000', '--cols', '16'], /DMEM bytes needed/],
      [['--kernel', 'gemv', '--rows', '8192', '--cols', '8192'], /weight ROM bytes needed/],
      [['--kernel', 'gemv', '--rows', '8', '--cols', '8', '--precision', 'w3a16'], /precision/],
      [['--kernel', 'nope'], /kernel/],
      [['--kernel', 'attention', '--heads', '4', '--head-dim', '64', '--context', '128', '--splits', '0'], /--splits = 0: a positive integer/],
      [['--kernel', 'attention', '--heads', '4', '--head-dim', '64', '--context', '128', '--splits', '-5'], /--splits = -5: a positive integer/],
      [['--kernel', 'attention', '--heads', '4', '--head-dim', '64', '--context', '128', '--splits', '2.5'], /--splits = 2.5: a positive integer/],
      [['--kernel', 'attention', '--heads', '4', '--head-dim', '64', '--context', '128', '--append', '-3'], /appendTokens = -3/],
      [['--kernel', 'attention', '--heads', '4', '--head-dim', '64', '--context', '128', '--splits', '1000000000'], /--splits = 1000000000: at most 1024 context splits/],
    ] as const) {
      const r = await run(['kernel', ...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err).toMatch(re);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });
});
