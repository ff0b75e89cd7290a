import { InputError } from '../sim/validate/inputError.js';
import * as fs from 'node:fs';
import { builtinModel, BUILTIN_MODEL_NAMES } from '../sim/model/catalog.js';
import {
  decodeFlopsPerToken,
  decodeWeightBytesPerStep,
  imageTiles,
  imageTokens,
  kvBytesPerToken,
  kvBytesPerTokenPerLayer,
  layerMatrixShapes,
  parameterCounts,
  summarizeModel,
  visionFlopsPerTile,
  weightBytes,
} from '../sim/model/derive.js';
import { modelCardFromHfConfig } from '../sim/model/hfConfig.js';
import type { ModelCard } from '../sim/model/card.js';

const card = (n: string): ModelCard => {
  const c = builtinModel(n);
  if (!c) throw new Error(`no model ${n}`);
  return c;
};

describe('model cards', () => {
  test.each([
    ['llama-3.1-8b', 8_030_261_248],
    ['llama-3.2-1b', 1_235_814_400],
    ['smollm2-135m', 134_515_008],
    ['smolvlm-instruct', 2_246_272_880],
    ['smolvlm-256m', 256_484_928],
    ['smolvlm-500m', 507_482_304],
  ])('%s has exactly the published parameter count', (name, published) => {
    expect(parameterCounts(card(name)).total).toBe(published);
  });

  test('vision encoder and connector counts match models.md section 2', () => {
    expect(parameterCounts(card('smolvlm-instruct')).vision).toBe(412_987_248);
    expect(parameterCounts(card('smolvlm-instruct')).connector).toBe(21_233_664);
    expect(parameterCounts(card('smolvlm-256m')).vision).toBe(86_433_024);
    expect(parameterCounts(card('smolvlm-256m')).connector).toBe(7_077_888);
  });

  test('Llama 3.1 8B KV cache is 131,072 bytes per token at FP16 (2 x 32 x 8 x 128 x 2)', () => {
    const m = card('llama-3.1-8b');
    expect(kvBytesPerToken(m, 'fp16')).toBe(2 * 32 * 8 * 128 * 2);
    expect(kvBytesPerToken(m, 'fp16')).toBe(131_072);
    expect(kvBytesPerTokenPerLayer(m, 'int8')).toBe(2 * 8 * 128);
    expect(kvBytesPerTokenPerLayer(m, 'int4')).toBe(8 * 128);
    // INT8 adds one FP16 scale per KV head for K and V, per layer
    expect(kvBytesPerToken(m, 'int8')).toBe(32 * (2 * 8 * 128 + 2 * 8 * 2));
  });

  test('weight bytes per precision, computed independently from the shapes', () => {
    const m = card('llama-3.1-8b');
    const h = 4096, I = 14336, L = 32, V = 128256, q = 4096, k = 1024;
    // matrices as [out, in]
    const mats: [number, number, number][] = [
      [V, h, 1], // embedding
      [q, h, L], [k, h, L], [k, h, L], [h, q, L], [I, h, L], [I, h, L], [h, I, L],
      [V, h, 1], // lm head
    ];
    const vecElems = 2 * L * h + h;
    const matElems = mats.reduce((s, [o, i, n]) => s + o * i * n, 0);
    expect(matElems + vecElems).toBe(8_030_261_248);
    expect(weightBytes(m, 'fp16')).toEqual({ weightBytes: 2 * 8_030_261_248, scaleBytes: 0, totalBytes: 2 * 8_030_261_248 });
    const int8Scales = mats.reduce((s, [o, , n]) => s + o * n * 2, 0);
    expect(weightBytes(m, 'int8')).toEqual({ weightBytes: matElems + 2 * vecElems, scaleBytes: int8Scales, totalBytes: matElems + 2 * vecElems + int8Scales });
    const int4Scales = mats.reduce((s, [o, i, n]) => s + o * Math.ceil(i / 128) * n * 2, 0);
    expect(weightBytes(m, 'int4').weightBytes).toBe(matElems / 2 + 2 * vecElems);
    expect(weightBytes(m, 'int4').scaleBytes).toBe(int4Scales);
  });

  test('decode FLOPs and streamed weight bytes per token match models.md section 3', () => {
    const m = card('llama-3.1-8b');
    expect(decodeFlopsPerToken(m, 0)).toBe(2 * (32 * 218_103_808 + 128_256 * 4096));
    expect(decodeFlopsPerToken(m, 8192) - decodeFlopsPerToken(m, 0)).toBe(524_288 * 8192);
    // every linear weight + LM head + norms + one embedding row, FP16
    const streamed = 2 * (32 * 218_103_808 + 128_256 * 4096 + (2 * 32 + 1) * 4096 + 4096);
    expect(decodeWeightBytesPerStep(m, 'fp16').totalBytes).toBe(streamed);
    expect(decodeFlopsPerToken(card('llama-3.2-1b'), 1) - decodeFlopsPerToken(card('llama-3.2-1b'), 0)).toBe(131_072);
    expect(decodeFlopsPerToken(card('smollm2-135m'), 1) - decodeFlopsPerToken(card('smollm2-135m'), 0)).toBe(69_120);
    // a tied model streams its embedding matrix as the head
    const tied = card('smollm2-135m');
    expect(decodeWeightBytesPerStep(tied, 'fp16').totalBytes).toBe(2 * (30 * 3_538_944 + 49_152 * 576 + (2 * 30 + 1) * 576 + 576));
  });

  test('per-layer matrix shapes follow models.md section 4', () => {
    expect(layerMatrixShapes(card('llama-3.1-8b').text).map((s) => [s.name, s.inFeatures, s.outFeatures])).toEqual([
      ['q_proj', 4096, 4096], ['k_proj', 4096, 1024], ['v_proj', 4096, 1024], ['o_proj', 4096, 4096],
      ['gate_proj', 4096, 14336], ['up_proj', 4096, 14336], ['down_proj', 14336, 4096],
    ]);
  });

  test('image tokens: 64 per 512 px tile for SmolVLM-256M, 81 per 384 px tile for SmolVLM-Instruct', () => {
    expect(summarizeModel(card('smolvlm-256m')).imageTokensPerTile).toBe(64);
    expect(summarizeModel(card('smolvlm-instruct')).imageTokensPerTile).toBe(81);
    // Idefics3 processor: upscale to the 2048 px longest edge -> 4 x 4 tiles + 1 global view
    expect(imageTiles(card('smolvlm-256m'), 512, 512)).toEqual({ rows: 4, cols: 4, tiles: 17 });
    expect(imageTokens(card('smolvlm-256m'), 512, 512)).toBe(17 * 64);
    expect(imageTokens(card('smolvlm-instruct'), 1000, 500)).toBe((4 * 2 + 1) * 81);
    expect(visionFlopsPerTile(card('smolvlm-256m')) / 1e9).toBeCloseTo(214.7, 1);
    expect(visionFlopsPerTile(card('smolvlm-instruct')) / 1e9).toBeGreaterThan(600);
  });

  test('every built-in card validates and cites a source', () => {
    for (const n of BUILTIN_MODEL_NAMES) expect(card(n).source.length).toBeGreaterThan(20);
  });
});

