import * as fs from 'node:fs';
import { main } from '../cli/main.js';
import { memoryIo } from '../cli/io.js';

/**
 * Issue 12 items 3, 5, 6 and the output nits: progress on stderr only (never in --json
 * stdout), timelines that keep NoC messages and say what a cap dropped, the below-bound
 * explanation always, `--seed abc`, plurals, number formatting, single-token ITL,
 * generator caps and fix texts.
 */

/** Runs the CLI with a clock that advances `tickMs` at every reading (progress lines become due). */
async function run(args: string[], opts: { tickMs?: number; files?: Record<string, string> } = {}) {
  const io = memoryIo(opts.files ?? {});
  let t = 0;
  const clocked = Object.assign(io, { now: () => (t += opts.tickMs ?? 0) });
  const code = await main(args, clocked);
  return { code, out: io.out, err: io.err, written: io.written };
}

const TINY = ['sim', '--design', 'tiny-2x2', '--model', 'tiny'];

describe('progress', () => {
  const trace = ['--trace', 'poisson:rate=2000,n=6,prompt=uniform(8,32),output=8'];

  test('sim on a trace: progress lines on stderr with done/total and rate, the JSON alone on stdout', async () => {
    const r = await run([...TINY, ...trace, '--json'], { tickMs: 400 });
    expect(r.code).toBe(0);
    JSON.parse(r.out); // stdout is exactly the JSON
    const lines = r.err.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toMatch(/^sim poisson:\S+: \d+\/48 tokens \(\d+%\), [\d.-]+\/s, .*requests? done$/);
    expect(lines[lines.length - 1]).toMatch(/48\/48 tokens \(100%\).*6\/6 requests done$/);
  });

  test('--quiet turns progress off; a run shorter than a second prints none', async () => {
    expect((await run([...TINY, ...trace, '--quiet'], { tickMs: 400 })).err).toBe('');
    expect((await run([...TINY, ...trace], { tickMs: 0 })).err).toBe('');
  });

  test('noc --sweep: points done on stderr, never in --json stdout', async () => {
    const r = await run(['noc', '--mesh', '4x4', '--sweep', '0.05:0.15:0.05', '--measure', '1000', '--json'], { tickMs: 400 });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).points).toHaveLength(3);
    expect(r.err).toMatch(/^noc: [\d.]+\/3 points \(\d+%\)/m);
    expect(r.err).toMatch(/noc: 3\/3 points \(100%\)/);
    expect((await run(['noc', '--mesh', '4x4', '--sweep', '0.05:0.15:0.05', '--measure', '1000', '--quiet'], { tickMs: 400 })).err).toBe('');
  });
});

