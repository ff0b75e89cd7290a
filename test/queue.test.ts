import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { parseLabelFile } from '../search/label/file.js';
import { runLabels } from '../search/label/run.js';
import { PiscinaRunner } from '../search/label/pool.js';
import type { LabelRecord } from '../search/label/job.js';
import { QueueRunner } from '../search/queue/runner.js';
import { connectionOptions, parseQueueUrl } from '../search/queue/url.js';
import { builtinModel } from '../sim/model/catalog.js';
import { presetDesign } from '../sim/design/presets.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { main } from '../cli/main.js';
import { memoryIo } from '../cli/io.js';
import { copyProject, haveRedis, Proc, SKIP_REDIS, startTestRedis, startTlsRedis, TLS_CERT, type TestRedis } from './queue-helpers.js';

/**
 * Issue 15 on a real Redis (test/queue-helpers.ts): `tessera label --queue` with `tessera
 * worker` processes gives the labels of the local pool, label for label (every field but
 * the wall time and the worker's name), through a worker killed mid-job, a coordinator
 * killed and resumed, a job longer than the lock, workers stopped by signals; workers with
 * other sources are refused; bad URLs and passwords fail in one line and lose nothing.
 */

const COUNT = 4;
const SEED = 5;
const LOCK_MS = 1500;
const run = haveRedis() || !SKIP_REDIS ? describe : describe.skip;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-queue-'));
const host = os.hostname();

let redis: TestRedis;
let reference: ReturnType<typeof strip>[];
const procs: Proc[] = [];

