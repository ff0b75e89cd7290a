import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/**
 * A real Redis for the queue tests (no mock of Redis or BullMQ):
 *
 * - TESSERA_TEST_REDIS=redis://:PASSWORD@127.0.0.1:PORT names a server to use (`.ci/run`
 *   starts one on a loopback port with a password and stops it after the suite);
 * - otherwise the tests start their own `redis-server` (Debian's package, which `.ci/run`
 *   installs) on a free loopback port with a random password, and stop it;
 * - with neither, the tests fail with the fix, unless TESSERA_SKIP_REDIS=1 skips them.
 *
 * Each test file uses its own database numbers, so runs never meet across files.
 */

export const SKIP_REDIS = process.env.TESSERA_SKIP_REDIS === '1';

export function redisServerBinary(): string | undefined {
  const candidates = [process.env.TESSERA_REDIS_SERVER, '/usr/bin/redis-server', '/usr/sbin/redis-server', '/usr/local/bin/redis-server'];
  const found = candidates.find((c) => c && fs.existsSync(c));
  if (found) return found;
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

export const haveRedis = () => process.env.TESSERA_TEST_REDIS !== undefined || redisServerBinary() !== undefined;

export interface TestRedis {
  readonly host: string;
  readonly port: number;
  readonly password: string;
  /** redis://127.0.0.1:PORT/DB: the password travels in TESSERA_REDIS_PASSWORD. */
  url(db: number): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function ping(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, host);
    sock.once('connect', () => {
      sock.end('PING\r\n');
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export async function startTestRedis(): Promise<TestRedis> {
  const given = process.env.TESSERA_TEST_REDIS;
  if (given !== undefined) {
    const u = new URL(given);
    const password = decodeURIComponent(u.password);
    if (!password) throw new Error('TESSERA_TEST_REDIS must carry a password (redis://:PASSWORD@HOST:PORT): the wrong-password test needs one');
    return { host: u.hostname, port: Number(u.port), password, url: (db) => `redis://${u.hostname}:${u.port}/${db}`, stop: async () => {} };
  }
  const password = randomBytes(12).toString('hex');
  const { port, stop } = await spawnRedis(password, false);
  return { host: '127.0.0.1', port, password, url: (db) => `redis://127.0.0.1:${port}/${db}`, stop };
}

/** The test certificate (self-signed for IP 127.0.0.1, test/fixtures/tls): the CA to trust, by NODE_EXTRA_CA_CERTS. */
export const TLS_CERT = path.join(process.cwd(), 'test', 'fixtures', 'tls', 'cert.pem');

/** A redis-server of its own with TLS only (`--tls-port`, no plain port), for rediss:// URLs. */
export async function startTlsRedis(): Promise<TestRedis> {
  const password = randomBytes(12).toString('hex');
  const { port, stop } = await spawnRedis(password, true);
  return { host: '127.0.0.1', port, password, url: (db) => `rediss://127.0.0.1:${port}/${db}`, stop };
}

async function spawnRedis(password: string, tls: boolean): Promise<{ port: number; stop: () => Promise<void> }> {
  const bin = redisServerBinary();
  if (!bin) throw new Error('redis-server not found: install Debian\'s redis-server (apt-get install redis-server, as .ci/run does), set TESSERA_TEST_REDIS to a server, or TESSERA_SKIP_REDIS=1 to skip the queue tests');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-redis-'));
  const listen = tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', TLS_CERT, '--tls-key-file', path.join(path.dirname(TLS_CERT), 'key.pem'), '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const child = spawn(bin, [...listen, '--bind', '127.0.0.1', '--requirepass', password, '--save', '', '--appendonly', 'no', '--dir', dir, '--databases', '16'], { stdio: 'ignore' });
  const t0 = Date.now();
  while (!(await ping('127.0.0.1', port))) {
    if (child.exitCode !== null || Date.now() - t0 > 10_000) throw new Error(`redis-server (${bin}) did not start on 127.0.0.1:${port}${tls ? ' with TLS' : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        fs.rmSync(dir, { recursive: true, force: true });
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A `tessera` child process whose output is collected, with waits on it. */
export class Proc {
  stdout = '';
  stderr = '';
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv, cwd = process.cwd()) {
    this.child = spawn('node', [path.join(cwd, 'bin/tessera.mjs'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.stdout += d));
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolve once stdout matches (checked every 20 ms), fail after `ms` or if the process ends first. */
  async waitFor(re: RegExp, ms = 60_000, from = 0): Promise<RegExpMatchArray> {
    const t0 = Date.now();
    for (;;) {
      const m = this.stdout.slice(from).match(re);
      if (m) return m;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`process ended before printing ${re}: ${this.stdout}\n${this.stderr}`);
      if (Date.now() - t0 > ms) throw new Error(`no ${re} within ${ms} ms: ${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * A copy of the project's sources (node_modules linked) with `edit` applied and then built:
 * a machine whose checkout differs from the coordinator's.
 */
export function copyProject(root: string, edit: (dir: string) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-copy-'));
  for (const name of ['bin', 'cli', 'search', 'sim', 'models', 'traces', 'package.json', 'package-lock.json', 'tsconfig.json']) {
    fs.cpSync(path.join(root, name), path.join(dir, name), { recursive: true });
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  edit(dir);
  // its own dist/, as `npm ci` makes one: worker threads start from JavaScript, not through tsx
  const built = spawnSync('node', [path.join(dir, 'bin', 'build.mjs'), '--quiet'], { cwd: dir, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building the copy failed: ${built.stderr}`);
  return dir;
}
