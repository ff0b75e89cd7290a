import { memoryIo } from '../cli/io.js';
import { createProgress, formatDuration } from '../cli/progress.js';

function clockIo(tty: boolean) {
  const io = memoryIo();
  let t = 0;
  const withClock = Object.assign(io, { stderrIsTTY: tty, now: () => t });
  return { io: withClock, advance: (ms: number) => (t += ms) };
}

describe('progress on stderr', () => {
  test('plain lines off a terminal: start, every interval, end; never stdout', () => {
    const { io, advance } = clockIo(false);
    const p = createProgress(io, { label: 'labelling', total: 10, unit: 'designs', intervalMs: 1000 });
    advance(500);
    p.tick(); // within the interval: no line
    advance(600);
    p.tick(1, 'feasible 2'); // 1.1 s: a line, 2 done at 2/1.1 s
    advance(2200);
    p.update(8);
    p.finish('feasible 7, failed 1');
    const lines = io.err.trim().split('\n');
    expect(io.out).toBe('');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('labelling: 0/10 designs (0%), -/s');
    expect(lines[1]).toBe('labelling: 2/10 designs (20%), 1.8/s, ETA 4 s, feasible 2');
    expect(lines[2]).toBe('labelling: 8/10 designs (80%), 2.4/s, ETA 1 s, feasible 2');
    expect(lines[3]).toBe('labelling: 8/10 designs (80%), 2.4/s, 3 s, feasible 7, failed 1');
  });

  test('a terminal gets one line redrawn in place', () => {
    const { io, advance } = clockIo(true);
    const p = createProgress(io, { label: 'sim', total: 4 });
    for (let i = 0; i < 4; i++) {
      advance(200);
      p.tick();
    }
    p.finish();
    expect(io.err.split('\r\x1b[2K').length).toBe(1 + 1 + 4 + 1);
    expect(io.err.endsWith('\n')).toBe(true);
    expect(io.err.split('\n')).toHaveLength(2);
  });

  test('quiet prints nothing', () => {
    const { io } = clockIo(true);
    const p = createProgress(io, { label: 'x', total: 3, quiet: true });
    p.tick();
    p.finish();
    expect(io.err).toBe('');
  });

  test('durations', () => {
    expect(formatDuration(4.4)).toBe('4 s');
    expect(formatDuration(245)).toBe('4 min 05 s');
    expect(formatDuration(3720)).toBe('1 h 02 min');
    expect(formatDuration(Infinity)).toBe('?');
  });
});

describe('progress with a start delay', () => {
  test('work that ends within the delay prints nothing; longer work starts printing after it', () => {
    const quick = clockIo(false);
    const q = createProgress(quick.io, { label: 'sim', total: 10, delayMs: 1000 });
    quick.advance(900);
    q.update(10);
    q.finish();
    expect(quick.io.err).toBe('');

    const slow = clockIo(false);
    const p = createProgress(slow.io, { label: 'sim', total: 10, unit: 'tokens', delayMs: 1000, intervalMs: 5000 });
    slow.advance(500);
    p.update(1);
    expect(slow.io.err).toBe('');
    slow.advance(700);
    p.update(2.5, 'point 3');
    slow.advance(1000);
    p.update(4); // within the interval after the first line
    p.finish();
    expect(slow.io.err.trim().split('\n')).toEqual(['sim: 2.5/10 tokens (25%), 2.1/s, ETA 4 s, point 3', 'sim: 4/10 tokens (40%), 1.8/s, 2 s, point 3']);
  });
});
