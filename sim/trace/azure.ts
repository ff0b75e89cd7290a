import { InputError } from '../validate/inputError.js';
import { parseInput } from '../validate/zod.js';
import { TraceSchema, type Trace } from './trace.js';

/**
 * Importer for the Azure LLM inference trace 2023 CSV (Azure/AzurePublicDataset,
 * CC-BY-4.0): `TIMESTAMP,ContextTokens,GeneratedTokens`, one request per row, with
 * timestamps like `2023-11-16 18:15:46.6805900` (100 ns resolution, no zone).
 * Arrival times become milliseconds after the first request.
 */

export const AZURE_HEADER = 'TIMESTAMP,ContextTokens,GeneratedTokens';

export const AZURE_ATTRIBUTION =
  'Azure LLM inference trace 2023 (Azure/AzurePublicDataset, CC-BY-4.0). Cite: Patel, Choukse, Zhang, Shah, Goiri, Maleki, Bianchini, "Splitwise: Efficient generative LLM inference using phase splitting", ISCA 2024.';

/** True when `text` starts with the Azure trace header. */
export function looksLikeAzureCsv(text: string): boolean {
  return text.replace(/^\uFEFF/, '').startsWith(AZURE_HEADER);
}

const TS = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/**
 * Time since the epoch as [whole seconds, 100 ns ticks within the second]: kept apart so
 * differences stay exact (a double cannot hold epoch milliseconds to 100 ns).
 */
function parseTimestamp(text: string): [number, number] | undefined {
  const m = TS.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac] = m;
  const whole = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  if (Number.isNaN(whole)) return undefined;
  const ticks = frac ? Math.round(Number(`0.${frac}`) * 1e7) : 0;
  return [whole / 1000, ticks];
}

/** Parse the CSV text into a validated trace. `file` names the source in messages. */
export function parseAzureCsv(text: string, file: string, name = 'azure'): Trace {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0].trim() !== AZURE_HEADER) {
    throw new InputError(file, 'line 1', lines[0].slice(0, 60), `expected the header ${AZURE_HEADER}`, 'pass an Azure LLM inference trace CSV');
  }
  const requests: unknown[] = [];
  let t0: [number, number] | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const cols = line.split(',');
    const where = `line ${i + 1}`;
    if (cols.length !== 3) throw new InputError(file, where, line.slice(0, 60), 'expected 3 comma-separated columns TIMESTAMP,ContextTokens,GeneratedTokens', 'fix or remove the line');
    const t = parseTimestamp(cols[0]);
    if (t === undefined) throw new InputError(file, `${where} TIMESTAMP`, cols[0], 'expected YYYY-MM-DD HH:MM:SS[.fraction]', 'fix the timestamp');
    const prompt = Number(cols[1]);
    const output = Number(cols[2]);
    if (!Number.isInteger(prompt) || prompt < 1) throw new InputError(file, `${where} ContextTokens`, cols[1], 'expected an integer >= 1', 'fix the token count');
    if (!Number.isInteger(output) || output < 1) throw new InputError(file, `${where} GeneratedTokens`, cols[2], 'expected an integer >= 1', 'fix the token count');
    t0 ??= t;
    const ticks = (t[0] - t0[0]) * 1e7 + (t[1] - t0[1]); // exact integer count of 100 ns
    requests.push({ arrivalMs: ticks / 1e4, promptTokens: prompt, outputTokens: output });
  }
  if (requests.length === 0) throw new InputError(file, 'requests', '[0 rows]', 'the CSV has a header but no requests', 'use a non-empty trace');
  try {
    return parseInput(TraceSchema, { kind: 'trace', schemaVersion: 1, name, source: file, license: 'CC-BY-4.0', attribution: AZURE_ATTRIBUTION, requests }, file);
  } catch (e) {
    // point at the CSV line rather than the array index
    if (e instanceof InputError) {
      const m = /^requests\[(\d+)\]\.?(.*)$/.exec(e.field);
      if (m) throw new InputError(file, `line ${Number(m[1]) + 2}${m[2] === 'arrivalMs' ? ' TIMESTAMP' : m[2] ? ` ${m[2]}` : ''}`, e.value, e.allowed, e.fix);
    }
    throw e;
  }
}
