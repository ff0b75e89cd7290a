import type { Argv } from 'yargs';
import { InputError } from '../sim/validate/inputError.js';
import { parseInput } from '../sim/validate/zod.js';
import { DesignSchema, type Design } from '../sim/design/design.js';

/**
 * `--set path=value`: edit a design on the command line, the way BookSim's `key = value`
 * overrides and Hydra's `a.b=c` do. The path is the field's path in the design file
 * (`noc.virtualChannels`, `tileOverrides.0.vlenBits`); the value is JSON when it parses as
 * JSON (numbers, true/false, "quoted strings", [lists], {objects}) and a plain string
 * otherwise (`precision.kvCache=int8`). The edited design is validated exactly like a
 * design file. A comma list (`noc.virtualChannels=1,2,4`) is a sweep: several `--set`
 * lists combine as a Cartesian product, one run per combination, in the order given.
 */

export interface SetOption {
  /** The option as written, for messages. */
  readonly text: string;
  readonly path: readonly string[];
  /** One value, or several for a sweep. */
  readonly values: readonly unknown[];
}

/** One point of a sweep: the assignments to make, and a label such as `noc.virtualChannels=2`. */
export interface SetPoint {
  readonly assignments: readonly { readonly path: readonly string[]; readonly value: unknown }[];
  readonly label: string;
}

/** Adds the repeatable `--set` option to a command's builder. */
export function withSetOption<T>(y: Argv<T>): Argv<T & { set?: string[] }> {
  return y.option('set', {
    type: 'string',
    array: true,
    requiresArg: true,
    describe: 'edit the design: --set path=value (repeatable, e.g. --set precision.kvCache=int8 --set mapping.kvWindowTokens=1024); a comma list runs a sweep where the command supports one; `tessera design show D` lists the paths',
  }) as unknown as Argv<T & { set?: string[] }>;
}

