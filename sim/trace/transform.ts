import { Rng } from '../random/rng.js';
import { InputError } from '../validate/inputError.js';
import type { Trace } from './trace.js';

/**
 * Trace handling at scale (docs/formats.md "Traces"): a time window, request sampling and
 * rate scaling, applied in that order. Arrival times of the result start at the window's
 * start; the requests keep their order.
 */
export interface TraceSelection {
  /** Keep requests arriving at or after this minute of the trace. */
  readonly fromMinutes?: number;
  /** ... and before this minute. */
  readonly toMinutes?: number;
  /** Keep each request with this probability (seeded). */
  readonly sampleFraction?: number;
  /** Multiply the request rate: arrival times are divided by it. */
  readonly rateScale?: number;
  /** Keep only the first N requests (after the window and the sampling). */
  readonly requests?: number;
}

export function selectRequests(trace: Trace, sel: TraceSelection, seed: number, where = 'command line'): Trace {
  const from = sel.fromMinutes ?? 0;
  const to = sel.toMinutes ?? Number.POSITIVE_INFINITY;
  if (!(Number.isFinite(from) && from >= 0)) throw new InputError(where, '--from', sel.fromMinutes, 'minutes >= 0', 'e.g. --from 10');
  if (!(to > from)) throw new InputError(where, '--to', sel.toMinutes, `minutes after --from (${from})`, `e.g. --to ${from + 10}`);
  const f = sel.sampleFraction ?? 1;
  if (!(f > 0 && f <= 1)) throw new InputError(where, '--sample', sel.sampleFraction, 'a fraction in (0, 1]', 'e.g. --sample 0.1 keeps one request in ten');
  const s = sel.rateScale ?? 1;
  if (!(Number.isFinite(s) && s > 0 && s <= 1e6)) throw new InputError(where, '--rate-scale', sel.rateScale, 'a factor in (0, 1e6]', 'e.g. --rate-scale 2 doubles the request rate');
  const n = sel.requests;
  if (n !== undefined && !(Number.isInteger(n) && n >= 1)) throw new InputError(where, '--requests', n, 'a whole number >= 1', 'e.g. --requests 20');
  const rng = new Rng(seed, 'trace/sample');
  const fromMs = from * 60_000;
  const toMs = to * 60_000;
  const kept: Trace['requests'][number][] = [];
  for (const r of trace.requests) {
    if (r.arrivalMs < fromMs || r.arrivalMs >= toMs) continue;
    if (f < 1 && !rng.bernoulli(f)) continue;
    kept.push(from > 0 || s !== 1 ? { ...r, arrivalMs: (r.arrivalMs - fromMs) / s } : r);
    if (n !== undefined && kept.length >= n) break;
  }
  if (kept.length === 0) {
    throw new InputError(where, '--from/--to/--sample', `${from}-${Number.isFinite(to) ? to : 'end'} min, sample ${f}`, `no request of ${trace.name} (${trace.requests.length} requests) is left`, 'widen the window or raise --sample');
  }
  return { ...trace, requests: kept };
}
