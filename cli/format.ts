/** Number and table formatting for terminal output. */

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Bytes with decimal (SI) prefixes: 16.06 GB. */
export function fmtBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${fmtInt(v)} B` : `${v.toFixed(v >= 100 ? 1 : 2)} ${units[i]}`;
}

/** A quantity with SI prefix: fmtSi(1.5e10, 'FLOP') -> "15.00 GFLOP". */
export function fmtSi(n: number, unit: string): string {
  const prefixes = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < prefixes.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? fmtInt(v) : v.toFixed(v >= 100 ? 1 : 2)} ${prefixes[i]}${unit}`;
}

export function fmtDurationMs(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(1)} us`;
  if (ms < 1000) return `${ms.toFixed(2)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** Render rows as an aligned text table (no colours, stable for logs and golden files). */
export function table(rows: readonly (readonly string[])[], header?: readonly string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths: number[] = [];
  for (const r of all) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = all.map(line);
  if (header) out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return `${out.join('\n')}\n`;
}

/** Indented "key  value" block under a title. */
export function block(title: string, rows: readonly (readonly [string, string])[]): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return `${title}\n${rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n')}\n`;
}

/** A count with its noun, singular for exactly one: `1 request`, `2 requests`, `1,024 steps`. */
export function plural(n: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${fmtInt(n)} ${n === 1 ? noun : pluralNoun}`;
}
