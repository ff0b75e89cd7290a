import { InputError, showValue } from '../validate/inputError.js';
import { parseInput } from '../validate/zod.js';
import { ModelCardSchema, type ModelCard } from './card.js';

/**
 * Import a HuggingFace `config.json` (Llama-family decoders and Idefics3/SmolVLM) as a
 * model card. Missing optional keys take the transformers defaults (LlamaConfig,
 * Idefics3VisionConfig); the shape-defining keys are required. The image processor's
 * `size.longest_edge` lives in preprocessor_config.json, not config.json: it defaults to
 * `vision_config.size.longest_edge` when present, else 4 x the encoder tile, which is what
 * SmolVLM ships (1536 for 384 px, 2048 for 512 px).
 */

const LLAMA_ARCHS = ['LlamaForCausalLM', 'LlamaModel'];
const IDEFICS3_ARCHS = ['Idefics3ForConditionalGeneration', 'Idefics3Model', 'SmolVLMForConditionalGeneration'];

/** True when the JSON looks like a HuggingFace config (has model_type or architectures). */
export function looksLikeHfConfig(json: unknown): boolean {
  return !!json && typeof json === 'object' && !Array.isArray(json) && ('model_type' in json || 'architectures' in json) && !('kind' in json);
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function req(obj: Obj, key: string, prefix: string, file: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new InputError(file, prefix + key, v, v === undefined ? 'required key missing from the HuggingFace config' : 'expected a number', `add "${key}" as in the model's published config.json`);
  }
  return v;
}

function opt<T>(obj: Obj, key: string, fallback: T): T {
  const v = obj[key];
  return v === undefined || v === null ? fallback : (v as T);
}

/**
 * Reject what a Tessera card cannot express, so an import never silently simulates a
 * different network: biases on the attention or MLP projections, an MLP activation other
 * than SiLU (the lowering's gated SiLU MLP), mixture-of-experts layers, and (inside an
 * Idefics3 config) a text decoder that is not Llama.
 */
function checkTextSupported(tc: Obj, prefix: string, file: string): void {
  const unsupported = (key: string, allowed: string) => {
    throw new InputError(file, prefix + key, tc[key], `not supported: ${allowed}`, 'write a Tessera model card (see docs/formats.md) for this variant');
  };
  for (const key of ['attention_bias', 'mlp_bias']) if (tc[key] !== undefined && tc[key] !== false && tc[key] !== null) unsupported(key, 'Tessera cards model Llama projections without biases (false)');
  const act = tc.hidden_act;
  if (act !== undefined && act !== null && act !== 'silu' && act !== 'swish') unsupported('hidden_act', 'the lowering uses the Llama gated-SiLU MLP ("silu")');
  for (const key of ['num_local_experts', 'num_experts', 'n_routed_experts']) if (typeof tc[key] === 'number' && (tc[key] as number) > 1) unsupported(key, 'mixture-of-experts layers are not modelled (dense decoders only)');
  if (prefix && tc.model_type !== undefined && tc.model_type !== 'llama') unsupported('model_type', 'the Idefics3 text decoder must be "llama" (as in SmolVLM)');
}

function textFrom(tc: Obj, prefix: string, file: string, tieDefault: boolean) {
  checkTextSupported(tc, prefix, file);
  const hidden = req(tc, 'hidden_size', prefix, file);
  const heads = req(tc, 'num_attention_heads', prefix, file);
  // transformers' default head_dim is hidden_size / num_attention_heads: refuse it when not whole
  if (opt(tc, 'head_dim', undefined) === undefined && heads > 0 && hidden % heads !== 0) {
    throw new InputError(file, `${prefix}num_attention_heads`, heads, `must divide hidden_size (${hidden}) when head_dim is not given: ${hidden} / ${heads} = ${(hidden / heads).toFixed(2)} is not a whole head dimension`, `give "head_dim" or a head count that divides ${hidden}`);
  }
  return {
    hiddenSize: hidden,
    intermediateSize: req(tc, 'intermediate_size', prefix, file),
    numLayers: req(tc, 'num_hidden_layers', prefix, file),
    numHeads: heads,
    numKvHeads: opt<number>(tc, 'num_key_value_heads', heads),
    headDim: opt<number>(tc, 'head_dim', hidden / heads),
    vocabSize: req(tc, 'vocab_size', prefix, file),
    maxPositionEmbeddings: opt<number>(tc, 'max_position_embeddings', 2048),
    ropeTheta: opt<number>(tc, 'rope_theta', 10000),
    rmsNormEps: opt<number>(tc, 'rms_norm_eps', 1e-6),
    tieWordEmbeddings: opt<boolean>(tc, 'tie_word_embeddings', tieDefault),
  };
}

/** vision_config.size.longest_edge when the config carries it, else 4 tiles' worth (SmolVLM's default). */
function longestEdge(vc: Obj, imageSizePx: number): number {
  const size = vc.size;
  if (isObj(size) && typeof size.longest_edge === 'number') return size.longest_edge;
  return 4 * imageSizePx;
}

