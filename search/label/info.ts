import { DIMENSIONS } from '../space.js';
import type { ReadLabels } from './file.js';
import type { LabelRecord } from './job.js';

/**
 * `tessera label info` and `--csv`: what a label file holds (counts per node, feasible
 * share, metric ranges, failures) and a flat table for spreadsheets and pandas.
 */

/** Metric columns: name and accessor (ok labels; infeasible ones have area and score only). */
export const METRIC_COLUMNS: readonly [string, (l: LabelRecord) => number | null | undefined][] = [
  ['tokensPerSecond', (l) => l.metrics?.tokensPerSecond],
  ['ttftMsP50', (l) => l.metrics?.ttftMs.p50],
  ['ttftMsP99', (l) => l.metrics?.ttftMs.p99],
  ['itlMsP50', (l) => l.metrics?.itlMs.p50],
  ['itlMsP99', (l) => l.metrics?.itlMs.p99],
  ['powerW', (l) => l.metrics?.powerW],
  ['computeW', (l) => l.metrics?.power.computeW],
  ['sramW', (l) => l.metrics?.power.sramW],
  ['romW', (l) => l.metrics?.power.romW],
  ['nocW', (l) => l.metrics?.power.nocW],
  ['leakageW', (l) => l.metrics?.power.leakageW],
  ['energyPerTokenJ', (l) => l.metrics?.energyPerTokenJ],
  ['areaMm2', (l) => l.metrics?.areaMm2],
  ['ppaScore', (l) => l.metrics?.ppaScore],
  ['ppaObjective', (l) => l.metrics?.ppaObjective],
  ['computeBoundTokensPerSecond', (l) => l.bounds?.computeTokensPerSecond],
  ['memoryBoundTokensPerSecond', (l) => l.bounds?.memoryTokensPerSecond],
  ['nocBoundTokensPerSecond', (l) => l.bounds?.nocTokensPerSecond],
  ['mappingBoundTokensPerSecond', (l) => l.bounds?.mappingTokensPerSecond],
];

export interface NodeCounts {
  readonly node: number;
  readonly labels: number;
  readonly ok: number;
  readonly infeasible: number;
  readonly failed: number;
}

export interface LabelInfo {
  readonly header: ReadLabels['header'];
  readonly labels: number;
  readonly missing: number;
  readonly duplicates: number;
  readonly truncatedAt?: number;
  readonly perNode: readonly NodeCounts[];
  /** Share of labels (failed ones excluded) whose mapping is feasible. */
  readonly feasibleShare: number;
  /** Share of labels whose sampler pre-check said feasible. */
  readonly precheckFeasibleShare: number;
  readonly ranges: readonly { readonly metric: string; readonly min: number; readonly median: number; readonly max: number; readonly n: number }[];
  readonly failures: readonly { readonly index: number; readonly error: string }[];
  readonly wallSeconds: { readonly median: number; readonly total: number };
}

function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

export function labelInfo(read: ReadLabels): LabelInfo {
  const ls = read.labels;
  const nodes = [...new Set(ls.map((l) => l.node))].sort((a, b) => a - b);
  const perNode = nodes.map((node) => {
    const at = ls.filter((l) => l.node === node);
    return { node, labels: at.length, ok: at.filter((l) => l.status === 'ok').length, infeasible: at.filter((l) => l.status === 'infeasible').length, failed: at.filter((l) => l.status === 'failed').length };
  });
  const judged = ls.filter((l) => l.status !== 'failed');
  const ok = ls.filter((l) => l.status === 'ok');
  const ranges = METRIC_COLUMNS.map(([metric, get]) => {
    const xs = ok.map(get).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    return { metric, min: xs.length ? Math.min(...xs) : NaN, median: median(xs), max: xs.length ? Math.max(...xs) : NaN, n: xs.length };
  });
  const wall = ls.map((l) => l.wallSeconds);
  const maxIndex = ls.reduce((m, l) => Math.max(m, l.index + 1), read.header.count);
  return {
    header: read.header,
    labels: ls.length,
    missing: maxIndex - ls.length,
    duplicates: read.duplicates,
    truncatedAt: read.truncatedAt,
    perNode,
    feasibleShare: judged.length ? judged.filter((l) => l.status === 'ok').length / judged.length : NaN,
    precheckFeasibleShare: ls.length ? ls.filter((l) => l.sampler.precheckFeasible).length / ls.length : NaN,
    ranges,
    failures: ls.filter((l) => l.status === 'failed').map((l) => ({ index: l.index, error: l.error ?? '' })),
    wallSeconds: { median: median(wall), total: wall.reduce((a, b) => a + b, 0) },
  };
}

