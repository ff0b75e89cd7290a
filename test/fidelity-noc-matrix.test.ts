import { ampleNoc, runFidelity, sampleFidelityDesigns, type FidelityDesign, type FidelityModel, type FidelityRun } from './noc-fidelity-designs.js';

/**
 * Issue 11, "Fast vs flit fidelity": the message-level NoC (fast fidelity, what a search
 * labels designs with) against the flit-level NoC (flit fidelity, the reference) on a matrix
 * of designs across VCs, buffer depth, flit width and mesh size. The flit figures are
 * computed here, every run; the message model's calibration (sim/noc/messageCalibration.ts)
 * was frozen before this matrix was written and fitted on other designs and seeds
 * (bench/noc-calibration.bench.ts).
 *
 * - knob ladders: a NoC-bound base design with one knob stepped at a time; neighbouring
 *   rungs differ in exactly that knob. `tiny` on 4x4 (VCs with per-VC injection queues and
 *   with tree multicast over one-flit buffers, buffer depth, flit width; mesh 2x2 to 5x5)
 *   and SmolLM2-135M with tree multicast on 8x8 (VCs, buffer depth, flit width; mesh 4x4 to
 *   12x12);
 * - sampled designs: a seeded sample of `tiny` designs over the design space's NoC ranges,
 *   meshes 2 to 16 a side.
 *
 * Checks: tokens/s within 10% and power within 3% on every design; at least 10 designs
 * NoC-sensitive (flit tokens/s at least 15% below the same design with 8 VCs, 32-flit
 * buffers and 2048-bit flits); wherever one knob step moves flit tokens/s by 3% or more, fast
 * fidelity moves it the same way by 0.5x to 2x as much. One tolerance for every design.
 */
const TRACE: Record<FidelityModel, string> = { tiny: 'decode:4@64', 'smollm2-135m': 'decode:2@32' };
const SAMPLE_SEED = 2026;
const SAMPLED = 12;
const SAMPLED_MESH_MAX = 16;

const base: FidelityDesign = { rows: 4, cols: 4, noc: { virtualChannels: 2, bufferDepthFlits: 2, flitBits: 128 } };
const perVc: FidelityDesign = { rows: 4, cols: 4, noc: { bufferDepthFlits: 2, flitBits: 128, injectionQueues: 'per-vc' } };
const tree: FidelityDesign = { rows: 4, cols: 4, noc: { bufferDepthFlits: 1, flitBits: 64, multicast: 'tree' } };
const smol: FidelityDesign = { model: 'smollm2-135m', rows: 8, cols: 8, noc: { virtualChannels: 2, bufferDepthFlits: 2, flitBits: 128, multicast: 'tree' } };
const withNoc = (d: FidelityDesign, noc: FidelityDesign['noc']): FidelityDesign => ({ ...d, noc: { ...d.noc, ...noc } });
const LADDERS: { knob: string; rungs: FidelityDesign[] }[] = [
  { knob: 'virtual channels (per-VC injection queues)', rungs: [1, 2, 4, 8].map((v) => withNoc(perVc, { virtualChannels: v })) },
  { knob: 'virtual channels (tree multicast, 1-flit buffers)', rungs: [1, 2, 4].map((v) => withNoc(tree, { virtualChannels: v })) },
  { knob: 'buffer depth', rungs: [1, 2, 4, 8].map((b) => withNoc(base, { bufferDepthFlits: b })) },
  { knob: 'flit width', rungs: [64, 128, 256, 512].map((f) => withNoc(base, { flitBits: f })) },
  { knob: 'mesh size', rungs: [2, 3, 4, 5].map((k) => ({ ...base, rows: k, cols: k })) },
  { knob: 'SmolLM2 virtual channels', rungs: [2, 4, 8].map((v) => withNoc(smol, { virtualChannels: v })) },
  { knob: 'SmolLM2 buffer depth', rungs: [1, 2, 4].map((b) => withNoc(smol, { bufferDepthFlits: b })) },
  { knob: 'SmolLM2 flit width', rungs: [128, 256, 512].map((f) => withNoc(smol, { flitBits: f })) },
  { knob: 'SmolLM2 mesh size', rungs: [4, 8, 12].map((k) => ({ ...smol, rows: k, cols: k })) },
];

