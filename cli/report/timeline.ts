import type { ChipEngine } from '../../sim/chip/engine.js';

/**
 * A Chrome / Perfetto trace-event file (JSON object format, `traceEvents` with complete
 * "X" events; open it at ui.perfetto.dev or chrome://tracing). Process 1 holds one track
 * per tile (its tasks); process 2 one track per source tile (its NoC messages, from send to
 * delivery). Timestamps are microseconds of simulated time.
 *
 * Only events that start inside [fromMs, toMs) are written. Tile tasks and NoC messages
 * are merged in start-time order, so when the cap on events is reached the file still
 * holds both kinds, complete up to the cut time; what was dropped is counted in
 * `otherData` and in the returned stats, and the caller prints it.
 */

export interface TimelineOptions {
  readonly fromMs?: number;
  readonly toMs?: number;
  /** Most events written (tile tasks plus NoC messages). */
  readonly maxEvents?: number;
}

export interface TimelineStats {
  readonly tasks: number;
  readonly messages: number;
  /** Events in the window that the cap left out, by kind. */
  readonly droppedTasks: number;
  readonly droppedMessages: number;
  /** Simulated time (ms) up to which the file is complete (the window's end when nothing was dropped). */
  readonly completeToMs: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly maxEvents: number;
}

export const DEFAULT_TIMELINE_EVENTS = 500_000;

export function timelineJson(engine: ChipEngine, clockMHz: number, cols: number, opts: TimelineOptions = {}): { json: string; stats: TimelineStats } {
  const cyclesPerMs = clockMHz * 1000;
  const maxEvents = opts.maxEvents ?? DEFAULT_TIMELINE_EVENTS;
  let endCycles = 0;
  for (const t of engine.timeline) endCycles = Math.max(endCycles, t.endCycles);
  for (const m of engine.messages) endCycles = Math.max(endCycles, m.deliveredCycles);
  const fromMs = opts.fromMs ?? 0;
  const toMs = opts.toMs ?? endCycles / cyclesPerMs;
  const lo = fromMs * cyclesPerMs;
  const hi = opts.toMs === undefined ? Infinity : toMs * cyclesPerMs;
  const inWindow = (start: number) => start >= lo && start < hi;
  const tasks = engine.timeline.filter((t) => inWindow(t.startCycles)).sort((a, b) => a.startCycles - b.startCycles);
  const messages = engine.messages.filter((m) => inWindow(m.sentCycles)).sort((a, b) => a.sentCycles - b.sentCycles);

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
  // merge both kinds by start time until the cap
  let i = 0;
  let j = 0;
  let written = 0;
  let cutCycles = Infinity;
  while (i < tasks.length || j < messages.length) {
    const takeTask = j >= messages.length || (i < tasks.length && tasks[i].startCycles <= messages[j].sentCycles);
    const start = takeTask ? tasks[i].startCycles : messages[j].sentCycles;
    if (written >= maxEvents) {
      cutCycles = start;
      break;
    }
    if (takeTask) {
      const t = tasks[i++];
      name(1, t.tile);
      events.push({ name: t.label, cat: `step${t.step}`, ph: 'X', pid: 1, tid: t.tile, ts: us(t.startCycles), dur: us(t.endCycles - t.startCycles) });
    } else {
      const m = messages[j++];
      name(2, m.src);
      events.push({ name: `-> tile[${Math.floor(m.dst / cols)},${m.dst % cols}]`, cat: 'noc', ph: 'X', pid: 2, tid: m.src, ts: us(m.sentCycles), dur: us(m.deliveredCycles - m.sentCycles), args: { bytes: m.bytes } });
    }
    written++;
  }
  const stats: TimelineStats = {
    tasks: i,
    messages: j,
    droppedTasks: tasks.length - i,
    droppedMessages: messages.length - j,
    completeToMs: Number.isFinite(cutCycles) ? cutCycles / cyclesPerMs : toMs,
    fromMs,
    toMs,
    maxEvents,
  };
  return { json: JSON.stringify({ traceEvents: events, displayTimeUnit: 'ns', otherData: { ...stats, truncated: stats.droppedTasks + stats.droppedMessages > 0 } }), stats };
}
