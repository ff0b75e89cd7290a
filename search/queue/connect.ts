import { Redis } from 'ioredis';
import { InputError } from '../../sim/validate/inputError.js';
import { connectionOptions, PASSWORD_ENV, type QueueTarget } from './url.js';

/**
 * Check the queue's Redis once, failing fast (no retries), and turn what went wrong into a
 * one-line InputError naming the URL and a fix: nothing unreachable, no wrong password, no
 * server older than BullMQ needs gets as far as starting a run or a worker.
 */

/** The oldest Redis that BullMQ supports. */
const MIN_REDIS_MAJOR = 5;

/** Connect, authenticate and read the server's version; returns the version. */
export async function probeServer(target: QueueTarget, timeoutMs = 10_000): Promise<string> {
  const errors: Error[] = [];
  const client = new Redis({ ...connectionOptions(target), lazyConnect: true, connectTimeout: timeoutMs, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false,
    // a socket that already failed never reports closing again: do not wait 2 s for it
    disconnectTimeout: 100 });
  client.on('error', (e: Error) => errors.push(e));
  try {
    await client.connect();
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '0';
    if (Number(version.split('.')[0]) < MIN_REDIS_MAJOR) {
      throw fail(target, `the server runs Redis ${version}; BullMQ needs Redis ${MIN_REDIS_MAJOR} or newer`, 'upgrade redis-server (Debian 12 ships 7.0)');
    }
    return version;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw explain(target, errors.at(-1) ?? (e as Error));
  } finally {
    client.disconnect();
  }
}

/** A client for the run registry: reconnects with back-off, like BullMQ's own connections. */
export function openClient(target: QueueTarget, name: string): Redis {
  const client = new Redis({ ...connectionOptions(target), connectionName: name });
  // connection trouble after the probe pauses commands until Redis is back; the owner
  // reports lasting trouble, so the event is never unhandled
  client.on('error', () => {});
  return client;
}

function fail(t: QueueTarget, what: string, fix: string): InputError {
  return new InputError('--queue', 'queue', t.display, what, fix);
}

/** tls.connect's codes for a certificate this machine does not trust or that names another host. */
const TLS_TRUST = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/** What a connection error means for the user, and what to do about it. */
export function explain(t: QueueTarget, e: Error): InputError {
  const code = (e as NodeJS.ErrnoException).code;
  const msg = e.message ?? String(e);
  const where = `${t.host}:${t.port}`;
  if (/WRONGPASS|invalid password|invalid username-password/i.test(msg)) {
    const from = t.passwordFrom === 'url' ? 'the password in the URL' : t.passwordFrom === 'env' ? `the password in ${PASSWORD_ENV}` : 'no password';
    return fail(t, `the server refused ${from} (WRONGPASS)`, `set ${PASSWORD_ENV} to the server's requirepass, or put it in the URL (redis://:PASSWORD@${where})`);
  }
  if (/NOAUTH/i.test(msg)) return fail(t, 'the server needs a password and none was given (NOAUTH)', `set ${PASSWORD_ENV} to the server's requirepass, or put it in the URL (redis://:PASSWORD@${where})`);
  if (code === 'ECONNREFUSED') return fail(t, `cannot connect: nothing listens on ${where} (connection refused)`, `start redis-server there (README "Past one machine") or correct the host and port`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return fail(t, `cannot connect: the host name ${t.host} does not resolve (${code})`, 'correct the host, or give its IP address');
  if (code === 'ETIMEDOUT' || /timed? ?out/i.test(msg)) {
    return fail(t, `cannot connect: ${where} did not answer in time${t.tls ? ' (a rediss:// URL needs a server with TLS enabled on that port)' : ''}`, 'check the address, that redis-server binds to an interface this machine can reach, and the firewall');
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return fail(t, `cannot connect: no route to ${where} (${code})`, 'check the address and the network');
  if (t.tls && (TLS_TRUST.has(code ?? '') || /certificate/i.test(msg))) {
    return fail(t, `the server's TLS certificate is not trusted for ${t.host} (${code ?? msg.slice(0, 80)})`, `give Node the CA that signed it (NODE_EXTRA_CA_CERTS=/path/ca.pem), or use a certificate issued for ${t.host}`);
  }
  if (/RESP|Protocol error|wrong version number|EPROTO/i.test(msg)) {
    return fail(t, `${where} does not answer as a Redis server${t.tls ? ' over TLS' : ''} (${msg.slice(0, 80)})`, t.tls ? 'use redis:// if the server has no TLS port' : 'check the port (and use rediss:// for a TLS port)');
  }
  return fail(t, `cannot use the server: ${msg.slice(0, 160)}`, 'check the URL and that redis-server is running there');
}
