import type { ModelCard } from '../../sim/model/card.js';
import type { Design, TileParams } from '../../sim/design/design.js';
import type { TechTable } from '../../sim/tech/table.js';
import { commonValues, nodeValues, type CommonValues, type NodeValues } from '../../sim/tech/table.js';
import { romReadPjPerByteAt, sramReadPjPerByte } from '../../sim/tech/scaling.js';
import type { ProcessNodeNm } from '../../sim/tech/nodes.js';
import { decodeWeightBytesPerStep, kvBytesPerTokenPerLayer, kvScaleBytesPerTokenPerLayer, weightBytes } from '../../sim/model/derive.js';
import { decodeMacsPerToken, dmemBytesPerCycle, lanesOf, romBytesPerCycle } from '../../sim/chip/bounds.js';
import { areaOf, tileAreaOf } from '../../sim/power/area.js';
import { PRECISIONS, type Precision } from '../../sim/units/precision.js';
import { DIMENSIONS, encodeDesign } from '../space.js';
import { decodeBatch, type LabelWorkload } from '../workload.js';
import { estimateDecodeStep, type StepEstimate } from './latency.js';
import { estimateCriticalPath, kvCapacityTokensEstimate, type PathEstimate } from './dataflow.js';
import { kernelWork, type KernelWork } from './kernels.js';

/**
 * Surrogate features (docs/search.md "Surrogate"): the design's encoding (categorical
 * dimensions one-hot) plus analytic quantities that are cheap (O(1) per design for uniform
 * tiles) and fair to use because the simulator's own bounds follow the same equations:
 * the compute and memory (ROM, DMEM) throughput bounds of the label workload's decode step
 * (paper Eqs. 21-22; sim/chip/bounds.ts), the area from the area model, an energy-per-token
 * floor (ROM bytes and MACs at the node's energies), capacity ratios of ROM and DMEM, and
 * the node's technology values. Everything is a logarithm where the quantity is a scale.
 */

export interface FeatureContext {
  readonly card: ModelCard;
  readonly tech: TechTable;
  readonly workload: LabelWorkload;
  /**
   * Also run the path's tile work through the tile model's kernels (kernels.ts): exact
   * kernel efficiency, ~10-20 ms a design on a miss (memoised by tile and shape). The
   * accuracy model's features; the explore command's fast model leaves them out.
   */
  readonly kernels?: boolean;
}

/** Per-(card, precision) constants, computed once. */
interface CardConstants {
  readonly weightBytes: Record<Precision, number>;
  readonly stepWeightBytes: Record<Precision, number>;
  readonly kvBytesPerTokenLayer: Record<Precision, number>;
  readonly macsPerToken: Map<number, number>;
}

const cardCache = new WeakMap<ModelCard, CardConstants>();

/** Node and common values of a tech table, built once per table (nodeValues builds a fresh object per call). */
const techCache = new WeakMap<TechTable, { nodes: Map<number, NodeValues>; common: CommonValues }>();

function techOf(tech: TechTable, node: number): { n: NodeValues; c: CommonValues } {
  let t = techCache.get(tech);
  if (!t) {
    t = { nodes: new Map(), common: commonValues(tech) };
    techCache.set(tech, t);
  }
  let n = t.nodes.get(node);
  if (!n) {
    n = nodeValues(tech, node as ProcessNodeNm);
    t.nodes.set(node, n);
  }
  return { n, c: t.common };
}

function constantsOf(card: ModelCard): CardConstants {
  let c = cardCache.get(card);
  if (!c) {
    const by = <T>(f: (p: Precision) => T) => Object.fromEntries(PRECISIONS.map((p) => [p, f(p)])) as Record<Precision, T>;
    c = {
      weightBytes: by((p) => weightBytes(card, p).totalBytes),
      stepWeightBytes: by((p) => decodeWeightBytesPerStep(card, p).totalBytes),
      kvBytesPerTokenLayer: by((p) => kvBytesPerTokenPerLayer(card, p) + kvScaleBytesPerTokenPerLayer(card, p)),
      macsPerToken: new Map(),
    };
    cardCache.set(card, c);
  }
  return c;
}

