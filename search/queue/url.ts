import { isIP } from 'node:net';
import { InputError } from '../../sim/validate/inputError.js';

/**
 * Where the job queue lives: `--queue redis://[USER:PASSWORD@]HOST:PORT[/DB]` or
 * `rediss://...` (TLS, passed through to the client). The password comes from the URL or,
 * when the URL has none, from the environment variable TESSERA_REDIS_PASSWORD, so it need
 * not appear in `ps` output or shell history. Every connection Tessera makes goes to this
 * one address: no cluster discovery, no sentinels, no default host.
 */

export const PASSWORD_ENV = 'TESSERA_REDIS_PASSWORD';
export const DEFAULT_REDIS_PORT = 6379;

export interface QueueTarget {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
  /** Where the password came from, for messages. */
  readonly passwordFrom: 'url' | 'env' | 'none';
  /** The URL as the user gave it, password replaced by `***`, for every message. */
  readonly display: string;
}

const FORM = 'a Redis URL: redis://HOST:PORT[/DB] or rediss://HOST:PORT[/DB] (TLS), password in the URL (redis://:PASSWORD@HOST:PORT) or in TESSERA_REDIS_PASSWORD';

/** Parse `--queue`; throws an InputError naming the flag, the value and the accepted form. */
export function parseQueueUrl(text: string, env: NodeJS.ProcessEnv = process.env): QueueTarget {
  const bad = (why: string, fix = 'e.g. --queue redis://10.0.0.5:6379') => new InputError('--queue', 'queue', redactText(text), `${why}; expected ${FORM}`, fix);
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw bad('not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw bad(`unsupported scheme ${u.protocol.replace(/:$/, '')}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw bad('no host');
  const port = u.port === '' ? DEFAULT_REDIS_PORT : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!/^\d*$/.test(dbText) || !Number.isSafeInteger(db)) throw bad(`the database /${dbText} is not a whole number`, 'e.g. redis://HOST:6379/0');
  if (u.search || u.hash) throw bad('query strings and fragments are not used');
  const urlPassword = u.password ? decodeURIComponent(u.password) : undefined;
  const envPassword = env[PASSWORD_ENV] || undefined;
  const password = urlPassword ?? envPassword;
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const auth = u.username ? `${u.username}${u.password ? ':***' : ''}@` : u.password ? ':***@' : '';
  const display = `${u.protocol}//${auth}${u.hostname}:${port}/${db}`;
  return { host, port, db, tls: u.protocol === 'rediss:', username, password, passwordFrom: urlPassword !== undefined ? 'url' : envPassword !== undefined ? 'env' : 'none', display };
}

/** A URL-ish text with any password replaced by `***` (for messages about unparsable input). */
function redactText(text: string): string {
  return text.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}

/**
 * Connection options for ioredis (and BullMQ, which passes them on): this address only.
 * Commands wait while the client reconnects (a Redis restart or a network blip pauses the
 * run instead of failing it); `connect.ts` checks the address before any of this is used.
 */
export function connectionOptions(t: QueueTarget) {
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    username: t.username,
    password: t.password,
    // `rediss://`: TLS to the same host, certificate checked against it (ioredis passes
    // these options to tls.connect; a private CA comes from NODE_EXTRA_CA_CERTS). SNI names
    // a host name only: RFC 6066 forbids an IP address there (Node warns, DEP0123).
    tls: t.tls ? (isIP(t.host) ? {} : { servername: t.host }) : undefined,
    connectTimeout: 10_000,
    // BullMQ's blocking worker connections require this to be null
    maxRetriesPerRequest: null,
    // reconnect with back-off up to 5 s between attempts
    retryStrategy: (times: number) => Math.min(200 * times, 5_000),
  };
}