function slug(text: string): string {
  const last = text.split('/').filter(Boolean).pop() ?? text;
  const s = last
    .toLowerCase()
    .replace(/\.json$/, '')
    .replace(/[^a-z0-9.\-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s || 'imported-model';
}

/**
 * Convert a parsed config.json into a validated model card.
 * @param file where it came from, for messages and the card's `source`
 */
export function modelCardFromHfConfig(json: unknown, file: string): ModelCard {
  if (!isObj(json)) throw new InputError(file, '', json, 'expected a JSON object (a HuggingFace config.json)', 'pass the model\'s config.json');
  const archs = Array.isArray(json.architectures) ? (json.architectures as unknown[]).map(String) : [];
  const modelType = typeof json.model_type === 'string' ? json.model_type : '';
  const isLlama = archs.some((a) => LLAMA_ARCHS.includes(a)) || (archs.length === 0 && modelType === 'llama');
  const isIdefics3 = archs.some((a) => IDEFICS3_ARCHS.includes(a)) || (archs.length === 0 && (modelType === 'idefics3' || modelType === 'smolvlm'));
  const nameSource = typeof json._name_or_path === 'string' && json._name_or_path ? json._name_or_path : file;
  const name = slug(nameSource);
  const source = `imported from HuggingFace config ${file}${typeof json._name_or_path === 'string' ? ` (_name_or_path ${json._name_or_path})` : ''}`;

  let card: unknown;
  if (isLlama) {
    card = { kind: 'model', schemaVersion: 1, name, displayName: nameSource, architecture: 'llama', source, text: textFrom(json, '', file, false) };
  } else if (isIdefics3) {
    const tc = json.text_config;
    const vc = json.vision_config;
    if (!isObj(tc)) throw new InputError(file, 'text_config', tc, 'an Idefics3 config needs a text_config object', 'use the complete config.json of the model');
    if (!isObj(vc)) throw new InputError(file, 'vision_config', vc, 'an Idefics3 config needs a vision_config object', 'use the complete config.json of the model');
    const tie = opt<boolean>(json, 'tie_word_embeddings', opt<boolean>(tc, 'tie_word_embeddings', false));
    const text = { ...textFrom(tc, 'text_config.', file, false), tieWordEmbeddings: tie };
    const imageSizePx = opt<number>(vc, 'image_size', 224);
    card = {
      kind: 'model',
      schemaVersion: 1,
      name,
      displayName: nameSource,
      architecture: 'idefics3',
      source,
      text,
      vision: {
        imageSizePx,
        patchSizePx: opt<number>(vc, 'patch_size', 32),
        numChannels: opt<number>(vc, 'num_channels', 3),
        hiddenSize: opt<number>(vc, 'hidden_size', 1152),
        numLayers: opt<number>(vc, 'num_hidden_layers', 12),
        numHeads: opt<number>(vc, 'num_attention_heads', 16),
        intermediateSize: opt<number>(vc, 'intermediate_size', 3072),
        layerNormEps: opt<number>(vc, 'layer_norm_eps', 1e-6),
      },
      connector: { scaleFactor: opt<number>(json, 'scale_factor', 2) },
      imageProcessor: { longestEdgePx: longestEdge(vc, imageSizePx), splitImages: true },
    };
  } else {
    const what = archs.length ? { field: 'architectures', value: archs } : { field: 'model_type', value: json.model_type };
    throw new InputError(
      file,
      what.field,
      what.value,
      `unsupported architecture ${showValue(what.value)}; supported: ${[...LLAMA_ARCHS, ...IDEFICS3_ARCHS].join(', ')} (model_type llama or idefics3)`,
      'write a Tessera model card (see docs/formats.md) for other architectures',
    );
  }
  try {
    return parseInput(ModelCardSchema, card, file);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(file, hfFieldName(e.field, isIdefics3), e.value, e.allowed, e.fix);
    throw e;
  }
}

const TEXT_KEYS: Record<string, string> = {
  hiddenSize: 'hidden_size',
  intermediateSize: 'intermediate_size',
  numLayers: 'num_hidden_layers',
  numHeads: 'num_attention_heads',
  numKvHeads: 'num_key_value_heads',
  headDim: 'head_dim',
  vocabSize: 'vocab_size',
  maxPositionEmbeddings: 'max_position_embeddings',
  ropeTheta: 'rope_theta',
  rmsNormEps: 'rms_norm_eps',
  tieWordEmbeddings: 'tie_word_embeddings',
};
const VISION_KEYS: Record<string, string> = {
  imageSizePx: 'image_size',
  patchSizePx: 'patch_size',
  numChannels: 'num_channels',
  hiddenSize: 'hidden_size',
  numLayers: 'num_hidden_layers',
  numHeads: 'num_attention_heads',
  intermediateSize: 'intermediate_size',
  layerNormEps: 'layer_norm_eps',
};

/** Name a card field by the config.json key it came from, so errors point into the user's file. */
function hfFieldName(field: string, idefics3: boolean): string {
  const [head, key] = field.split('.');
  if (head === 'text' && key && TEXT_KEYS[key]) return (idefics3 ? 'text_config.' : '') + TEXT_KEYS[key];
  if (head === 'vision' && key && VISION_KEYS[key]) return `vision_config.${VISION_KEYS[key]}`;
  if (head === 'connector') return 'scale_factor';
  return field;
}