describe('HuggingFace config import', () => {
  const strip = (c: ModelCard) => ({ architecture: c.architecture, text: c.text, vision: c.vision, connector: c.connector, imageProcessor: c.imageProcessor });
  test.each(['llama-3.1-8b', 'llama-3.2-1b', 'smollm2-135m', 'smolvlm-instruct', 'smolvlm-256m'])('%s config.json gives the same card', (name) => {
    const file = `test/fixtures/hf/${name}.config.json`;
    const imported = modelCardFromHfConfig(JSON.parse(fs.readFileSync(file, 'utf8')), file);
    expect(strip(imported)).toEqual(strip(card(name)));
    expect(summarizeModel(imported).parameters).toBe(summarizeModel(card(name)).parameters);
    expect(imported.source).toContain(file);
  });

  const read = (name: string) => JSON.parse(fs.readFileSync(`test/fixtures/hf/${name}.config.json`, 'utf8'));
  test.each([
    ['attention biases', 'llama-3.2-1b', (o: any) => (o.attention_bias = true), 'attention_bias'],
    ['MLP biases', 'llama-3.1-8b', (o: any) => (o.mlp_bias = true), 'mlp_bias'],
    ['a GELU MLP', 'smollm2-135m', (o: any) => (o.hidden_act = 'gelu'), 'hidden_act'],
    ['mixture of experts', 'llama-3.2-1b', (o: any) => (o.num_local_experts = 8), 'num_local_experts'],
    ['a Qwen2 decoder inside Idefics3', 'smolvlm-256m', (o: any) => (o.text_config.model_type = 'qwen2'), 'text_config.model_type'],
    ['biases inside the Idefics3 decoder', 'smolvlm-256m', (o: any) => (o.text_config.attention_bias = true), 'text_config.attention_bias'],
  ])('a config with %s is rejected, naming the key, not imported as plain Llama', (_what, name, change, field) => {
    const o = read(name);
    change(o);
    let err: unknown;
    try {
      modelCardFromHfConfig(o, 'x.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).field).toBe(field);
    expect((err as InputError).message).toMatch(/not supported/);
  });

  test('explicit false biases, "silu" and a one-expert field are accepted', () => {
    const o = read('llama-3.2-1b');
    Object.assign(o, { attention_bias: false, mlp_bias: false, hidden_act: 'silu', num_local_experts: 1 });
    expect(modelCardFromHfConfig(o, 'x.json').text).toEqual(card('llama-3.2-1b').text);
  });
});