/** Split on commas outside brackets and quotes: `1,2,[3,4]` -> `1`, `2`, `[3,4]`. */
function splitList(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"' && text[i - 1] !== '\\') quote = !quote;
    else if (quote) continue;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth = Math.max(0, depth - 1);
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function parseValue(text: string): unknown {
  const t = text.trim();
  try {
    return JSON.parse(t);
  } catch {
    return t;
  }
}

/** Parse every `--set` option (throws a one-line InputError naming the option). */
export function parseSets(raw: readonly (string | number)[] | undefined): SetOption[] {
  return (raw ?? []).map((r) => {
    const text = String(r);
    const eq = text.indexOf('=');
    const path = eq > 0 ? text.slice(0, eq).trim().split('.') : [];
    if (eq <= 0 || path.some((p) => p === '')) throw new InputError('--set', 'option', text, 'path=value, with a dotted path into the design file', 'e.g. --set noc.virtualChannels=4 (tessera design show PRESET lists the paths)');
    if (path.some((p) => p === '__proto__' || p === 'constructor' || p === 'prototype')) throw new InputError('--set', path.join('.'), text, 'a field of the design file', 'tessera design show PRESET lists the paths');
    const valueText = text.slice(eq + 1);
    if (valueText.trim() === '') throw new InputError('--set', path.join('.'), valueText, 'a value after "="', `e.g. --set ${path.join('.')}=VALUE`);
    // a value that is JSON as a whole ([2,3], "a,b") is one value; otherwise commas make a list
    let values: unknown[];
    try {
      values = [JSON.parse(valueText.trim())];
    } catch {
      const parts = splitList(valueText);
      if (parts.some((p) => p.trim() === '')) throw new InputError('--set', path.join('.'), valueText, 'a value, or a comma list of values with none empty', `e.g. --set ${path.join('.')}=1,2,4`);
      values = parts.map(parseValue);
    }
    return { text, path, values };
  });
}

/** True when some `--set` gives several values (a sweep). */
export function isSweep(sets: readonly SetOption[]): boolean {
  return sets.some((s) => s.values.length > 1);
}

/** Most runs one sweep may ask for (a typo such as 1,2,...,10000 should not start hours of work). */
export const MAX_SWEEP_RUNS = 1024;

/** The Cartesian product of the `--set` lists, first option varying slowest. */
export function sweepPoints(sets: readonly SetOption[]): SetPoint[] {
  const n = sets.reduce((p, s) => p * s.values.length, 1);
  if (n > MAX_SWEEP_RUNS) throw new InputError('--set', 'sweep', `${n} combinations`, `at most ${MAX_SWEEP_RUNS} runs in one sweep`, 'shorten the comma lists');
  let points: SetPoint[] = [{ assignments: [], label: '' }];
  for (const s of sets) {
    points = points.flatMap((p) =>
      s.values.map((value) => ({
        assignments: [...p.assignments, { path: s.path, value }],
        label: p.label + (p.label ? ' ' : '') + `${s.path.join('.')}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
      })),
    );
  }
  return points;
}

/** Refuse a comma list where the command runs one design. */
export function requireSingle(sets: readonly SetOption[], command: string): void {
  const list = sets.find((s) => s.values.length > 1);
  if (list) throw new InputError('--set', list.path.join('.'), list.text, `one value here: \`${command}\` runs one design (comma lists run sweeps in tessera sim and tessera noc)`, `give one value, e.g. --set ${list.path.join('.')}=${JSON.stringify(list.values[0])}`);
}

/**
 * The design with the assignments made, validated like a design file. Errors name the
 * `--set` option and the field; a path through a value that is not an object, or an
 * array index past the end, is refused before validation.
 */
export function applySets(design: Design, assignments: SetPoint['assignments'], name: string): Design {
  if (assignments.length === 0) return design;
  const edited: any = structuredClone(design);
  for (const { path, value } of assignments) {
    let obj = edited;
    for (let i = 0; i < path.length - 1; i++) {
      const key = Array.isArray(obj) ? Number(path[i]) : path[i];
      const here = path.slice(0, i + 1).join('.');
      if (Array.isArray(obj) && !(Number.isInteger(key) && (key as number) >= 0 && (key as number) < obj.length)) {
        throw new InputError('--set', here, path[i], `an index of ${path.slice(0, i).join('.')} (it has ${obj.length} entr${obj.length === 1 ? 'y' : 'ies'})`, obj.length ? `use an index in 0..${obj.length - 1}, or set the whole list as JSON` : `set the whole list as JSON, e.g. --set ${path.slice(0, i).join('.')}='[{"row":0,"col":0,"vlenBits":512}]'`);
      }
      if (obj[key] === undefined) obj[key] = {};
      else if (obj[key] === null || typeof obj[key] !== 'object') throw new InputError('--set', here, obj[key], `${here} is a value, not an object with fields`, `set ${here} itself, e.g. --set ${here}=${JSON.stringify(obj[key])}`);
      obj = obj[key];
    }
    const last = path[path.length - 1];
    if (Array.isArray(obj)) {
      const i = Number(last);
      if (!(Number.isInteger(i) && i >= 0 && i < obj.length)) throw new InputError('--set', path.join('.'), last, `an index in 0..${obj.length - 1}`, 'set the whole list as JSON instead');
      obj[i] = value;
    } else obj[last] = value;
  }
  const label = assignments.map((a) => `${a.path.join('.')}=${typeof a.value === 'string' ? a.value : JSON.stringify(a.value)}`).join(' ');
  return parseInput(DesignSchema, edited, `${name} with --set ${label}`);
}

/** One design from `--set` options that must not be lists. */
export function applySingle(design: Design, raw: readonly (string | number)[] | undefined, name: string, command: string): Design {
  const sets = parseSets(raw);
  requireSingle(sets, command);
  return applySets(design, sweepPoints(sets)[0].assignments, name);
}