/** Per-byte read energies by (table, node, macro size): the interpolations are costly on the hot path. */
const energyMemo = new WeakMap<TechTable, Map<string, number>>();
function memoEnergy(tech: TechTable, node: number, what: string, size: number, f: () => number): number {
  let m = energyMemo.get(tech);
  if (!m) energyMemo.set(tech, (m = new Map()));
  const key = `${what}${node}:${size}`;
  let v = m.get(key);
  if (v === undefined) m.set(key, (v = f()));
  return v;
}

export interface Analytic {
  readonly tiles: number;
  readonly batch: number;
  readonly computeTokensPerSecond: number;
  readonly romTokensPerSecond: number;
  readonly dmemTokensPerSecond: number;
  /** min of the three: the chip-wide throughput ceiling. */
  readonly boundTokensPerSecond: number;
  /** The decode step's estimated latency (latency.ts) and what it implies. */
  readonly step: StepEstimate;
  /** The step's critical path on the distributed dataflow (dataflow.ts), for the sequences the KV cache admits. */
  readonly path: PathEstimate;
  /** Sequences decoded together: the design's batch, or fewer when the KV cache holds fewer (estimated). */
  readonly sequences: number;
  /** Tokens/s the mapping bound gives on the estimated path (critical path with the micro-batches in flight, busiest tile), at most the chip-wide bound; on the kernels' path when the context asks for them. */
  readonly estTokensPerSecond: number;
  /** The same path with the tile model's kernels for its work (only with `FeatureContext.kernels`). */
  readonly kernelPath?: PathEstimate;
  /** The estimate on the path with work at resource limits (equal to `estTokensPerSecond` without kernels). */
  readonly limitTokensPerSecond: number;
  /** With kernels: the dynamic energy of a token from the kernels' activity counters (tile) plus the flits' estimate (J). */
  readonly kernelEnergyJ?: number;
  /** Estimated cycles of the prefill run (its chunks, one after another). */
  readonly prefillCycles: number;
  readonly areaMm2: number;
  /** True when `areaMm2` is the area model's exact value (uniform tiles). */
  readonly areaExact: boolean;
  /** Estimated energy per token of the work itself (ROM, MACs and registers, KV reads, flits, ROM leakage while read) at the clock's supply. */
  readonly energyFloorJ: number;
  /** Power spent whatever the chip does: logic and SRAM leakage at the clock's supply, router clocks. */
  readonly leakageW: number;
  readonly romSlack: number;
  readonly dmemSlack: number;
  /** Supply voltage under DVFS relative to nominal. */
  readonly vddRatio: number;
  readonly clockMHz: number;
}

/** Area of a design with every tile equal to `design.tile` (exact for designs without overrides). */
export function uniformAreaMm2(design: Design, tech: TechTable): number {
  return uniformTileArea(design, tech).totalMm2 * design.mesh.rows * design.mesh.cols * (1 + techOf(tech, design.processNodeNm).c.chipOverheadFraction);
}

function uniformTileArea(design: Design, tech: TechTable) {
  const { n, c } = techOf(tech, design.processNodeNm);
  return tileAreaOf(design.tile, design.noc.flitBits, design.noc.virtualChannels, design.noc.bufferDepthFlits, n, c);
}

