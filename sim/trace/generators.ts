import { Rng } from '../random/rng.js';
import { InputError } from '../validate/inputError.js';
import { parseInput } from '../validate/zod.js';
import { TraceSchema, type Trace, type TraceImage } from './trace.js';

/**
 * Synthetic traces a user can name on the command line (README "Traces"):
 *
 *   decode:N@C          one request whose C-token context is already in the KV cache
 *                       (prefill not simulated), then N generated tokens
 *   decode:N@CxB        B such requests, all arriving at t = 0, decoding together
 *   prefill:P           one request of P prompt tokens and one output token
 *   request:P:N         one request of P prompt tokens and N output tokens
 *   poisson:rate=R,n=K,prompt=DIST,output=DIST
 *                       K requests with exponential inter-arrival times at R requests/s
 *
 * Any of them takes `,image=WxH` (repeatable) to attach images to each request, and
 * poisson takes `,seed=S` (default: the run's --seed). DIST is `V` or `fixed(V)`,
 * `uniform(A,B)` (integers, inclusive), `exp(MEAN)`, `lognormal(MEDIAN,SIGMA)`; draws are
 * rounded and at least 1.
 */

export const GENERATOR_KINDS = ['decode', 'prefill', 'request', 'poisson'] as const;

export function isGeneratorSpec(spec: string): boolean {
  return GENERATOR_KINDS.some((k) => spec.startsWith(`${k}:`));
}

const MAX_TOKENS = 16777216;
/** Most requests a generator makes: beyond this, generating alone takes seconds and serving days; use a trace file. */
const MAX_REQUESTS = 1_000_000;

function fail(spec: string, field: string, value: unknown, allowed: string, fix: string): never {
  throw new InputError(spec, field, value, allowed, fix);
}

/** A working example for each counted field, for the fix text of an error. */
const EXAMPLES: Readonly<Record<string, string>> = {
  N: 'decode:128@512 or request:512:128',
  C: 'decode:128@512',
  B: 'decode:128@512x4',
  P: 'prefill:512 or request:512:128',
  n: 'n=1000',
  seed: 'seed=1',
  'image width': 'image=512x512',
  'image height': 'image=512x512',
};

function count(spec: string, field: string, text: string, min: number, max: number): number {
  const v = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(v) || v < min || v > max) {
    const example = EXAMPLES[field] ?? `${field}=${Math.min(max, Math.max(min, 128))}`;
    fail(spec, field, text, `an integer in ${min.toLocaleString('en-US')}..${max.toLocaleString('en-US')}`, `write e.g. ${example}${field === 'n' && v > max ? ' (for more requests, write a trace file)' : ''}`);
  }
  return v;
}

type Dist = (rng: Rng) => number;

function parseDist(spec: string, field: string, text: string): Dist {
  const num = (s: string) => {
    const v = Number(s);
    if (s.trim() === '' || !Number.isFinite(v)) fail(spec, field, text, 'a number', 'e.g. uniform(64,512)');
    return v;
  };
  const clamp = (x: number) => Math.min(MAX_TOKENS, Math.max(1, Math.round(x)));
  if (/^\d+$/.test(text)) {
    const v = count(spec, field, text, 1, MAX_TOKENS);
    return () => v;
  }
  const m = /^(fixed|uniform|exp|lognormal)\(([^)]*)\)$/.exec(text);
  if (!m) fail(spec, field, text, 'V, fixed(V), uniform(A,B), exp(MEAN) or lognormal(MEDIAN,SIGMA)', 'e.g. prompt=uniform(64,512)');
  const args = m[2].split(',').map(num);
  const want = (n: number) => {
    if (args.length !== n) fail(spec, field, text, `${m[1]} takes ${n} argument(s)`, `e.g. ${m[1]}(${n === 1 ? '128' : '64,512'})`);
  };
  switch (m[1]) {
    case 'fixed': {
      want(1);
      const v = clamp(args[0]);
      return () => v;
    }
    case 'uniform': {
      want(2);
      const [a, b] = args.map(clamp);
      if (a > b) fail(spec, field, text, 'uniform(A,B) needs A <= B', 'swap the bounds');
      return (rng) => rng.int(a, b);
    }
    case 'exp': {
      want(1);
      if (args[0] <= 0) fail(spec, field, text, 'exp(MEAN) needs MEAN > 0', 'use a positive mean');
      return (rng) => clamp(rng.exponential(args[0]));
    }
    default: {
      want(2);
      if (args[0] <= 0 || args[1] < 0) fail(spec, field, text, 'lognormal(MEDIAN,SIGMA) needs MEDIAN > 0 and SIGMA >= 0', 'e.g. lognormal(512,1)');
      return (rng) => clamp(args[0] * Math.exp(rng.normal(0, args[1])));
    }
  }
}

function parseImage(spec: string, text: string): TraceImage {
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (!m) fail(spec, 'image', text, 'WIDTHxHEIGHT in pixels, e.g. 512x512', 'write image=512x512');
  return { widthPx: count(spec, 'image width', m[1], 1, 65536), heightPx: count(spec, 'image height', m[2], 1, 65536) };
}