const key = (d: FidelityDesign) => JSON.stringify(d);
const label = (d: FidelityDesign) => `${d.model ?? 'tiny'} ${d.rows}x${d.cols} ${JSON.stringify(d.noc)}${d.pipelineStages && d.pipelineStages > 1 ? ` ${d.pipelineStages} stages` : ''}`;
const run = (d: FidelityDesign, fidelity: 'fast' | 'flit') => runFidelity(d, TRACE[d.model ?? 'tiny'], fidelity);

describe('fast (message-level NoC) vs flit (flit-level NoC) fidelity', () => {
  // every distinct design once, at fast and flit fidelity, and its ample-NoC twin at flit
  const designs = new Map<string, FidelityDesign>();
  for (const l of LADDERS) for (const d of l.rungs) designs.set(key(d), d);
  const sampled = sampleFidelityDesigns(SAMPLE_SEED, SAMPLED, SAMPLED_MESH_MAX);
  for (const d of sampled) designs.set(key(d), d);
  const runs = new Map<string, { fast: FidelityRun; flit: FidelityRun; ample: FidelityRun }>();
  const measure = (d: FidelityDesign) => {
    let r = runs.get(key(d));
    if (!r) {
      r = { fast: run(d, 'fast'), flit: run(d, 'flit'), ample: run(ampleNoc(d), 'flit') };
      runs.set(key(d), r);
    }
    return r;
  };

  test(`${designs.size} designs (${SAMPLED} sampled): tokens/s within 10% and power within 3% of the flit model`, () => {
    const rows: string[] = [];
    let sensitive = 0;
    for (const d of designs.values()) {
      const { fast, flit, ample } = measure(d);
      const tps = fast.tokensPerSecond / flit.tokensPerSecond - 1;
      const power = fast.powerW / flit.powerW - 1;
      const below = 1 - flit.tokensPerSecond / ample.tokensPerSecond;
      if (below >= 0.15) sensitive++;
      rows.push(`${label(d).padEnd(110)} flit ${flit.tokensPerSecond.toFixed(0).padStart(7)} tok/s (${(100 * below).toFixed(0).padStart(3)}% below ample NoC)  fast ${(100 * tps).toFixed(2).padStart(6)}% tok/s ${(100 * power).toFixed(2).padStart(6)}% power`);
      expect({ design: label(d), tokensWithin10: Math.abs(tps) <= 0.1, powerWithin3: Math.abs(power) <= 0.03 }).toEqual({ design: label(d), tokensWithin10: true, powerWithin3: true });
    }
    console.log(`fast vs flit on ${designs.size} designs (tiny ${TRACE.tiny}, SmolLM2-135M ${TRACE['smollm2-135m']}):\n${rows.join('\n')}`);
    expect(designs.size).toBeGreaterThanOrEqual(20);
    expect(sampled.length).toBeGreaterThanOrEqual(10);
    expect(sensitive).toBeGreaterThanOrEqual(10);
  });

  test('every knob step that moves flit tokens/s by 3% or more moves fast tokens/s the same way by 0.5x-2x as much', () => {
    const rows: string[] = [];
    let checked = 0;
    for (const { knob, rungs } of LADDERS) {
      for (let i = 1; i < rungs.length; i++) {
        const a = measure(rungs[i - 1]);
        const b = measure(rungs[i]);
        const flitMove = b.flit.tokensPerSecond / a.flit.tokensPerSecond - 1;
        const fastMove = b.fast.tokensPerSecond / a.fast.tokensPerSecond - 1;
        rows.push(`${knob}: ${label(rungs[i - 1])} -> ${label(rungs[i])}: flit ${(100 * flitMove).toFixed(1)}%, fast ${(100 * fastMove).toFixed(1)}%`);
        if (Math.abs(flitMove) < 0.03) continue;
        checked++;
        const ratio = fastMove / flitMove;
        expect({ knob, step: i, ratioIn: ratio >= 0.5 && ratio <= 2 }).toEqual({ knob, step: i, ratioIn: true });
      }
    }
    console.log(rows.join('\n'));
    // every knob moves tokens/s somewhere on its ladder
    expect(checked).toBeGreaterThanOrEqual(LADDERS.length);
  });
});