export function analytic(design: Design, ctx: FeatureContext): Analytic {
  const k = constantsOf(ctx.card);
  const tile: TileParams = design.tile;
  const n = design.mesh.rows * design.mesh.cols;
  const f = design.clockMHz * 1e6;
  const w = ctx.workload.decode;
  const ctxTokens = w.contextTokens + Math.floor(w.outputTokens / 2);
  const window = design.mapping.kvWindowTokens;
  const key = ctxTokens * 1e8 + window;
  let macs = k.macsPerToken.get(key);
  if (macs === undefined) {
    macs = decodeMacsPerToken(ctx.card, ctxTokens, window);
    k.macsPerToken.set(key, macs);
  }
  const B = decodeBatch(design);
  const compute = (lanesOf(tile, design) * n * f) / macs;
  const rom = (B * romBytesPerCycle(tile) * n * f) / k.stepWeightBytes[design.precision.weights];
  const positions = window > 0 ? Math.min(ctxTokens + 1, window) : ctxTokens + 1;
  const kvStep = B * positions * ctx.card.text.numLayers * k.kvBytesPerTokenLayer[design.precision.kvCache];
  const dmem = (B * dmemBytesPerCycle(tile) * n * f) / kvStep;
  const bound = Math.min(compute, rom, dmem);
  // the decode step's latency (the hub-style estimate: its serialisation and hop parts are features)
  const step = estimateDecodeStep(ctx.card, design, B, ctxTokens);
  // the sequences the KV cache admits together (sim/chip/run.ts concurrencyOf), then the
  // mapping bound's two step limits (run.ts): `slots` micro-batch steps in flight along the
  // critical path, and the busiest tile's work per step; the path also pays the waits at
  // busy ports (unicast copies, children at a parent) that the simulator has and the bound does not
  const need = window > 0 ? Math.min(w.contextTokens + w.outputTokens, window) : w.contextTokens + w.outputTokens;
  const sequences = Math.max(1, Math.min(B, Math.floor(kvCapacityTokensEstimate(ctx.card, design, need) / need)));
  const path = estimateCriticalPath(ctx.card, design, sequences, ctxTokens);
  const estOn = (p: PathEstimate) => Math.min(bound, (Math.min(p.slots * p.rows, sequences) * f) / (p.cycles + p.serialCycles), (p.rows * f) / p.busiestTileCycles);
  const limitEst = estOn(path);
  const kw: KernelWork | undefined = ctx.kernels ? kernelWork(design) : undefined;
  const kernelPath = kw ? estimateCriticalPath(ctx.card, design, sequences, ctxTokens, design.serving.batching, kw.cycles) : undefined;
  const est = kernelPath ? estOn(kernelPath) : limitEst;
  // prefill: the prompt in chunks of prefillChunkTokens rows, one step each
  const prompt = ctx.workload.prefill.promptTokens;
  const chunk = Math.max(1, Math.min(prompt, design.serving.prefillChunkTokens));
  const prefill = estimateDecodeStep(ctx.card, design, chunk, prompt / 2, 'single');
  const prefillCycles = Math.ceil(prompt / chunk) * prefill.cycles;
  const uniform = design.tileOverrides.length === 0;
  const tArea = uniformTileArea(design, ctx.tech);
  const { n: nv, c: cv } = techOf(ctx.tech, design.processNodeNm);
  const areaMm2 = uniform ? tArea.totalMm2 * n * (1 + cv.chipOverheadFraction) : areaOf(design, ctx.tech).totalMm2;
  // DVFS (sim/tech/scaling.ts): V(f) linear from vddMinV to nominal at the node's maximum clock
  const vdd = nv.vddMinV + ((nv.vddNominalV - nv.vddMinV) * Math.min(design.clockMHz, nv.maxClockMHz)) / nv.maxClockMHz;
  const ratio = vdd / nv.vddNominalV;
  const dyn = ratio * ratio;
  const macPj = design.precision.activations === 'int8' ? nv.macInt8Pj : nv.macFp16Pj;
  const actBits = design.precision.activations === 'int8' ? 8 : 16;
  const leakF = ratio ** cv.leakageVddExponent;
  // dynamic energy of one token (sim/power/energyMap.ts), each term from its counter's
  // first-principles count: ROM bytes of a step / B at the macro size's read energy; MACs
  // with two operand reads and a write-back in the register files; the step's KV bytes / B
  // from DMEM; the step's flit-hops / B through buffers (write, read) and a tile pitch of
  // wire. Instruction overheads are left to the model.
  const romBytesTile = tile.wmemKiB * 1024;
  const romPj = memoEnergy(ctx.tech, design.processNodeNm, 'rom', romBytesTile, () => romReadPjPerByteAt(nv, cv, romBytesTile));
  const stepRom = k.stepWeightBytes[design.precision.weights];
  const pitchMm = Math.sqrt(tArea.totalMm2);
  const flitPj = design.noc.flitBits * (2 * nv.registerFilePjPerBit + 2 * nv.wirePjPerBitMm * pitchMm);
  const flitTokenPj = (step.flitHops / step.rows) * flitPj;
  const energyPj =
    (stepRom / B) * romPj +
    macs * (macPj + 3 * actBits * nv.registerFilePjPerBit) +
    (kvStep / B) * memoEnergy(ctx.tech, design.processNodeNm, 'sram', tile.dmemKiB, () => sramReadPjPerByte(nv, tile.dmemKiB * 1024)) +
    flitTokenPj;
  // ROM leakage while it reads (idle cycles are power-gated): the step's ROM cycles / B
  const romLeakPj = (stepRom / B / romBytesPerCycle(tile)) * ((tArea.romMm2 * nv.romLeakageMwPerMm2 * 1e3) / design.clockMHz) * leakF;
  const energyFloorJ = (energyPj * dyn + romLeakPj) * 1e-12;
  // continuous leakage (logic and SRAM, mW/mm2) and the routers' clocked flops (sim/power/energy.ts)
  const leakMw = n * (tArea.logicMm2 * nv.logicLeakageMwPerMm2 + tArea.sramMm2 * nv.sramLeakageMwPerMm2) * leakF;
  const clockW = n * tArea.routerFlopMm2 * nv.clockTreePjPerMm2Cycle * dyn * f * 1e-12;
  return {
    tiles: n,
    batch: B,
    computeTokensPerSecond: compute,
    romTokensPerSecond: rom,
    dmemTokensPerSecond: dmem,
    boundTokensPerSecond: bound,
    step,
    path,
    sequences,
    estTokensPerSecond: est,
    kernelPath,
    limitTokensPerSecond: limitEst,
    // the kernels' counters are charged at the design's supply already (energyOf)
    kernelEnergyJ: kw && kernelPath ? (kw.tileEnergyPj(ctx.tech) / kernelPath.rows + flitTokenPj * dyn) * 1e-12 : undefined,
    prefillCycles,
    areaMm2,
    areaExact: uniform && !design.mapping.heterogeneousTiles,
    energyFloorJ,
    leakageW: leakMw * 1e-3 + clockW,
    romSlack: (n * tile.wmemKiB * 1024) / k.weightBytes[design.precision.weights],
    dmemSlack: (n * tile.dmemKiB * 1024) / Math.max(1, B * (w.contextTokens + w.outputTokens) * ctx.card.text.numLayers * k.kvBytesPerTokenLayer[design.precision.kvCache]),
    vddRatio: ratio,
    clockMHz: design.clockMHz,
  };
}