/** Split on commas that are not inside parentheses: `prompt=uniform(1,2),n=3`. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Build the trace a generator spec names. `seed` drives the random generators. */
export function generateTrace(spec: string, seed = 1): Trace {
  const colon = spec.indexOf(':');
  const kind = spec.slice(0, colon);
  const [head, ...opts] = splitTopLevel(spec.slice(colon + 1));
  const images: TraceImage[] = [];
  const keyed = new Map<string, string>();
  for (const o of opts) {
    const eq = o.indexOf('=');
    if (eq < 0) fail(spec, 'option', o, 'key=value', 'e.g. ,image=512x512');
    const k = o.slice(0, eq);
    const v = o.slice(eq + 1);
    if (k === 'image') images.push(parseImage(spec, v));
    else keyed.set(k, v);
  }
  const allowKeys = (keys: string[]) => {
    for (const k of keyed.keys()) if (!keys.includes(k)) fail(spec, k, keyed.get(k), `unknown option for ${kind}:; allowed: ${['image', ...keys].join(', ')}`, `remove '${k}'`);
  };
  let requests: unknown[];
  switch (kind) {
    case 'decode': {
      allowKeys([]);
      const m = /^(\d+)@(\d+)(?:x(\d+))?$/.exec(head);
      if (!m) fail(spec, 'decode', head, 'N@C or N@CxB (N generated tokens, C cached context tokens, B requests)', 'e.g. decode:128@512 or decode:128@512x4');
      const n = count(spec, 'N', m[1], 1, MAX_TOKENS);
      const c = count(spec, 'C', m[2], 0, MAX_TOKENS);
      const b = m[3] === undefined ? 1 : count(spec, 'B', m[3], 1, 65536);
      if (c === 0 && images.length === 0) fail(spec, 'C', m[2], 'a cached context of at least 1 token', 'e.g. decode:128@512');
      requests = Array.from({ length: b }, (_, i) => ({ id: i, arrivalMs: 0, promptTokens: c, outputTokens: n, contextCached: true, images }));
      break;
    }
    case 'prefill': {
      allowKeys([]);
      const p = count(spec, 'P', head, images.length ? 0 : 1, MAX_TOKENS);
      requests = [{ id: 0, arrivalMs: 0, promptTokens: p, outputTokens: 1, images }];
      break;
    }
    case 'request': {
      allowKeys([]);
      const m = /^(\d+):(\d+)$/.exec(head);
      if (!m) fail(spec, 'request', head, 'P:N (prompt tokens : output tokens)', 'e.g. request:32:32');
      requests = [{ id: 0, arrivalMs: 0, promptTokens: count(spec, 'P', m[1], images.length ? 0 : 1, MAX_TOKENS), outputTokens: count(spec, 'N', m[2], 1, MAX_TOKENS), images }];
      break;
    }
    case 'poisson': {
      // the head is itself a key=value option
      if (head) {
        const eq = head.indexOf('=');
        if (eq < 0) fail(spec, 'option', head, 'key=value', 'e.g. poisson:rate=2,n=100,prompt=512,output=128');
        const k = head.slice(0, eq);
        const v = head.slice(eq + 1);
        if (k === 'image') images.push(parseImage(spec, v));
        else keyed.set(k, v);
      }
      allowKeys(['rate', 'n', 'prompt', 'output', 'seed']);
      for (const k of ['rate', 'n', 'prompt', 'output']) if (!keyed.has(k)) fail(spec, k, undefined, `poisson needs rate, n, prompt and output`, `add ,${k}=...`);
      const rate = Number(keyed.get('rate'));
      if (!Number.isFinite(rate) || rate <= 0 || rate > 1e9) fail(spec, 'rate', keyed.get('rate'), 'requests per second, a number in (0, 1e9]', 'e.g. rate=2.5');
      const n = count(spec, 'n', keyed.get('n')!, 1, MAX_REQUESTS);
      const prompt = parseDist(spec, 'prompt', keyed.get('prompt')!);
      const output = parseDist(spec, 'output', keyed.get('output')!);
      const s = keyed.has('seed') ? count(spec, 'seed', keyed.get('seed')!, 0, Number.MAX_SAFE_INTEGER) : seed;
      const root = new Rng(s, 'trace/poisson');
      const arrivals = root.stream('arrivals');
      const lengths = root.stream('lengths');
      let t = 0;
      requests = [];
      for (let i = 0; i < n; i++) {
        if (i > 0) t += arrivals.exponential(1000 / rate);
        requests.push({ id: i, arrivalMs: Math.round(t * 1e4) / 1e4, promptTokens: prompt(lengths), outputTokens: output(lengths), images });
      }
      break;
    }
    default:
      fail(spec, 'generator', kind, `one of ${GENERATOR_KINDS.join(', ')}`, 'e.g. decode:128@512');
  }
  return parseInput(TraceSchema, { kind: 'trace', schemaVersion: 1, name: spec, source: `synthetic generator ${spec}`, requests }, spec);
}
