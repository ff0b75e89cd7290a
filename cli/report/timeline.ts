import type { ChipEngine } from '../../sim/chip/engine.js';

/**
 * A Chrome / Perfetto trace-event file (JSON object format, `traceEvents` with complete
 * "X" events; open it at ui.perfetto.dev or chrome://tracing). Process 1 holds one track
 * per tile (its tasks); process 2 one track per source tile (its NoC messages, from send to
 * delivery). Timestamps are microseconds of simulated time.
 */
export function timelineJson(engine: ChipEngine, clockMHz: number, cols: number, maxEvents = 500_000): string {
  const us = (cycles: number) => cycles / clockMHz;
  const events: object[] = [
    { name: 'process_name', ph: 'M', pid: 1, args: { name: 'tiles (compute)' } },
    { name: 'process_name', ph: 'M', pid: 2, args: { name: 'NoC messages by source tile' } },
  ];
  const named = new Set<number>();
  const name = (pid: number, tile: number) => {
    const key = pid * 1e6 + tile;
    if (named.has(key)) return;
    named.add(key);
    events.push({ name: 'thread_name', ph: 'M', pid, tid: tile, args: { name: `tile[${Math.floor(tile / cols)},${tile % cols}]` } });
  };
  let n = 0;
  for (const t of engine.timeline) {
    if (n++ >= maxEvents) break;
    name(1, t.tile);
    events.push({ name: t.label, cat: `step${t.step}`, ph: 'X', pid: 1, tid: t.tile, ts: us(t.startCycles), dur: us(t.endCycles - t.startCycles) });
  }
  for (const m of engine.messages) {
    if (n++ >= maxEvents) break;
    name(2, m.src);
    events.push({ name: `-> tile[${Math.floor(m.dst / cols)},${m.dst % cols}]`, cat: 'noc', ph: 'X', pid: 2, tid: m.src, ts: us(m.sentCycles), dur: us(m.deliveredCycles - m.sentCycles), args: { bytes: m.bytes } });
  }
  return JSON.stringify({ traceEvents: events, displayTimeUnit: 'ns', otherData: { truncated: n > maxEvents } });
}