const strip = (l: LabelRecord) => {
  const { wallSeconds: _w, worker: _n, ...rest } = l;
  return rest;
};
const read = (f: string) => parseLabelFile(fs.readFileSync(f), f);
const env = () => ({ ...process.env, TESSERA_REDIS_PASSWORD: redis.password });
const labelArgs = (url: string, out: string, extra: string[] = [], count = COUNT) => ['label', '--queue', url, '--model', 'tiny', '--nodes', '7,28', '--count', String(count), '--seed', String(SEED), '--out', out, '--quiet', ...extra];
function start(args: string[], cwd?: string): Proc {
  const p = new Proc(args, env(), cwd);
  procs.push(p);
  return p;
}
const worker = (url: string, lockMs = LOCK_MS, cwd?: string) => start(['worker', '--queue', url, '--concurrency', '1', '--lock-duration', String(lockMs)], cwd);
const nameOf = (p: Proc) => `${host}:${p.child.pid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Lines `<queue> label i: started` per index, over the given workers' output. */
function starts(queue: string, ws: Proc[]): Map<number, number> {
  const n = new Map<number, number>();
  for (const w of ws) for (const m of w.stdout.matchAll(new RegExp(`${queue} label (\\d+): started`, 'g'))) n.set(Number(m[1]), (n.get(Number(m[1])) ?? 0) + 1);
  return n;
}

beforeAll(async () => {
  if (!haveRedis() && SKIP_REDIS) return;
  redis = await startTestRedis();
  // the reference: the local Piscina pool, same seed
  const out = path.join(dir, 'local.msgpack');
  const runner = new PiscinaRunner(2);
  await runLabels({ out, count: COUNT, resume: false, runner, settings: { modelName: 'tiny', card: builtinModel('tiny')!, nodes: [7, 28], seed: SEED, fidelity: 'fast', workload: 'llm-decode-v2', eventLimit: 50_000_000, tech: DEFAULT_TECH } });
  await runner.close();
  reference = read(out).labels.map(strip);
}, 120_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

run('label --queue with tessera worker processes (db 1)', () => {
  let a: Proc, b: Proc, c: Proc;
  const url = () => redis.url(1);

  test('two workers label a run equal to the local pool, label for label', async () => {
    a = worker(url());
    b = worker(url());
    await Promise.all([a.waitFor(/waiting for runs/), b.waitFor(/waiting for runs/)]);
    const out = path.join(dir, 'two.msgpack');
    // make both workers serve the run (BullMQ may otherwise give one of them all four jobs):
    // a takes a job while b is paused, then a is paused mid-job until b has taken one
    const [fromA, fromB] = [a.stdout.length, b.stdout.length];
    b.child.kill('SIGSTOP');
    const coord = start(labelArgs(url(), out));
    await a.waitFor(/label \d+: started/, 60_000, fromA);
    a.child.kill('SIGSTOP');
    b.child.kill('SIGCONT');
    await b.waitFor(/label \d+: started/, 60_000, fromB);
    a.child.kill('SIGCONT');
    expect(await coord.exited).toEqual({ code: 0, signal: null });
    expect(coord.stdout).toMatch(/4 labels \(4 added by this run.*\) with the queue at redis:\/\/127\.0\.0\.1:\d+\/1 \(2 workers/);
    const r = read(out);
    expect(r.duplicates).toBe(0);
    expect(r.labels.map(strip)).toEqual(reference);
    expect(new Set(r.labels.map((l) => l.worker))).toEqual(new Set([nameOf(a), nameOf(b)]));
  }, 90_000);

  test('a worker killed with SIGKILL mid-job: its job runs again elsewhere, same labels, no duplicates', async () => {
    const out = path.join(dir, 'killed-worker.msgpack');
    const from = a.stdout.length;
    b.child.kill('SIGSTOP'); // b (idle) paused so that a is sure to take a job
    const coord = start(labelArgs(url(), out));
    const [, queue] = await a.waitFor(/(run-\w+) label \d+: started/, 60_000, from);
    a.child.kill('SIGKILL');
    b.child.kill('SIGCONT'); // b reruns a's job once its lock lapses
    expect(await coord.exited).toEqual({ code: 0, signal: null });
    expect(coord.stderr).toMatch(/its worker stopped renewing the job's lock/);
    expect(b.stdout).toMatch(new RegExp(`${queue} label \\d+: started \\(attempt 2`));
    const r = read(out);
    expect(r.duplicates).toBe(0);
    expect(r.labels.map(strip)).toEqual(reference);
  }, 90_000);

  test('the coordinator killed and restarted with --resume: same labels, each simulated once; SIGTERM lets a worker finish its job', async () => {
    // c's lock is long: under heavy load a late renewal of a 1.5 s lock lets BullMQ's stall
    // check hand c's job out again (at-least-once delivery), and this test counts simulations
    c = worker(url(), 4 * LOCK_MS);
    await c.waitFor(/waiting for runs/);
    const out = path.join(dir, 'killed-coordinator.msgpack');
    const [fromB, fromC] = [b.stdout.length, c.stdout.length];
    // worker b is paused (it holds no job now) so that c is sure to be running a job when the
    // coordinator dies; otherwise b may take every remaining job and c never starts one
    b.child.kill('SIGSTOP');
    const coord = start(labelArgs(url(), out));
    const labelsIn = (f: string) => {
      try {
        return read(f).labels.length;
      } catch {
        return 0; // the header is being written
      }
    };
    for (let t0 = Date.now(); labelsIn(out) < 1; ) {
      if (Date.now() - t0 > 60_000) throw new Error('no label arrived');
      await sleep(20);
    }
    coord.child.kill('SIGKILL');
    await coord.exited;
    // worker c, asked to stop in the middle of a job, finishes it first
    const [, queue] = await c.waitFor(/(run-\w+) label \d+: started/, 60_000, fromC);
    c.child.kill('SIGTERM');
    expect(await c.exited).toEqual({ code: 0, signal: null });
    expect(c.stdout.slice(fromC)).toMatch(/SIGTERM: finishing 1 job in flight[\s\S]*label \d+: ok[\s\S]*tessera worker: stopped/);
    b.child.kill('SIGCONT');
    const resumed = start([...labelArgs(url(), out), '--resume']);
    expect(await resumed.exited).toEqual({ code: 0, signal: null });
    const r = read(out);
    expect(r.duplicates).toBe(0);
    expect(r.labels.map(strip)).toEqual(reference);
    // labels finished while no coordinator listened were collected, not simulated again
    const once = starts(queue, [{ stdout: b.stdout.slice(fromB) } as Proc, { stdout: c.stdout.slice(fromC) } as Proc]);
    expect([...once.entries()].sort((x, y) => x[0] - y[0])).toEqual(Array.from({ length: COUNT }, (_, i) => [i, 1]));
    // a finished run leaves nothing in Redis
    const client = new Redis({ host: redis.host, port: redis.port, password: redis.password, db: 1 });
    try {
      let keys: string[] = [];
      for (let t0 = Date.now(); Date.now() - t0 < 10_000; await sleep(200)) {
        keys = [...(await client.keys(`tessera:${queue}*`)), ...(await client.hkeys('tessera:runs'))];
        if (keys.length === 0) break;
      }
      expect(keys).toEqual([]);
    } finally {
      client.disconnect();
    }
  }, 120_000);

  test('a second SIGTERM returns the job in flight to the queue; another worker runs it', async () => {
    const d = worker(url());
    await d.waitFor(/waiting for runs/);
    const out = path.join(dir, 'returned.msgpack');
    const fromD = d.stdout.length;
    b.child.kill('SIGSTOP'); // b (idle) paused so that d is sure to take a job
    const coord = start(labelArgs(url(), out));
    await d.waitFor(/label \d+: started/, 60_000, fromD);
    d.child.kill('SIGTERM');
    await d.waitFor(/SIGTERM: finishing 1 job/, 10_000, fromD);
    d.child.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    b.child.kill('SIGCONT'); // b runs the returned job and the rest
    expect(d.stdout.slice(fromD)).toMatch(/SIGTERM again: returning 1 job to the queue[\s\S]*label (\d+): returned to the queue[\s\S]*stopped/);
    expect(await coord.exited).toEqual({ code: 0, signal: null });
    const r = read(out);
    expect(r.duplicates).toBe(0);
    expect(r.labels.map(strip)).toEqual(reference);
    // an idle worker stops at once
    b.child.kill('SIGINT');
    expect(await b.exited).toEqual({ code: 0, signal: null });
    expect(b.stdout).toMatch(/SIGINT: stopping\ntessera worker: stopped/);
  }, 90_000);
});

run('a job longer than the lock (db 3)', () => {
  test('completes once: the worker renews the lock while a thread simulates; Redis traffic only to the given address', async () => {
    const lockMs = 1000;
    const w = worker(redis.url(3), lockMs);
    await w.waitFor(/waiting for runs/);
    const seen = new Set<string>();
    const connect = net.Socket.prototype.connect;
    net.Socket.prototype.connect = function (this: net.Socket, ...args: any[]) {
      // net.connect passes its normalised arguments as one array
      const o = Array.isArray(args[0]) ? args[0][0] : args[0];
      seen.add(typeof o === 'object' ? `${o.host ?? 'localhost'}:${o.port ?? o.path}` : `${args[1] ?? 'localhost'}:${o}`);
      return (connect as any).apply(this, args);
    } as any;
    const runner = await QueueRunner.open(parseQueueUrl(redis.url(3), env()));
    try {
      const card = builtinModel('tiny')!;
      // a 41x42 mesh at flit fidelity: seconds of simulation, several lock periods
      const label = await runner.submit({ runId: 'long-job', index: 0, settings: { modelName: 'tiny', card, nodes: [3], seed: 1, fidelity: 'flit', workload: 'llm-decode-v2', eventLimit: 50_000_000, tech: DEFAULT_TECH }, design: presetDesign('paper-llama-3nm')! });
      expect(label.status).toBe('ok');
      expect(label.wallSeconds * 1000).toBeGreaterThan(lockMs);
      expect(runner.stalled).toBe(0);
      expect(w.stdout.match(/label 0: started/g)).toHaveLength(1);
      expect(w.stdout).not.toMatch(/attempt 2/);
    } finally {
      await runner.close();
      net.Socket.prototype.connect = connect;
    }
    expect([...seen]).toEqual([`127.0.0.1:${redis.port}`]);
  }, 120_000);
});

run('workers with other sources are refused (db 4)', () => {
  test('one byte of search/ or another space version: one line on the worker and the coordinator, nothing run; a matching worker then finishes', async () => {
    const root = process.cwd();
    const byte = copyProject(root, (d) => fs.appendFileSync(path.join(d, 'search', 'sampler.ts'), ' '));
    const space = copyProject(root, (d) => {
      const f = path.join(d, 'search', 'space.ts');
      fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('`space-1.${', '`space-0.${'));
    });
    const url = redis.url(4);
    const bad = [worker(url, LOCK_MS, byte), worker(url, LOCK_MS, space)];
    await Promise.all(bad.map((w) => w.waitFor(/waiting for runs/)));
    const out = path.join(dir, 'refused.msgpack');
    const coord = start(labelArgs(url, out, [], 2));
    for (let t0 = Date.now(); (coord.stderr.match(/refused this run/g) ?? []).length < 2; await sleep(50)) {
      if (Date.now() - t0 > 30_000) throw new Error(`no refusals reported: ${coord.stderr}`);
    }
    const refusals = coord.stderr.split('\n').filter((l) => /refused this run/.test(l));
    expect(refusals.find((l) => l.includes(nameOf(bad[0])))).toMatch(/^tessera: worker \S+ refused this run: its code version code-\w+ differs from this worker's code-\w+ .*; fix: /);
    expect(refusals.find((l) => l.includes(nameOf(bad[1])))).toMatch(/^tessera: worker \S+ refused this run: its space version space-1\.\w+ differs from this worker's space-0\.\w+; fix: /);
    for (const w of bad) {
      expect(w.stderr.trim().split('\n')).toHaveLength(1);
      expect(w.stderr).toMatch(/^tessera worker: refusing run run-\w+ .*differs from this worker's .*; fix: /);
      expect(w.stdout).not.toMatch(/started/);
    }
    const good = worker(url);
    expect(await coord.exited).toEqual({ code: 0, signal: null });
    expect(read(out).labels.map(strip)).toEqual(reference.slice(0, 2));
    expect(new Set(read(out).labels.map((l) => l.worker))).toEqual(new Set([nameOf(good)]));
    for (const d of [byte, space]) fs.rmSync(d, { recursive: true, force: true });
  }, 120_000);
});

run('a simulator error is a failed label, not a retry loop (db 5)', () => {
  test('labels over the event limit fail once, as in the local pool', async () => {
    const limit = 300;
    const local = path.join(dir, 'limit-local.msgpack');
    const pool = new PiscinaRunner(1);
    await runLabels({ out: local, count: COUNT, resume: false, runner: pool, settings: { modelName: 'tiny', card: builtinModel('tiny')!, nodes: [7, 28], seed: SEED, fidelity: 'fast', workload: 'llm-decode-v2', eventLimit: limit, tech: DEFAULT_TECH } });
    await pool.close();
    const expected = read(local).labels.map(strip);
    expect(expected.filter((l) => l.status === 'failed').length).toBeGreaterThan(0);
    const w = worker(redis.url(5));
    await w.waitFor(/waiting for runs/);
    const out = path.join(dir, 'limit-queue.msgpack');
    const coord = start(labelArgs(redis.url(5), out, ['--event-limit', String(limit)]));
    expect(await coord.exited).toEqual({ code: 0, signal: null });
    expect(read(out).labels.map(strip)).toEqual(expected);
    const queue = /(run-\w+) label/.exec(w.stdout)![1];
    expect([...starts(queue, [w]).entries()].sort((x, y) => x[0] - y[0])).toEqual(Array.from({ length: COUNT }, (_, i) => [i, 1]));
    expect(w.stdout).toMatch(/label \d+: failed/);
    expect(w.stderr).toBe('');
  }, 90_000);
});

run('rediss:// (TLS) is passed through to the client (a redis-server with --tls-port only)', () => {
  let tls: TestRedis;
  beforeAll(async () => {
    tls = await startTlsRedis();
  }, 30_000);
  afterAll(async () => {
    await tls?.stop();
  });
  const tlsEnv = (trust: boolean) => ({ ...process.env, TESSERA_REDIS_PASSWORD: tls.password, ...(trust ? { NODE_EXTRA_CA_CERTS: TLS_CERT } : {}) });

  test('a worker and a coordinator over TLS label as the local pool does; nothing else on stderr', async () => {
    const w = new Proc(['worker', '--queue', tls.url(0), '--concurrency', '1'], tlsEnv(true));
    procs.push(w);
    await w.waitFor(/queue rediss:\/\/127\.0\.0\.1:\d+\/0.*waiting for runs/);
    const out = path.join(dir, 'tls.msgpack');
    const coord = new Proc(labelArgs(tls.url(0), out, [], 2), tlsEnv(true));
    procs.push(coord);
    expect(await coord.exited).toEqual({ code: 0, signal: null });
    expect(coord.stderr).toBe('');
    expect(read(out).labels.map(strip)).toEqual(reference.slice(0, 2));
    expect(w.stderr).toBe('');
  }, 90_000);

  test('a certificate this machine does not trust: one line naming the URL and the fix, nothing written', async () => {
    const out = path.join(dir, 'tls-untrusted.msgpack');
    const coord = new Proc(labelArgs(tls.url(0), out, [], 2), tlsEnv(false));
    procs.push(coord);
    expect(await coord.exited).toEqual({ code: 2, signal: null });
    expect(coord.stderr.trim().split('\n')).toHaveLength(1);
    expect(coord.stderr).toMatch(/^tessera: --queue: queue = "rediss:\/\/127\.0\.0\.1:\d+\/0": the server's TLS certificate is not trusted for 127\.0\.0\.1 \(DEPTH_ZERO_SELF_SIGNED_CERT\); fix: give Node the CA that signed it \(NODE_EXTRA_CA_CERTS=/);
    expect(fs.existsSync(out)).toBe(false);
  }, 60_000);
});

run('bad queue input: one line naming the URL and a fix, nothing written lost', () => {
  let out: string;
  let before: Buffer;
  beforeAll(() => {
    out = path.join(dir, 'kept.msgpack');
    fs.copyFileSync(path.join(dir, 'local.msgpack'), out);
    before = fs.readFileSync(out);
  });
  /** Run the CLI in this process (`main`, as bin/tessera.mjs does) with TESSERA_REDIS_PASSWORD set as given. */
  const fails = async (args: string[], re: RegExp, password: string | null = redis.password) => {
    const saved = process.env.TESSERA_REDIS_PASSWORD;
    if (password === null) delete process.env.TESSERA_REDIS_PASSWORD;
    else process.env.TESSERA_REDIS_PASSWORD = password;
    const io = memoryIo();
    try {
      expect(await main(args, io)).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.TESSERA_REDIS_PASSWORD;
      else process.env.TESSERA_REDIS_PASSWORD = saved;
    }
    expect(io.err.trim().split('\n')).toHaveLength(1);
    expect(io.err).toMatch(re);
    expect(fs.readFileSync(out).equals(before)).toBe(true);
  };

  test('an unreachable URL (label and worker)', async () => {
    const closed = `redis://127.0.0.1:${redis.port === 1 ? 2 : 1}/0`;
    await fails([...labelArgs(closed, out, ['--resume'], 8)], /^tessera: --queue: queue = "redis:\/\/127\.0\.0\.1:1\/0": cannot connect: nothing listens on 127\.0\.0\.1:1 \(connection refused\); fix: start redis-server there/);
    await fails(['worker', '--queue', closed], /^tessera: --queue: queue = "redis:\/\/127\.0\.0\.1:1\/0": cannot connect/);
  }, 60_000);

  test('a wrong password, in the URL or in TESSERA_REDIS_PASSWORD (never printed)', async () => {
    const wrong = `redis://:not-it@127.0.0.1:${redis.port}/1`;
    await fails([...labelArgs(wrong, out, ['--resume'], 8)], /^tessera: --queue: queue = "redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/1": the server refused the password in the URL \(WRONGPASS\); fix: set TESSERA_REDIS_PASSWORD/);
    await fails(['worker', '--queue', redis.url(1)], /the server refused the password in TESSERA_REDIS_PASSWORD \(WRONGPASS\)/, 'not-it');
    await fails(['worker', '--queue', redis.url(1)], /the server needs a password and none was given \(NOAUTH\)/, null);
  }, 60_000);

  test('a malformed URL, and --workers beside --queue', async () => {
    await fails([...labelArgs('http://127.0.0.1:6379', out, ['--resume'])], /^tessera: --queue: queue = "http:\/\/127\.0\.0\.1:6379": unsupported scheme http; expected a Redis URL/);
    await fails([...labelArgs(redis.url(1), out, ['--resume', '--workers', '2'])], /^tessera: --workers: workers = 2: sets threads on this machine and has no effect with --queue; fix: /);
  }, 60_000);
});

