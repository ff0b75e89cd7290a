import type { Io } from './io.js';
import { projectPath } from './paths.js';
import { InputError } from '../sim/validate/inputError.js';
import { parseInput } from '../sim/validate/zod.js';
import { ModelCardSchema, type ModelCard } from '../sim/model/card.js';
import { looksLikeHfConfig, modelCardFromHfConfig } from '../sim/model/hfConfig.js';
import { BUILTIN_MODEL_NAMES, builtinModel } from '../sim/model/catalog.js';
import { TraceSchema, type Trace } from '../sim/trace/trace.js';
import { looksLikeAzureCsv, parseAzureCsv } from '../sim/trace/azure.js';
import { generateTrace, isGeneratorSpec } from '../sim/trace/generators.js';
import { DesignSchema, type Design } from '../sim/design/design.js';
import { PRESET_NAMES, presetDesign } from '../sim/design/presets.js';

/**
 * Resolve what a user names on the command line (a file, a built-in model, preset or
 * trace, or a trace generator) into validated data. All file reading happens here, at
 * the edge; the simulator receives only parsed, validated values.
 */

/** Built-in traces shipped in traces/ (CC-BY, see traces/azure-llm-inference-2023/README.md). */
export const BUILTIN_TRACES: Readonly<Record<string, string>> = {
  'azure-conv': 'traces/azure-llm-inference-2023/AzureLLMInferenceTrace_conv.csv',
  'azure-code': 'traces/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv',
};

export type Loaded =
  | { kind: 'model'; input: string; model: ModelCard; origin: 'file' | 'hf-config' | 'builtin' }
  | { kind: 'trace'; input: string; trace: Trace; origin: 'file' | 'azure-csv' | 'builtin' | 'generator' }
  | { kind: 'design'; input: string; design: Design; origin: 'file' | 'builtin' };

/** Largest input file accepted (a trace of a few million requests). */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

