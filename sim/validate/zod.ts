import { z } from 'zod';
import { InputError } from './inputError.js';

/**
 * Turns zod validation issues into one-line `InputError`s that name the field, the value,
 * what is allowed (read from the schema: numeric bounds, enum values, known keys) and a fix.
 */

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** Parse `input` with `schema`; on failure throw an InputError for the first issue. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, file: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw issueToError(r.error.issues[0], schema, input, file);
}

/** Field path as users write it: `mesh.rows`, `requests[3].arrivalMs`. */
export function formatPath(path: Path): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s ? `.${String(p)}` : String(p);
  }
  return s;
}

function valueAt(input: unknown, path: Path): unknown {
  let v: any = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[p as any];
  }
  return v;
}

function def(schema: any): any {
  return schema?._zod?.def;
}

/** Strip wrappers (optional, default, nullable, pipe...) to the schema that checks values. */
function core(schema: any): any {
  let s = schema;
  for (let i = 0; i < 20 && s; i++) {
    const d = def(s);
    if (!d) return s;
    if (['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(d.type)) s = d.innerType;
    else if (d.type === 'pipe') s = d.in;
    else if (d.type === 'lazy') s = d.getter();
    else return s;
  }
  return s;
}

/** The schema node at `path`, or undefined if the path leaves what can be followed. */
function schemaAt(schema: any, path: Path): any {
  let s = core(schema);
  for (const p of path) {
    const d = def(s);
    if (!d) return undefined;
    if (d.type === 'object') s = d.shape?.[p as string];
    else if (d.type === 'array') s = d.element;
    else if (d.type === 'record') s = d.valueType;
    else if (d.type === 'tuple') s = d.items?.[p as number];
    else return undefined;
    s = core(s);
  }
  return s;
}

function describe(schema: any): string | undefined {
  let s = schema;
  for (let i = 0; i < 20 && s; i++) {
    if (typeof s.description === 'string') return s.description;
    const d = def(s);
    if (!d || !d.innerType) return undefined;
    s = d.innerType;
  }
  return undefined;
}

/** The tightest lower and upper bound among a number schema's checks, and whether each is inclusive. */
function bounds(checks: readonly any[]): { lo: number; loIn: boolean; hi: number; hiIn: boolean } {
  let lo = -Infinity;
  let loIn = true;
  let hi = Infinity;
  let hiIn = true;
  for (const k of checks) {
    if (k?.check === 'greater_than' && (k.value > lo || (k.value === lo && !k.inclusive))) {
      lo = k.value;
      loIn = k.inclusive;
    } else if (k?.check === 'less_than' && (k.value < hi || (k.value === hi && !k.inclusive))) {
      hi = k.value;
      hiIn = k.inclusive;
    }
  }
  return { lo, loIn, hi, hiIn };
}

/** What the schema allows at this node, in words. */
function allowedText(node: any): string {
  const c = core(node);
  const d = def(c);
  if (!d) return 'a valid value';
  switch (d.type) {
    case 'number': {
      const kind = c.isInt ? 'an integer' : 'a number';
      const checks: any[] = (d.checks ?? []).map((k: any) => def(k));
      const mult = checks.find((k) => k?.check === 'multiple_of')?.value;
      const { lo, loIn, hi, hiIn } = bounds(checks);
      const finiteLo = Number.isFinite(lo);
      const finiteHi = Number.isFinite(hi);
      let range = '';
      if (finiteLo && finiteHi) range = loIn && hiIn ? ` in ${lo}..${hi}` : ` in ${loIn ? '[' : '('}${lo}, ${hi}${hiIn ? ']' : ')'}`;
      else if (finiteLo) range = ` ${loIn ? '>=' : '>'} ${lo}`;
      else if (finiteHi) range = ` ${hiIn ? '<=' : '<'} ${hi}`;
      return `${kind}${range}${mult ? `, a multiple of ${mult}` : ''}`;
    }
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${Object.values(d.entries).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'literal':
      return `exactly ${d.values.map((v: unknown) => JSON.stringify(v)).join(' or ')}`;
    case 'array':
      return 'a list';
    case 'object': {
      // long key lists would bury the message: name the first few, count the rest
      const keys = Object.keys(d.shape);
      return keys.length <= 6 ? `an object with keys ${keys.join(', ')}` : `an object with keys ${keys.slice(0, 5).join(', ')} and ${keys.length - 5} more (docs/formats.md)`;
    }
    case 'record':
      return 'an object';
    case 'union':
      return d.options.map((o: any) => allowedText(o)).join(', or ');
    default:
      return 'a valid value';
  }
}

function fieldName(path: Path): string {
  return formatPath(path);
}

export function issueToError(issue: Issue, schema: z.ZodType, input: unknown, file: string): InputError {
  const path = issue.path as Path;
  const field = fieldName(path);
  const value = valueAt(input, path);
  const node = schemaAt(schema, path);
  const what = describe(node);
  const about = what ? ` (${what})` : '';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const parent = schemaAt(schema, path);
      const known = def(parent)?.shape ? Object.keys(def(parent).shape) : [];
      const key = issue.keys[0];
      const full = fieldName([...path, key]);
      return new InputError(file, full, valueAt(input, [...path, key]), `unknown key; allowed keys here: ${known.join(', ')}`, `remove '${key}' or correct its spelling`);
    }
    case 'invalid_type': {
      if (value === undefined) {
        return new InputError(file, field, value, `required field missing${about}; expected ${allowedText(node)}`, `add '${field}'`);
      }
      return new InputError(file, field, value, `expected ${allowedText(node)}${about}`, allowedText(node).startsWith('an object') ? 'give an object (see docs/formats.md for its fields)' : `give ${allowedText(node)}`);
    }
    case 'too_small':
    case 'too_big': {
      if (issue.origin === 'array' || issue.origin === 'set') {
        const n = issue.code === 'too_small' ? `at least ${issue.minimum}` : `at most ${issue.maximum}`;
        return new InputError(file, field, Array.isArray(value) ? `[${value.length} items]` : value, `must have ${n} item(s)${about}`, issue.code === 'too_small' ? 'add items' : 'remove items');
      }
      if (issue.origin === 'string') {
        const n = issue.code === 'too_small' ? `at least ${issue.minimum}` : `at most ${issue.maximum}`;
        return new InputError(file, field, value, `must have ${n} characters${about}`, 'change the text');
      }
      const allowed = allowedText(node);
      return new InputError(file, field, value, `out of range: allowed ${allowed}${about}`, `use ${allowed}`);
    }
    case 'not_multiple_of':
      return new InputError(file, field, value, `must be a multiple of ${issue.divisor}${about}`, `round to a multiple of ${issue.divisor}`);
    case 'invalid_value':
      return new InputError(file, field, value, `allowed ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${about}`, `use one of the allowed values`);
    case 'invalid_format':
      return new InputError(file, field, value, `${issue.message}${about}`, 'fix the format');
    case 'custom': {
      const params = (issue.params ?? {}) as { allowed?: string; fix?: string };
      return new InputError(file, field, value, params.allowed ?? issue.message, params.fix);
    }
    case 'invalid_union':
      return new InputError(file, field, value, `expected ${allowedText(node)}${about}`, 'match one of the allowed forms');
    default:
      return new InputError(file, field, value, issue.message, undefined);
  }
}

/**
 * Report a cross-field problem from a `superRefine`: `allowed` says what is allowed,
 * `fix` how to repair it. Renders like every other validation error.
 */
export function refineIssue(ctx: z.RefinementCtx, path: (string | number)[], allowed: string, fix: string): void {
  ctx.addIssue({ code: 'custom', path, message: allowed, params: { allowed, fix } });
}

/**
 * What a schema says about the field at `path` (numeric indices address array elements):
 * the allowed values in words and the field's description, for listings such as
 * `tessera design show`. Undefined when the path leaves the schema.
 */
export function fieldInfo(schema: z.ZodType, path: readonly (string | number)[]): { allowed: string; description?: string } | undefined {
  if (path.length === 0) return undefined;
  const parent = def(schemaAt(schema, path.slice(0, -1)));
  const key = path[path.length - 1];
  // the field as declared (a description may sit on its .default() or .optional() wrapper)
  const raw = parent?.type === 'object' ? parent.shape?.[key as string] : parent?.type === 'array' ? parent.element : undefined;
  if (!raw) return undefined;
  const checks: any[] = (def(core(raw))?.checks ?? []).map((k: any) => def(k));
  const custom = checks.find((k) => k?.check === 'custom' && k.params?.allowed)?.params?.allowed as string | undefined;
  return { allowed: custom ?? allowedText(raw), description: describe(raw) ?? describe(core(raw)) };
}