const ln = Math.log;

/** Names of the features, in order. */
export const FEATURE_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const d of DIMENSIONS) {
    if (d.kind === 'categorical') for (const v of d.values!) names.push(`${d.path}=${String(v)}`);
    else names.push(d.path);
  }
  names.push(
    'log tiles',
    'log clock',
    'log batch',
    'log compute bound',
    'log ROM bound',
    'log DMEM bound',
    'log bound',
    'log area',
    'log energy floor',
    'log power floor',
    'log leakage estimate',
    'log ROM slack',
    'log DMEM slack',
    'log bisection',
    'log vdd',
    'log dynamic energy scale',
    'log logic leakage density',
    'mesh aspect',
    'stages per tile',
    'micro-batches in flight',
    'log step cycles (estimate)',
    'log step serialisation cycles',
    'log step hop cycles',
    'log step work cycles',
    'log region tiles',
    'log estimated tokens/s',
    'log prefill cycles (estimate)',
    'leakage share of energy (estimate)',
    'vdd ratio',
    // renamed whenever the path changes (v2: regions sized by weight, credit loops; v3: regions
    // grouped by mapping.ts groupUnits itself, on cumulative bytes): a model trained
    // on the earlier path is refused (loadSurrogate) rather than fed different values
    'log path cycles (estimate v3)',
    'log path message cycles',
    'log path work cycles',
    'log busiest tile cycles',
    'log sequences admitted',
    'KV-limited',
    'log path port waits',
  );
  return names;
})();

export const FEATURE_COUNT = FEATURE_NAMES.length;

/** Appended with `FeatureContext.kernels`: the path with the tile model's kernels for its work. */
export const KERNEL_FEATURE_NAMES: readonly string[] = ['log kernel path cycles', 'log kernel work cycles', 'log kernel work over limits', 'log kernel busiest tile cycles', 'log estimated tokens/s at limits', 'log kernel energy per token', 'log kernel energy over floor', 'log kernel path rate over busiest-tile rate', 'log port waits over kernel path'];

/** The feature names of a context (with or without the kernel features). */
export function featureNamesFor(kernels: boolean | undefined): readonly string[] {
  return kernels ? [...FEATURE_NAMES, ...KERNEL_FEATURE_NAMES] : FEATURE_NAMES;
}

export function featureCount(ctx: Pick<FeatureContext, 'kernels'>): number {
  return FEATURE_COUNT + (ctx.kernels ? KERNEL_FEATURE_NAMES.length : 0);
}

