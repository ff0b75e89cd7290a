import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { kernelEventsPerSecond } from './kernel.bench.js';
import { SERVE_BENCH_SETS } from './serveDesign.js';
import type { Measured } from './harness.js';

/**
 * The serving fidelity at scale (issue 13), part of `npm run bench -- sim`: the whole Azure
 * conversation hour (19,366 requests) and its first 1,000 requests on the Llama 3.1 8B
 * design of bench/serveDesign.ts, each a cold run (no saved step memo) in a process of its
 * own (bench/serveRun.ts), so its peak RSS is its own. Targets, for a machine whose kernel
 * benchmark does 11 M events/s (wall x measured events/s / 11 M): the hour in 10 min at
 * >= 5,000 iterations/s, the first 1,000 requests in 60 s, peak RSS <= 2 GiB. The kernel
 * benchmark runs before and after, as the machine's speed reference.
 */

/** The rate scale at which the design serves the hour within 1.1x its duration (README). */
export const SERVE_BENCH_RATE_SCALE = Number(process.env.TESSERA_BENCH_SERVE_RATE ?? 0.1);
const REFERENCE_EVENTS_PER_S = 11e6;

/** The kernel reference as a rate, whether the helper returns the rate or its measurement (issue 11's two branches differ). */
const eventsPerSecond = (m: number | { readonly perSecond: number }) => (typeof m === 'number' ? m : m.perSecond);

function child(requests: number): Record<string, any> {
  const script = fileURLToPath(new URL('./serveRun.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, String(requests), String(SERVE_BENCH_RATE_SCALE)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`serving benchmark run failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

export async function serveBenchmarks(print: (line: string) => void): Promise<Measured[]> {
  print(`Serving fidelity, Azure conversation trace at --rate-scale ${SERVE_BENCH_RATE_SCALE} on paper-llama-3nm ${SERVE_BENCH_SETS.map((s) => `--set ${s}`).join(' ')} (cold: every step simulated in the run)`);
  const before = eventsPerSecond(await kernelEventsPerSecond());
  const first = child(1000);
  const hour = child(0);
  const after = eventsPerSecond(await kernelEventsPerSecond());
  const ref = (before + after) / 2;
  const scale = ref / REFERENCE_EVENTS_PER_S;
  print(`  kernel reference: ${(before / 1e6).toFixed(2)} M events/s before, ${(after / 1e6).toFixed(2)} M after (scaled times = wall x ${(ref / 1e6).toFixed(2)} M / 11 M)`);
  const line = (name: string, r: Record<string, any>, target: number, itpsTarget?: number) => {
    const scaled = r.wallSeconds * scale;
    print(`  ${name}: ${r.requests.toLocaleString('en-US')} requests, wall ${r.wallSeconds.toFixed(1)} s, scaled ${scaled.toFixed(1)} s (target <= ${target} s: ${scaled <= target ? 'met' : 'MISSED'})`);
    const itps = r.iterations / r.wallSeconds;
    const itpsVerdict = itpsTarget === undefined ? '' : ` (target >= ${itpsTarget.toLocaleString('en-US')}: ${itps >= itpsTarget ? 'met' : 'MISSED'})`;
    print(`    ${r.iterations.toLocaleString('en-US')} iterations, ${Math.round(itps).toLocaleString('en-US')} iterations/s${itpsVerdict}; ${r.stepsSimulated} steps simulated (${(r.chipEvents / 1e6).toFixed(1)} M chip events); peak RSS ${r.maxRssMiB.toFixed(0)} MiB (target <= 2,048: ${r.maxRssMiB <= 2048 ? 'met' : 'MISSED'})`);
    print(`    served in ${(r.servedSeconds / 60).toFixed(1)} min of a ${(r.traceSeconds / 60).toFixed(1)}-min trace (${(r.servedSeconds / r.traceSeconds).toFixed(3)}x); ${r.tokensPerSecond.toFixed(1)} tokens/s, TTFT p50/p99 ${r.ttftMs[0].toFixed(0)}/${r.ttftMs[1].toFixed(0)} ms, ITL p50/p99 ${r.itlMs[0].toFixed(2)}/${r.itlMs[1].toFixed(2)} ms, ${r.powerW.toFixed(1)} W, load ${(100 * r.load).toFixed(0)}%, held-out step error <= ${(100 * r.holdoutMaxError).toFixed(2)}%; rejected ${JSON.stringify(r.rejected)}`);
    return { name, perSecond: 1 / r.wallSeconds, rmePercent: 0, samples: 1 };
  };
  return [line('first 1,000 requests', first, 60), line('whole hour', hour, 600, 5000)];
}
