import * as fs from 'node:fs';
import { parseAzureCsv } from '../sim/trace/azure.js';
import { generateTrace } from '../sim/trace/generators.js';
import { summarizeTrace } from '../sim/trace/trace.js';

const DIR = 'traces/azure-llm-inference-2023';

describe('Azure trace importer', () => {
  test.each([
    ['AzureLLMInferenceTrace_conv.csv', 19_366],
    ['AzureLLMInferenceTrace_code.csv', 8_819],
  ])('%s is read completely', (file, rows) => {
    const text = fs.readFileSync(`${DIR}/${file}`, 'utf8');
    // expected count from the file itself: every data row starts with a date
    const dataRows = text.split(/\r?\n/).filter((l) => /^\d{4}-\d{2}-\d{2} /.test(l));
    expect(dataRows.length).toBe(rows);
    const trace = parseAzureCsv(text, file);
    expect(trace.requests.length).toBe(rows);
    const sumPrompt = dataRows.reduce((s, l) => s + Number(l.split(',')[1]), 0);
    const sumOut = dataRows.reduce((s, l) => s + Number(l.split(',')[2]), 0);
    const s = summarizeTrace(trace);
    expect(s.promptTokens).toBe(sumPrompt);
    expect(s.outputTokens).toBe(sumOut);
    expect(trace.requests[0].arrivalMs).toBe(0);
    for (let i = 1; i < trace.requests.length; i++) expect(trace.requests[i].arrivalMs).toBeGreaterThanOrEqual(trace.requests[i - 1].arrivalMs);
    // first to last timestamp, from the raw text
    const ms = (l: string) => Date.parse(`${l.split(',')[0].replace(' ', 'T').slice(0, 23)}Z`);
    expect(Math.abs(s.durationMs - (ms(dataRows[dataRows.length - 1]) - ms(dataRows[0])))).toBeLessThan(1);
    expect(trace.license).toBe('CC-BY-4.0');
    expect(trace.attribution).toMatch(/Splitwise/);
  });

  test('sub-millisecond timestamps keep their order and resolution', () => {
    const t = parseAzureCsv('TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:15:46.6805900,10,2\r\n2023-11-16 18:15:46.6805901,5,3\r\n2023-11-16 18:15:47.0000000,1,1', 'x.csv');
    expect(t.requests.map((r) => r.arrivalMs)).toEqual([0, 0.0001, 319.41]);
  });
});

describe('synthetic generators', () => {
  test('decode:N@C is one cached-context request', () => {
    const t = generateTrace('decode:128@512');
    expect(t.requests).toEqual([{ id: 0, arrivalMs: 0, promptTokens: 512, outputTokens: 128, contextCached: true, images: [] }]);
  });

  test('decode:N@CxB is B requests decoding together', () => {
    const t = generateTrace('decode:4@100x3');
    expect(t.requests.length).toBe(3);
    expect(t.requests.every((r) => r.arrivalMs === 0 && r.contextCached && r.promptTokens === 100 && r.outputTokens === 4)).toBe(true);
  });

  test('prefill:P and request:P:N with images', () => {
    expect(generateTrace('prefill:1000').requests[0]).toMatchObject({ promptTokens: 1000, outputTokens: 1, contextCached: false });
    expect(generateTrace('request:32:32,image=512x512').requests[0]).toMatchObject({ promptTokens: 32, outputTokens: 32, images: [{ widthPx: 512, heightPx: 512 }] });
  });

  test('poisson arrivals have the requested rate and length distributions, deterministically per seed', () => {
    const spec = 'poisson:rate=4,n=4000,prompt=uniform(10,20),output=exp(50)';
    const a = generateTrace(spec, 9);
    expect(generateTrace(spec, 9)).toEqual(a);
    expect(generateTrace(spec, 10)).not.toEqual(a);
    const s = summarizeTrace(a);
    // mean inter-arrival 250 ms: duration ~ 3999 x 250 ms, sd ~ sqrt(3999) x 250
    expect(Math.abs(s.durationMs - 3999 * 250)).toBeLessThan(4 * Math.sqrt(3999) * 250);
    expect(a.requests.every((r) => r.promptTokens >= 10 && r.promptTokens <= 20)).toBe(true);
    expect(Math.abs(s.outputTokens / 4000 - 50)).toBeLessThan(3);
    const fixed = generateTrace('poisson:rate=1,n=5,prompt=7,output=fixed(3)');
    expect(fixed.requests.every((r) => r.promptTokens === 7 && r.outputTokens === 3)).toBe(true);
  });

  test.each(['decode:abc', 'decode:0@10', 'prefill:-3', 'poisson:rate=0,n=5,prompt=1,output=1', 'poisson:n=5', 'request:5', 'decode:1@1,image=12', 'poisson:rate=1,n=2,prompt=zipf(1),output=1', 'decode:1@5,color=red'])(
    'bad spec %s is an input error',
    (spec) => {
      expect(() => generateTrace(spec)).toThrow(spec);
    },
  );
});