describe('timelines', () => {
  // the case, shorter: a 41x42 mesh whose tile tasks once filled the cap before any NoC message
  const LLAMA = ['sim', '--design', 'paper-llama-3nm', '--model', 'llama-3.1-8b', '--trace', 'decode:4@512'];
  type Ev = { ph: string; pid: number; ts: number; dur: number };
  const events = (json: string) => (JSON.parse(json).traceEvents as Ev[]).filter((e) => e.ph === 'X');

  let full: { out: string; json: string; tasks: number; messages: number };
  beforeAll(async () => {
    const r = await run([...LLAMA, '--timeline', 't.json', '--json']);
    expect(r.code).toBe(0);
    const json = String(r.written.get('t.json'));
    const ev = events(json);
    full = { out: r.out, json, tasks: ev.filter((e) => e.pid === 1).length, messages: ev.filter((e) => e.pid === 2).length };
    // with --json the note goes to stderr
    expect(r.err).toMatch(new RegExp(`timeline written to t\\.json .*: ${full.tasks.toLocaleString('en-US')} tile tasks and ${full.messages.toLocaleString('en-US')} NoC messages`));
  }, 120_000);

  test('NoC messages are kept beside tile tasks and the file covers the whole run', () => {
    expect(full.tasks).toBeGreaterThan(1000);
    expect(full.messages).toBeGreaterThan(1000);
    const j = JSON.parse(full.out);
    const endUs = events(full.json).reduce((m, e) => Math.max(m, e.ts + e.dur), 0);
    // the last event ends when the run does (simulated cycles at 1000 MHz, in us)
    expect(endUs).toBeCloseTo(j.run.simulatedCycles / j.design.clockMHz, 0);
    expect(JSON.parse(full.json).otherData).toMatchObject({ truncated: false, droppedTasks: 0, droppedMessages: 0 });
  });

  test('a cap keeps both kinds up to the cut and says what it dropped', async () => {
    const r = await run([...LLAMA, '--timeline', 't.json', '--timeline-max-events', '2000', '--quiet']);
    const ev = events(String(r.written.get('t.json')));
    expect(ev).toHaveLength(2000);
    const tasks = ev.filter((e) => e.pid === 1).length;
    const messages = ev.filter((e) => e.pid === 2).length;
    expect(tasks).toBeGreaterThan(0);
    expect(messages).toBeGreaterThan(0);
    const other = JSON.parse(String(r.written.get('t.json'))).otherData;
    expect(other.droppedTasks).toBe(full.tasks - tasks);
    expect(other.droppedMessages).toBe(full.messages - messages);
    expect(r.out).toMatch(new RegExp(`timeline cap of 2,000 events reached at [\\d.]+ ms: dropped ${other.droppedTasks.toLocaleString('en-US')} tile tasks and ${other.droppedMessages.toLocaleString('en-US')} NoC messages after it; see the rest with --timeline-from`));
    // every written event starts before the cut, every dropped one at or after it
    const cutUs = other.completeToMs * 1000;
    expect(ev.reduce((m, e) => Math.max(m, e.ts), 0)).toBeLessThanOrEqual(cutUs);
  }, 120_000);

  test('--timeline-from/--timeline-to select a window in ms', async () => {
    const r = await run([...LLAMA, '--timeline', 't.json', '--timeline-from', '0.2', '--timeline-to', '0.4', '--quiet']);
    const ev = events(String(r.written.get('t.json')));
    expect(ev.some((e) => e.pid === 2)).toBe(true);
    for (const e of ev) expect(e.ts >= 200 && e.ts < 400).toBe(true);
    expect(r.out).toMatch(/NoC messages from 0\.200-0\.400 ms/);
  }, 120_000);

  test('window options are checked', async () => {
    for (const [args, re] of [
      [['--timeline-from', '1'], /only with --timeline FILE/],
      [['--timeline', 't.json', '--timeline-from', '2', '--timeline-to', '1'], /after --timeline-from/],
      [['--timeline', 't.json', '--timeline-max-events', '0'], /an integer in 1\.\.50000000/],
    ] as [string[], RegExp][]) {
      const r = await run([...TINY, '--trace', 'decode:2@8', ...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err).toMatch(re);
    }
  });
});

describe('reports', () => {
  test('the share of the mapping bound and its cause are always printed, large numbers grouped', async () => {
    const r = await run(['sim', '--design', 'paper-llama-3nm', '--model', 'llama-3.1-8b', '--trace', 'decode:1@512']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/simulated rate is \d+\.\d% of the mapping bound; largest cause of the gap: (arrivals|prefill|tile kernels|network and queueing): /);
    // no run of five or more digits without thousands separators (4589712 cycles -> 4,589,712)
    expect(r.out.replace(/paper-llama-3nm|llama-3\.1-8b/g, '')).not.toMatch(/\d{5,}/);
    // the preset's description, which says where it departs from the paper
    expect(r.out).toMatch(/^design paper-llama-3nm: Llama 3\.1 8B FP16 at 3 nm.*DMEM 128 KiB instead of Table 16's 64 KiB/m);
  }, 60_000);

  test('the HTML report carries the description and the share of the bound', async () => {
    const r = await run(['sim', '--design', 'tiny-2x2', '--model', 'tiny', '--trace', 'decode:2@8', '--html', 'r.html']);
    const html = String(r.written.get('r.html'));
    expect(html).toMatch(/Design tiny-2x2:<\/strong> A 2x2 mesh at 7 nm/);
    expect(html).toMatch(/The simulated rate is [\d.]+% of the mapping bound; largest cause of the gap/);
  });
});

describe('output nits', () => {
  test('--seed abc is an input error (exit 2) on every command with a seed, never seed NaN', async () => {
    for (const args of [[...TINY, '--trace', 'decode:2@8'], ['noc', '--rate', '0.1'], ['validate', 'tiny']]) {
      const r = await run([...args, '--seed', 'abc']);
      expect({ args, code: r.code, out: r.out }).toEqual({ args, code: 2, out: '' });
      expect(r.err).toMatch(/^tessera: command line: --seed = "abc": an integer/);
      expect(r.err).not.toMatch(/NaN/);
    }
    expect((await run([...TINY, '--trace', 'decode:2@8', '--seed', '7', '--json'])).code).toBe(0);
  });

  test('singular and plural: 1 request, 1 step', async () => {
    const r = await run([...TINY, '--trace', 'prefill:8']);
    expect(r.out).toMatch(/, 1 step, 1 token, 1 request\n/);
    expect(r.out).not.toMatch(/\b1 (requests|steps|tokens|regions)\b/);
  });

  test('single-token runs have no inter-token latency: n/a, JSON null', async () => {
    const r = await run([...TINY, '--trace', 'prefill:8']);
    expect(r.out).toMatch(/inter-token p50 \/ p99 +n\/a \(no request generated a second token\)/);
    expect(JSON.parse((await run([...TINY, '--trace', 'prefill:8', '--json'])).out).metrics.itlMs).toBeNull();
  });

  test('generators refuse runaway sizes with a working example', async () => {
    const big = await run(['validate', 'poisson:rate=10,n=10000000,prompt=8,output=8']);
    expect(big.code).toBe(2);
    expect(big.err).toMatch(/n = "10000000": an integer in 1\.\.1,000,000; fix: write e\.g\. n=1000 \(for more requests, write a trace file\)/);
    const image = await run(['validate', 'request:1:1,image=100000x100000']);
    expect(image.err).toMatch(/image width = "100000": an integer in 1\.\.65,536; fix: write e\.g\. image=512x512/);
  });

  test('a config whose hidden size is not divisible by its heads is refused, not given a fractional head_dim', async () => {
    const cfg = JSON.parse(fs.readFileSync('test/fixtures/hf/llama-3.2-1b.config.json', 'utf8'));
    const r = await run(['validate', 'c.json'], { files: { 'c.json': JSON.stringify({ ...cfg, num_attention_heads: 30, num_key_value_heads: 10, head_dim: undefined }) } });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/num_attention_heads = 30: must divide hidden_size \(2048\) when head_dim is not given: 2048 \/ 30 = 68\.27 is not a whole head dimension; fix: give "head_dim"/);
  });
});