/** Features of one design into `out` at `offset` (returns the analytic quantities). */
export function writeFeatures(design: Design, ctx: FeatureContext, out: Float32Array, offset: number): Analytic {
  const enc = encodeDesign(design).vector;
  let j = offset;
  DIMENSIONS.forEach((d, i) => {
    if (d.kind === 'categorical') {
      const k = d.values!.length;
      const idx = Math.min(k - 1, Math.floor(enc[i] * k));
      for (let v = 0; v < k; v++) out[j++] = v === idx ? 1 : 0;
    } else out[j++] = enc[i];
  });
  const a = analytic(design, ctx);
  const nv = techOf(ctx.tech, design.processNodeNm).n;
  const s = design.serving;
  out[j++] = ln(a.tiles);
  out[j++] = ln(design.clockMHz);
  out[j++] = ln(a.batch);
  out[j++] = ln(a.computeTokensPerSecond);
  out[j++] = ln(a.romTokensPerSecond);
  out[j++] = ln(a.dmemTokensPerSecond);
  out[j++] = ln(a.boundTokensPerSecond);
  out[j++] = ln(a.areaMm2);
  out[j++] = ln(a.energyFloorJ);
  out[j++] = ln(a.energyFloorJ * a.estTokensPerSecond);
  out[j++] = ln(a.leakageW);
  out[j++] = ln(a.romSlack);
  out[j++] = ln(a.dmemSlack);
  out[j++] = ln((Math.min(design.mesh.rows, design.mesh.cols) * design.noc.flitBits * design.clockMHz) / 8);
  out[j++] = ln(nv.vddNominalV);
  out[j++] = ln(nv.dynamicEnergyScale);
  out[j++] = ln(nv.logicLeakageMwPerMm2);
  out[j++] = ln(design.mesh.rows / design.mesh.cols);
  out[j++] = design.mapping.pipelineStages / a.tiles;
  out[j++] = s.batching === 'single' ? 1 : Math.min(s.microBatches, s.maxBatch);
  out[j++] = ln(a.step.cycles);
  out[j++] = ln(1 + a.step.serialCycles);
  out[j++] = ln(1 + a.step.hopCycles);
  out[j++] = ln(1 + a.step.workCycles);
  out[j++] = ln(a.step.regionTiles);
  out[j++] = ln(a.estTokensPerSecond);
  out[j++] = ln(a.prefillCycles);
  const leakJ = a.leakageW / a.estTokensPerSecond;
  out[j++] = leakJ / (leakJ + a.energyFloorJ);
  out[j++] = a.vddRatio;
  out[j++] = ln(a.path.cycles);
  out[j++] = ln(1 + a.path.netCycles);
  out[j++] = ln(1 + a.path.workCycles);
  out[j++] = ln(1 + a.path.busiestTileCycles);
  out[j++] = ln(a.sequences);
  out[j++] = a.sequences < a.batch ? 1 : 0;
  out[j++] = ln(1 + a.path.serialCycles);
  const kp = a.kernelPath;
  if (kp) {
    out[j++] = ln(kp.cycles);
    out[j++] = ln(1 + kp.workCycles);
    out[j++] = ln((1 + kp.workCycles) / (1 + a.path.workCycles));
    out[j++] = ln(1 + kp.busiestTileCycles);
    out[j++] = ln(a.limitTokensPerSecond);
    out[j++] = ln(a.kernelEnergyJ!);
    out[j++] = ln(a.kernelEnergyJ! / a.energyFloorJ);
    // the mapping bound's two step limits apart (micro-batches in flight along the path, the busiest tile), and the waits against the path
    out[j++] = ln((Math.min(kp.slots * kp.rows, a.sequences) * kp.busiestTileCycles) / (kp.rows * (kp.cycles + kp.serialCycles)));
    out[j++] = ln((1 + kp.serialCycles) / kp.cycles);
  }
  return a;
}

/** Features of many designs: an n x featureCount(ctx) matrix and each design's analytic values. */
export function featureMatrix(designs: readonly Design[], ctx: FeatureContext): { x: Float32Array; analytic: Analytic[] } {
  const d = featureCount(ctx);
  const x = new Float32Array(designs.length * d);
  const an = designs.map((design, i) => writeFeatures(design, ctx, x, i * d));
  return { x, analytic: an };
}
