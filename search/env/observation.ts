import type { ModelCard } from '../../sim/model/card.js';
import { PROCESS_NODES_NM, MAX_CLOCK_MHZ, type ProcessNodeNm } from '../../sim/tech/nodes.js';
import { nodeValues } from '../../sim/tech/table.js';
import { decodeMacsPerToken } from '../../sim/chip/bounds.js';
import { linearParamsPerLayer, parameterCounts, weightBytes, kvBytesPerToken } from '../../sim/model/derive.js';
import { DIMENSIONS, encodeDesign } from '../space.js';
import type { DesignScore, SearchContext } from './evaluate.js';

/**
 * The observation (docs/explore.md "Observation"), the paper's state (Table 2,
 * paper-digest section 4) on Tessera's quantities. Every field is scaled to about [-1, 1]
 * or [0, 1]. `source` says where a field comes from:
 *
 * - `card`: the model card (exact, constant for a run's model);
 * - `node`: the process node and its technology values (exact);
 * - `design`: the design's encoding in the space (exact);
 * - `mapping`: the mapping summary, the mapping pass's own equations for uniform tiles
 *   (exact up to one weight row per tile; mappingSummary.ts says why not the pass itself);
 * - `analytic`: the simulator's bound equations and the area model (exact, cheap);
 * - `tile model`: one representative kernel on the design's tile (measured, memoised);
 * - `surrogate`: the surrogate's predictions and their uncertainty (learned);
 * - `episode`: the run's constraints and the step within the episode.
 *
 * The gate of the mixture-of-experts actor sees the `card` and `node` groups only.
 */

export type ObsSource = 'card' | 'node' | 'design' | 'mapping' | 'analytic' | 'tile model' | 'surrogate' | 'episode';

export interface ObsField {
  readonly name: string;
  readonly source: ObsSource;
  readonly what: string;
}

export interface StepInfo {
  readonly step: number;
  readonly episodeSteps: number;
}

type Writer = (s: DesignScore, ctx: SearchContext, info: StepInfo) => number;

const clip = (x: number, lo: number, hi: number) => (Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : x > 0 ? hi : lo);
const lg = (x: number) => Math.log(Math.max(1e-30, x));

/** Workload features of a card (constant per run). */
function cardFeatures(card: ModelCard): number[] {
  const params = parameterCounts(card).total;
  const t = card.text;
  const macs = decodeMacsPerToken(card, 512);
  return [
    Math.log10(params) / 10,
    Math.log10(weightBytes(card, 'fp16').totalBytes) / 10,
    t.numLayers / 64,
    Math.log2(t.hiddenSize) / 16,
    Math.log10(kvBytesPerToken(card, 'fp16')) / 7,
    (t.numLayers * linearParamsPerLayer(t) + t.vocabSize * t.hiddenSize) / macs,
    card.vision ? 1 : 0,
  ];
}

const CARD_FIELDS = ['log10 parameters / 10', 'log10 FP16 weight bytes / 10', 'decoder layers / 64', 'log2 hidden size / 16', 'log10 FP16 KV bytes per token / 7', 'matmul share of decode MACs (512-token context)', 'has a vision encoder'];

const cardCache = new WeakMap<ModelCard, number[]>();

const FIELDS: { field: ObsField; write: Writer }[] = [];
const add = (name: string, source: ObsSource, what: string, write: Writer) => FIELDS.push({ field: { name, source, what }, write });

