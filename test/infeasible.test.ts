import { main } from '../cli/main.js';
import { memoryIo } from '../cli/io.js';
import { EXIT } from '../cli/exit.js';

/**
 * Issue 12 item 4: an infeasible design says so first, gives the reasons with numbers and
 * fixes computed for this design as `--set` options, reports null metrics in JSON and
 * exits with code 3. Each printed fix, applied with --set, makes the same run feasible.
 */

async function run(args: string[]) {
  const io = memoryIo();
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

/** `--set a=b --set c=d` -> ['--set', 'a=b', '--set', 'c=d'] */
const words = (options: string) => options.split(' ');

const CASES: [string, string[], RegExp][] = [
  // the KV cache of a 1,000-token context does not fit 2x2 tiles of 64 KiB DMEM
  ['KV cache, tiny model', ['--design', 'tiny-2x2', '--model', 'tiny', '--trace', 'decode:1@1000'], /^KV cache does not fit on tile \d+ \(row \d+, col \d+\): need [\d,]+ bytes, DMEM has [\d,]+ \(short by [\d,]+\): the longest request needs 1,001 cached tokens, the chip holds [\d,]+$/],
  // SmolLM2-135M's 270 MB of FP16 weights on four tiles of 256 KiB ROM
  ['weights, SmolLM2 on a 2x2 mesh', ['--design', 'tiny-2x2', '--model', 'smollm2-135m', '--trace', 'decode:1@8'], /^weights do not fit on tile \d+ .*: need [\d,]+ bytes, WMEM has 262,144 \(short by [\d,]+\)$/],
  // the case (Azure requests of up to ~2,200 tokens), as one request of a 2,200-token context on the paper's 3 nm Llama design
  ['KV cache, Llama 3.1 8B on paper-llama-3nm', ['--design', 'paper-llama-3nm', '--model', 'llama-3.1-8b', '--trace', 'decode:2@2200'], /^KV cache does not fit .*the longest request needs 2,202 cached tokens, the chip holds 1,162$/],
];

describe('infeasible designs', () => {
  for (const [name, args, reason] of CASES) {
    test(`${name}: JSON with feasible false, reasons, null metrics, exit ${EXIT.infeasible}; every fix makes it feasible`, async () => {
      const r = await run(['sim', ...args, '--json']);
      expect(r.code).toBe(EXIT.infeasible);
      const j = JSON.parse(r.out);
      expect(j.feasible).toBe(false);
      expect(j.reasons[0]).toMatch(reason);
      for (const k of ['tokensPerSecond', 'ttftMs', 'itlMs', 'powerW', 'energyPerTokenJ', 'ppaScore']) expect({ k, v: j.metrics[k] }).toEqual({ k, v: null });
      expect(j.metrics.areaMm2).toBeGreaterThan(0);
      expect(j.design.kind).toBe('design');
      expect(r.out).not.toMatch(/NaN/);
      expect(j.fixes.length).toBeGreaterThanOrEqual(2);
    expect(j.fixes.every((f: any) => f.why.length > 10)).toBe(true);
      for (const fix of j.fixes) {
        expect(fix.options).toMatch(/^--set [\w.]+=\S+( --set [\w.]+=\S+)*$/);
        const fixed = await run(['sim', ...args, ...words(fix.options), '--json']);
        expect({ fix: fix.options, code: fixed.code, err: fixed.err }).toEqual({ fix: fix.options, code: 0, err: '' });
        const f = JSON.parse(fixed.out);
        expect({ fix: fix.options, feasible: f.feasible }).toEqual({ fix: fix.options, feasible: true });
        expect(f.metrics.tokensPerSecond).toBeGreaterThan(0);
        // the JSON carries the design it ran: the fix is in it
        for (const [path, value] of Object.entries(fix.set)) expect(path.split('.').reduce((o: any, k) => o[k], f.design)).toBe(value);
      }
    }, 300_000);
  }

  test('the KV case offers a window, INT8 and INT4 KV, more DMEM and a larger mesh', async () => {
    const j = JSON.parse((await run(['sim', ...CASES[2][1], '--json'])).out);
    const paths = j.fixes.map((f: { options: string }) => f.options.replace(/=\S+/g, '=')).sort();
    expect(paths).toEqual(['--set mapping.kvWindowTokens=', '--set mesh.rows= --set mesh.cols=', '--set precision.kvCache=', '--set precision.kvCache=', '--set tile.dmemKiB='].sort());
    // the window is the largest multiple of 64 the chip holds; the DMEM the smallest that fits
    const window = j.fixes.find((f: any) => f.set['mapping.kvWindowTokens']).set['mapping.kvWindowTokens'];
    expect(window % 64).toBe(0);
    expect((await run(['sim', ...CASES[2][1], '--set', `mapping.kvWindowTokens=${window + 64}`, '--json'])).code).toBe(EXIT.infeasible);
    const dmem = j.fixes.find((f: any) => f.set['tile.dmemKiB']).set['tile.dmemKiB'];
    expect((await run(['sim', ...CASES[2][1], '--set', `tile.dmemKiB=${dmem - 1}`, '--json'])).code).toBe(EXIT.infeasible);
  }, 120_000);

  test('the terminal summary starts with INFEASIBLE, lists the reasons and prints the fixes as --set lines', async () => {
    const r = await run(['sim', ...CASES[0][1]]);
    expect(r.code).toBe(EXIT.infeasible);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^INFEASIBLE: the design cannot serve this trace \(1 shortfall; nothing was simulated, exit code 3\)$/);
    expect(r.out).toMatch(/what does not fit\n {2}1 {2}KV cache does not fit/);
    expect(r.out).toMatch(/\n {2}--set mapping\.kvWindowTokens=\d+ +# keep only the last/);
    expect(r.out).not.toMatch(/tokens\/s|NaN/);
  });

  test('activation buffers that do not fit: smaller batch or chunk, or more DMEM', async () => {
    const args = ['--design', 'tiny-2x2', '--model', 'tiny', '--trace', 'decode:1@8', '--set', 'tile.dmemKiB=16', '--set', 'serving.maxBatch=512', '--set', 'serving.prefillChunkTokens=8'];
    const r = await run(['sim', ...args, '--json']);
    expect(r.code).toBe(EXIT.infeasible);
    const j = JSON.parse(r.out);
    expect(j.reasons[0]).toMatch(/^activation buffers do not fit/);
    const options: string[] = j.fixes.map((f: { options: string }) => f.options);
    expect(options.some((o) => o.startsWith('--set serving.maxBatch='))).toBe(true);
    for (const o of options) {
      const fixed = await run(['sim', ...args, ...words(o), '--json']);
      expect({ o, code: fixed.code }).toEqual({ o, code: 0 });
    }
  });
});