describe('queue URLs', () => {
  test('host, port, database, TLS and the password from the URL or the environment', () => {
    expect(parseQueueUrl('redis://10.0.0.5:6380/2', {})).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2, tls: false, password: undefined, passwordFrom: 'none', display: 'redis://10.0.0.5:6380/2' });
    expect(parseQueueUrl('rediss://cache.lab:6390', {})).toMatchObject({ host: 'cache.lab', port: 6390, db: 0, tls: true, display: 'rediss://cache.lab:6390/0' });
    expect(parseQueueUrl('redis://:s%40cret@h:1/0', { TESSERA_REDIS_PASSWORD: 'env' })).toMatchObject({ password: 's@cret', passwordFrom: 'url', display: 'redis://:***@h:1/0' });
    expect(parseQueueUrl('redis://alice:pw@h/0', {})).toMatchObject({ username: 'alice', password: 'pw', port: 6379, display: 'redis://alice:***@h:6379/0' });
    expect(parseQueueUrl('redis://h:1', { TESSERA_REDIS_PASSWORD: 'env' })).toMatchObject({ password: 'env', passwordFrom: 'env' });
    expect(() => parseQueueUrl('redis://h:1/x', {})).toThrow(/the database \/x is not a whole number/);
    expect(() => parseQueueUrl('h:6379', {})).toThrow(/unsupported scheme h/);
    expect(() => parseQueueUrl('redis://:secret@h:1/x', {})).toThrow(/redis:\/\/:\*\*\*@h:1\/x/);
     // TLS options reach the client: SNI names a host name, never an IP address (RFC 6066)
    expect(connectionOptions(parseQueueUrl('rediss://cache.lab:6390', {})).tls).toEqual({ servername: 'cache.lab' });
    expect(connectionOptions(parseQueueUrl('rediss://10.0.0.5:6390', {})).tls).toEqual({});
    expect(connectionOptions(parseQueueUrl('redis://cache.lab:6390', {})).tls).toBeUndefined();
  });
});