const g = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 1e5 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toPrecision(4)) : '-');

export function renderLabelInfo(info: LabelInfo, file: string): string {
  const h = info.header;
  const lines = [
    `${file}: ${info.labels} labels of ${h.model.name} (${h.count} asked for${info.missing > 0 ? `, ${info.missing} missing` : ''}), seed ${h.seed}, fidelity ${h.fidelity}, workload ${h.workload.name}`,
    `  space ${h.spaceVersion}, simulator ${h.simulatorVersion}, event limit ${h.eventLimit || 'none'}, started ${h.createdAt}`,
  ];
  if (info.truncatedAt !== undefined) lines.push(`  the file ends in a truncated frame at offset ${info.truncatedAt} (a label in flight when the run stopped); --resume drops it`);
  if (info.duplicates) lines.push(`  ${info.duplicates} duplicate frame(s) ignored (the first result of an index is kept)`);
  lines.push('', '  node   labels      ok  infeasible  failed');
  for (const n of info.perNode) lines.push(`  ${String(n.node).padStart(2)} nm ${String(n.labels).padStart(8)} ${String(n.ok).padStart(7)} ${String(n.infeasible).padStart(11)} ${String(n.failed).padStart(7)}`);
  lines.push('', `  mapping-feasible share ${(100 * info.feasibleShare).toFixed(1)}% (pre-check said feasible for ${(100 * info.precheckFeasibleShare).toFixed(1)}%)`);
  lines.push(`  wall time per label: median ${g(info.wallSeconds.median)} s, total ${g(info.wallSeconds.total)} s`);
  lines.push('', '  metric (feasible labels)            min      median         max      n');
  for (const r of info.ranges) lines.push(`  ${r.metric.padEnd(30)} ${g(r.min).padStart(10)} ${g(r.median).padStart(11)} ${g(r.max).padStart(11)} ${String(r.n).padStart(6)}`);
  if (info.failures.length) {
    lines.push('', `  failed labels (${info.failures.length}):`);
    for (const f of info.failures.slice(0, 10)) lines.push(`    #${f.index}: ${f.error}`);
    if (info.failures.length > 10) lines.push(`    ... and ${info.failures.length - 10} more (--csv lists them all)`);
  }
  return `${lines.join('\n')}\n`;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function getPath(obj: any, path: string): unknown {
  let v = obj;
  for (const k of path.split('.')) v = v?.[k];
  return v;
}

/** One row per label: index, node, status, every design dimension, the metrics, feasibility, error. */
export function labelsCsv(read: ReadLabels): string {
  const cols = ['index', 'node', 'status', ...DIMENSIONS.map((d) => d.path), ...METRIC_COLUMNS.map(([n]) => n), 'mappingFeasible', 'reasons', 'error', 'events', 'wallSeconds'];
  const rows = [cols.join(',')];
  for (const l of read.labels) {
    rows.push(
      [
        l.index,
        l.node,
        l.status,
        ...DIMENSIONS.map((d) => getPath(l.design, d.path)),
        ...METRIC_COLUMNS.map(([, get]) => get(l)),
        l.mapping.feasible,
        l.mapping.reasons.join('; '),
        l.error ?? '',
        l.events,
        l.wallSeconds,
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return `${rows.join('\n')}\n`;
}