CARD_FIELDS.forEach((what, i) =>
  add(`card.${i}`, 'card', what, (_s, ctx) => {
    let f = cardCache.get(ctx.card);
    if (!f) cardCache.set(ctx.card, (f = cardFeatures(ctx.card)));
    return f[i];
  }),
);
for (const nm of PROCESS_NODES_NM) add(`node.is${nm}nm`, 'node', `one-hot: the design is at ${nm} nm`, (s) => (s.design.processNodeNm === nm ? 1 : 0));
add('node.logVdd', 'node', 'ln of the nominal supply (V)', (s, ctx) => Math.log(nodeValues(ctx.tech, s.design.processNodeNm as ProcessNodeNm).vddNominalV));
add('node.logEnergyScale', 'node', 'ln of the logic energy scale vs 45 nm / 3', (s, ctx) => Math.log(nodeValues(ctx.tech, s.design.processNodeNm as ProcessNodeNm).dynamicEnergyScale) / 3);
add('node.maxClock', 'node', "the node's maximum clock / 1000 MHz", (s) => MAX_CLOCK_MHZ[s.design.processNodeNm as ProcessNodeNm] / 1000);
DIMENSIONS.forEach((d, i) => {
  if (d.path === 'processNodeNm') return;
  add(`design.${d.path}`, 'design', `encoding coordinate of ${d.path} in [0, 1] (${d.what})`, (s) => encodingOf(s)[i]);
});
add('mapping.feasible', 'mapping', 'weights, activations and the workload\'s KV cache fit (1) or not (0)', (s) => (s.mapping.feasible ? 1 : 0));
add('mapping.regions', 'mapping', 'log2 pipeline regions / 6', (s) => Math.log2(s.mapping.regions) / 6);
add('mapping.weightPressure', 'mapping', 'largest tile ROM load / WMEM (clipped to 3)', (s) => clip(s.mapping.weightPressure, 0, 3));
add('mapping.dmemPressure', 'mapping', 'largest tile DMEM need / DMEM (clipped to 3)', (s) => clip(s.mapping.dmemPressure, 0, 3));
add('mapping.memoryPressure', 'mapping', 'Eq. 17 memory pressure / 1.5 (clipped to 3)', (s) => clip(s.mapping.memoryPressure / 1.5, 0, 3));
add('mapping.loadCv', 'mapping', 'coefficient of variation of the tiles\' ROM load', (s) => clip(s.mapping.loadCv, 0, 3));
add('mapping.loadMaxOverMean', 'mapping', 'busiest tile\'s ROM load / mean - 1', (s) => clip(s.mapping.loadMaxOverMean - 1, 0, 3));
add('mapping.loadMinOverMax', 'mapping', 'least over most loaded tile', (s) => s.mapping.loadMinOverMax);
add('mapping.kvCapacity', 'mapping', 'ln(KV capacity / tokens the workload needs) / 5, clipped to [-1, 1]', (s) => clip(lg(s.mapping.kvCapacityRatio) / 5, -1, 1));
add('mapping.shortfall', 'mapping', 'summed relative shortfall of what does not fit (clipped to 3)', (s) => clip(s.mapping.shortfall, 0, 3));
add('analytic.logTiles', 'analytic', 'ln tiles / 8', (s) => Math.log(s.analytic.tiles) / 8);
add('analytic.computeBound', 'analytic', 'ln(compute bound / reference tokens/s) / 5 (Eq. 21)', (s, ctx) => clip(lg(s.analytic.computeTokensPerSecond / ctx.reference.tokensPerSecond) / 5, -3, 3));
add('analytic.romBound', 'analytic', 'ln(ROM bound / reference tokens/s) / 5 (Eq. 22)', (s, ctx) => clip(lg(s.analytic.romTokensPerSecond / ctx.reference.tokensPerSecond) / 5, -3, 3));
add('analytic.dmemBound', 'analytic', 'ln(DMEM bound / reference tokens/s) / 5 (Eq. 22, KV)', (s, ctx) => clip(lg(s.analytic.dmemTokensPerSecond / ctx.reference.tokensPerSecond) / 5, -3, 3));
add('analytic.energyFloor', 'analytic', 'ln(energy floor x reference tokens/s / reference power) / 5', (s, ctx) => clip(lg((s.analytic.energyFloorJ * ctx.reference.tokensPerSecond) / ctx.reference.powerW) / 5, -3, 3));
add('analytic.leakage', 'analytic', 'ln(leakage estimate / reference power) / 5', (s, ctx) => clip(lg(s.analytic.leakageW / ctx.reference.powerW) / 5, -3, 3));
add('analytic.dies', 'analytic', 'ln dies the area needs under the reticle', (s) => Math.log(s.dies));
add('hazards.raw', 'tile model', 'share of kernel cycles stalled on RAW hazards', (s) => s.hazards.raw);
add('hazards.reservation', 'tile model', 'share stalled on full reservation stations (WAR/WAW room)', (s) => s.hazards.reservation);
add('hazards.structural', 'tile model', 'share stalled on write or dispatch ports', (s) => s.hazards.structural);
add('hazards.fetch', 'tile model', 'share stalled on instruction fetch', (s) => s.hazards.fetch);
add('hazards.memoryPorts', 'tile model', 'share stalled on ROM or DMEM ports', (s) => s.hazards.memoryPorts);
add('hazards.score', 'tile model', 'hazard score of Eq. 34 (RAW + reservation + structural)', (s) => s.hazards.score);
add('hazards.laneUtilisation', 'tile model', 'MACs per cycle over the vector lanes on the kernel', (s) => s.hazards.laneUtilisation);
add('surrogate.tokens', 'surrogate', 'ln(predicted tokens/s / reference) / 5', (s, ctx) => clip((s.predicted.logTokensPerSecond - Math.log(ctx.reference.tokensPerSecond)) / 5, -3, 3));
add('surrogate.power', 'surrogate', 'ln(predicted power / reference) / 5', (s, ctx) => clip((s.predicted.logPowerW - Math.log(ctx.reference.powerW)) / 5, -3, 3));
add('surrogate.energy', 'surrogate', 'ln(predicted energy per token / reference energy per token) / 5', (s, ctx) => clip((s.predicted.logEnergyPerTokenJ - Math.log(ctx.reference.powerW / ctx.reference.tokensPerSecond)) / 5, -3, 3));
add('surrogate.ttft', 'surrogate', 'ln(predicted TTFT / 1 s) / 5', (s) => clip((s.predicted.logTtftMs - Math.log(1000)) / 5, -3, 3));
add('surrogate.itlP99', 'surrogate', 'ln(predicted inter-token latency p99 / 1 s) / 5', (s) => clip((s.predicted.logItlP99Ms - Math.log(1000)) / 5, -3, 3));
add('surrogate.area', 'surrogate', 'ln(area / reference) / 5 (exact for uniform tiles)', (s, ctx) => clip((s.predicted.logAreaMm2 - Math.log(ctx.reference.areaMm2)) / 5, -3, 3));
add('surrogate.sigmaTokens', 'surrogate', 'log-space sigma of tokens/s (uncertainty)', (s) => clip(s.predicted.sigmaTokens, 0, 3));
add('surrogate.sigmaPower', 'surrogate', 'log-space sigma of power', (s) => clip(s.predicted.sigmaPower, 0, 3));
add('surrogate.sigmaArea', 'surrogate', 'log-space sigma of area (0 when exact)', (s) => clip(s.predicted.sigmaArea, 0, 3));
add('surrogate.pFeasible', 'surrogate', 'P(feasible under the run\'s constraints)', (s) => s.pFeasible);
add('surrogate.objective', 'surrogate', 'predicted PPA objective J / 4 (clipped to [-1, 1])', (s) => clip(s.ppa.objective / 4, -1, 1));
add('surrogate.score', 'surrogate', 'predicted PPA score (feasible: (0, 1); infeasible: <= 0, clipped at -3)', (s) => clip(s.ppa.score, -3, 1));
add('episode.powerBudget', 'episode', 'ln(power budget / reference power) / 5 (0 without one)', (_s, ctx) => (ctx.constraints.powerBudgetW ? Math.log(ctx.constraints.powerBudgetW / ctx.reference.powerW) / 5 : 0));
add('episode.areaBudget', 'episode', 'ln(area budget / reference area) / 5 (0 without one)', (_s, ctx) => (ctx.constraints.areaBudgetMm2 ? Math.log(ctx.constraints.areaBudgetMm2 / ctx.reference.areaMm2) / 5 : 0));
add('episode.maxDies', 'episode', '1 / the die limit (0 without one)', (_s, ctx) => (ctx.constraints.maxDies ? 1 / ctx.constraints.maxDies : 0));
add('episode.progress', 'episode', 'step within the episode / episode length', (_s, _ctx, info) => info.step / info.episodeSteps);
add('episode.reward', 'surrogate', 'the design\'s Eq. 34 reward / 5', (s) => s.reward / 5);

const encCache = new WeakMap<DesignScore, Float64Array>();
function encodingOf(s: DesignScore): Float64Array {
  let e = encCache.get(s);
  if (!e) encCache.set(s, (e = encodeDesign(s.design).vector));
  return e;
}

export const OBS_FIELDS: readonly ObsField[] = FIELDS.map((f) => f.field);
export const OBS_DIM = OBS_FIELDS.length;
/** Indices of the fields the MoE gate sees (card and node). */
export const GATE_FIELDS: readonly number[] = OBS_FIELDS.flatMap((f, i) => (f.source === 'card' || f.source === 'node' ? [i] : []));

/** The observation of a scored design at a step of an episode. */
export function observe(s: DesignScore, ctx: SearchContext, info: StepInfo, out = new Float32Array(OBS_DIM)): Float32Array {
  for (let i = 0; i < FIELDS.length; i++) {
    const v = FIELDS[i].write(s, ctx, info);
    out[i] = Number.isFinite(v) ? v : 0;
  }
  return out;
}