/** Read a text file, rejecting missing, empty, oversized and binary files with one-line errors. */
export function readText(io: Io, file: string): string {
  let buf: Buffer;
  try {
    buf = io.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(file, '', '(unreadable)', code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot read it (${code ?? String(e)})`, 'check the path');
  }
  if (buf.length === 0) throw new InputError(file, '', '(empty file)', 'expected a JSON or CSV document', 'check that the file was written completely');
  if (buf.length > MAX_FILE_BYTES) throw new InputError(file, '', `${buf.length} bytes`, `files up to ${MAX_FILE_BYTES} bytes`, 'split the input');
  const head = buf.subarray(0, 8192);
  if (head.includes(0)) throw new InputError(file, '', '(binary data)', 'expected a UTF-8 text file (JSON or CSV)', 'pass the JSON or CSV file, not a binary');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw new InputError(file, '', '(invalid UTF-8)', 'expected a UTF-8 text file (JSON or CSV)', 'save the file as UTF-8');
  }
}

/** JSON.parse with a one-line error that gives the line and column. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    let where = '';
    if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      const col = Number(pos[1]) - before.lastIndexOf('\n');
      where = ` at line ${line}, column ${col}`;
    } else if (/end of JSON/i.test(msg)) {
      where = ' (the file ends early: truncated?)';
    }
    throw new InputError(file, '', '(not valid JSON)', `JSON syntax error${where}: ${msg.replace(/^.*?:\s*/, '').slice(0, 80)}`, 'fix the JSON syntax');
  }
}

/** Parse file contents of any supported kind. */
export function parseDocument(text: string, file: string): Loaded {
  if (looksLikeAzureCsv(text)) {
    const name = /conv/i.test(file) ? 'azure-conv' : /code/i.test(file) ? 'azure-code' : 'azure';
    return { kind: 'trace', input: file, trace: parseAzureCsv(text, file, name), origin: 'azure-csv' };
  }
  if (/\.csv$/i.test(file)) {
    throw new InputError(file, 'line 1', text.split(/\r?\n/, 1)[0].slice(0, 60), 'expected the Azure trace header TIMESTAMP,ContextTokens,GeneratedTokens', 'convert the CSV to that layout or to a Tessera trace JSON');
  }
  const json = parseJson(text, file);
  if (looksLikeHfConfig(json)) return { kind: 'model', input: file, model: modelCardFromHfConfig(json, file), origin: 'hf-config' };
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new InputError(file, '', json, 'expected a JSON object with a "kind" field (model, trace or design) or a HuggingFace config.json', 'wrap the data in an object with "kind"');
  }
  const kind = (json as Record<string, unknown>).kind;
  switch (kind) {
    case 'model':
      return { kind: 'model', input: file, model: parseInput(ModelCardSchema, json, file), origin: 'file' };
    case 'trace':
      return { kind: 'trace', input: file, trace: parseInput(TraceSchema, json, file), origin: 'file' };
    case 'design':
      return { kind: 'design', input: file, design: parseInput(DesignSchema, json, file), origin: 'file' };
    default:
      throw new InputError(file, 'kind', kind, 'one of "model", "trace", "design" (or a HuggingFace config.json with model_type)', 'set "kind"');
  }
}

/** Names that resolve without a file, for messages and `tessera list`. */
export function builtinNames(): { models: readonly string[]; presets: readonly string[]; traces: readonly string[] } {
  return { models: BUILTIN_MODEL_NAMES, presets: PRESET_NAMES, traces: Object.keys(BUILTIN_TRACES) };
}

/** Resolve a file path or built-in name. Files win over built-in names. */
export function loadAny(io: Io, spec: string, seed = 1): Loaded {
  if (io.exists(spec)) return parseDocument(readText(io, spec), spec);
  const model = builtinModel(spec);
  if (model) return { kind: 'model', input: spec, model, origin: 'builtin' };
  const design = presetDesign(spec);
  if (design) return { kind: 'design', input: spec, design, origin: 'builtin' };
  if (Object.hasOwn(BUILTIN_TRACES, spec)) {
    const file = projectPath(BUILTIN_TRACES[spec]);
    const doc = parseDocument(readText(io, file), BUILTIN_TRACES[spec]);
    if (doc.kind !== 'trace') throw new Error(`built-in trace ${spec} is not a trace`);
    return { kind: 'trace', input: spec, trace: { ...doc.trace, name: spec }, origin: 'builtin' };
  }
  if (isGeneratorSpec(spec)) return { kind: 'trace', input: spec, trace: generateTrace(spec, seed), origin: 'generator' };
  // stat only: reading a FIFO or a device to find out would block or never end
  const kind = io.pathKind(spec);
  if (kind === 'directory') throw new InputError(spec, '', '(a directory)', 'expected a file: a model card, HuggingFace config.json, trace or design', 'name a file inside the directory');
  if (kind === 'other') throw new InputError(spec, '', '(not a regular file)', 'expected a regular file (a FIFO or device is not read)', 'write the input to a file first');
  const b = builtinNames();
  throw new InputError(
    spec,
    '',
    '(not found)',
    `no such file, and not a built-in name (models: ${b.models.join(', ')}; presets: ${b.presets.join(', ')}; traces: ${b.traces.join(', ')}; generators: decode:N@C[xB], prefill:P, request:P:N, poisson:...)`,
    'check the path or run `tessera list`',
  );
}

function expectKind<K extends Loaded['kind']>(loaded: Loaded, kind: K, spec: string): Extract<Loaded, { kind: K }> {
  if (loaded.kind !== kind) throw new InputError(spec, 'kind', loaded.kind, `expected a ${kind} here`, `pass a ${kind} file or built-in ${kind} name`);
  return loaded as Extract<Loaded, { kind: K }>;
}

export function loadModel(io: Io, spec: string): ModelCard {
  return expectKind(loadAny(io, spec), 'model', spec).model;
}

export function loadTrace(io: Io, spec: string, seed = 1): Trace {
  return expectKind(loadAny(io, spec, seed), 'trace', spec).trace;
}

export function loadDesign(io: Io, spec: string): Design {
  return expectKind(loadAny(io, spec), 'design', spec).design;
}
