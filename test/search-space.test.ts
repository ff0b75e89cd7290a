import { DIMENSIONS, EXCLUDED_FIELDS, SPACE_DIMS, SPACE_VERSION, decodeDesign, designFieldPaths, dimFromUnit, dimToUnit, encodeDesign, gridValues } from '../search/space.js';
import { ScrambledHalton, sampleDesign, samplerBox } from '../search/sampler.js';
import { LLM_DECODE_V2, workloadSpecs } from '../search/workload.js';
import { PRESET_NAMES, presetDesign } from '../sim/design/presets.js';
import { builtinModel } from '../sim/model/catalog.js';
import { MAX_CLOCK_MHZ, PROCESS_NODES_NM } from '../sim/tech/nodes.js';
import { Rng } from '../sim/random/rng.js';
import { simulatorVersion } from '../search/version.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';

describe('design space', () => {
  test('every field of the design schema is a dimension or an explicit, reasoned exclusion', () => {
    const fields = designFieldPaths();
    const dims = DIMENSIONS.map((d) => d.path);
    const excluded = Object.keys(EXCLUDED_FIELDS);
    // a knob added to the schema (e.g. a new mapping.* choice) fails here until the space covers it
    expect(fields.filter((f) => !dims.includes(f) && !excluded.includes(f))).toEqual([]);
    // nothing stale: every dimension and exclusion names a real field, and none is both
    expect([...dims, ...excluded].filter((p) => !fields.includes(p))).toEqual([]);
    expect(dims.filter((d) => excluded.includes(d))).toEqual([]);
    for (const [f, why] of Object.entries(EXCLUDED_FIELDS)) expect({ f, why: why.length > 5 }).toEqual({ f, why: true });
    // the list, and every mapping.* field, are dimensions
    for (const p of ['mesh.rows', 'mesh.cols', 'clockMHz', 'tile.fetchWidth', 'tile.reservationStations', 'tile.vlenBits', 'tile.vectorDispatchPorts', 'tile.imemKiB', 'tile.dmemKiB', 'tile.wmemKiB', 'tile.romBytesPerCycle', 'tile.dmemPorts', 'noc.flitBits', 'noc.virtualChannels', 'noc.bufferDepthFlits', 'noc.routing', 'precision.weights', 'precision.activations', 'precision.kvCache', 'serving.microBatches', 'serving.maxBatch']) expect(dims).toContain(p);
    for (const f of fields.filter((x) => x.startsWith('mapping.'))) expect(dims).toContain(f);
  });

  test('ranges span the paper\'s Table 7 and meshes from 2x2 to 64x64; clocks up to each node\'s maximum', () => {
    const dim = (p: string) => DIMENSIONS.find((d) => d.path === p)!;
    const span = (p: string, node = 7 as const) => {
      const g = gridValues(dim(p), node) as number[];
      return [g[0], g[g.length - 1]];
    };
    expect(span('tile.fetchWidth')).toEqual([1, 16]);
    expect(span('tile.reservationStations')).toEqual([1, 32]);
    expect(span('tile.vlenBits')).toEqual([128, 2048]);
    expect(span('tile.imemKiB')).toEqual([1, 128]);
    expect(span('noc.flitBits')).toEqual([64, 8192]);
    expect(span('mesh.rows')).toEqual([2, 64]);
    const d = span('tile.dmemKiB');
    expect(d[0]).toBeLessThanOrEqual(16);
    expect(d[1]).toBeGreaterThanOrEqual(512);
    for (const n of PROCESS_NODES_NM) expect(Math.max(...(gridValues(dim('clockMHz'), n) as number[]))).toBe(MAX_CLOCK_MHZ[n]);
  });

  test('encode/decode round trip is exact on the grid; codes lie in [0, 1]', () => {
    const rng = new Rng(3, 'test/space');
    for (let k = 0; k < 200; k++) {
      const u = Float64Array.from({ length: SPACE_DIMS }, () => rng.next());
      const d = decodeDesign(u);
      const { vector, offGrid } = encodeDesign(d);
      expect(offGrid).toEqual([]);
      for (const x of vector) expect(x >= 0 && x <= 1).toBe(true);
      expect(decodeDesign(vector)).toEqual(d);
      expect(encodeDesign(decodeDesign(vector)).vector).toEqual(vector);
    }
    // every grid value of every dimension, at every node
    for (const node of PROCESS_NODES_NM) {
      for (const dim of DIMENSIONS) for (const v of gridValues(dim, node)) expect(dimFromUnit(dim, dimToUnit(dim, v, node), node)).toBe(v);
    }
  });

  test('the paper presets are on the grid; a preset with overrides is encoded and flagged', () => {
    for (const name of PRESET_NAMES.filter((n) => n.startsWith('paper-'))) expect({ name, off: encodeDesign(presetDesign(name)!).offGrid }).toEqual({ name, off: [] });
    expect(encodeDesign(presetDesign('hetero-6x6-5nm')!).offGrid.map((o) => o.path)).toContain('tileOverrides');
  });

  test('the space version is a readable name plus a hash of the definition; the simulator version hashes real sources', () => {
    expect(SPACE_VERSION).toMatch(/^space-1\.[0-9a-f]{12}$/);
    // e3b0c44298fc is the hash of nothing: no source file was found
    expect(simulatorVersion(DEFAULT_TECH)).toMatch(/^sim-(?!e3b0c44298fc)[0-9a-f]{12}-tech-[0-9a-f]{12}$/);
  });
});

describe('sampler', () => {
  const card = builtinModel('smollm2-135m')!;
  const settings = { card, modelName: 'smollm2-135m', nodes: [7, 28] as const, seed: 11, workload: LLM_DECODE_V2 };

  test('scrambled Halton points lie in [0, 1) and stratify each coordinate', () => {
    const h = new ScrambledHalton(SPACE_DIMS, 7);
    const pts = Array.from({ length: 64 }, (_, i) => h.point(i));
    for (const p of pts) for (const x of p) expect(x >= 0 && x < 1).toBe(true);
    // base 2 coordinate: exactly half of 64 points in each half
    expect(pts.filter((p) => p[0] < 0.5).length).toBe(32);
  });

  test('label i is a pure function of (seed, i), inside the box, on the node i mod k', () => {
    for (const i of [0, 1, 5]) {
      const a = sampleDesign({ ...settings, nodes: [...settings.nodes] }, i);
      const b = sampleDesign({ ...settings, nodes: [...settings.nodes] }, i);
      expect(a).toEqual(b);
      expect(a.design.processNodeNm).toBe(settings.nodes[i % 2]);
      const box = samplerBox(card, a.design.processNodeNm as 7);
      const r = box.rules['mesh.rows'] as { lo: number; hi: number };
      expect(a.design.mesh.rows).toBeGreaterThanOrEqual(r.lo);
      expect(a.design.mesh.rows).toBeLessThanOrEqual(r.hi);
    }
    expect(sampleDesign({ ...settings, nodes: [...settings.nodes], seed: 12 }, 0).design).not.toEqual(sampleDesign({ ...settings, nodes: [...settings.nodes] }, 0).design);
  });

  test('the workload batch follows the design; the decode run asks the design\'s maxBatch sequences', () => {
    const d = sampleDesign({ ...settings, nodes: [7] }, 2).design;
    const s = workloadSpecs(LLM_DECODE_V2, d);
    expect(s.decode).toBe(`decode:2@512x${d.serving.batching === 'single' ? 1 : d.serving.maxBatch}`);
    expect(s.prefill).toBe('prefill:64');
  });
});
