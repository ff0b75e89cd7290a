import type { Loaded } from './load.js';
import { block, fmtBytes, fmtDurationMs, fmtInt, fmtSi } from './format.js';
import { summarizeModel, type ModelSummary } from '../sim/model/derive.js';
import { summarizeTrace, type TraceSummary } from '../sim/trace/trace.js';
import { summarizeDesign, type DesignSummary } from '../sim/design/tiles.js';
import type { Design } from '../sim/design/design.js';

/** The summary record `tessera validate --json` prints for one input. */
export type Summary =
  | ({ input: string; kind: 'model'; origin: string } & ModelSummary)
  | ({ input: string; kind: 'trace'; origin: string } & TraceSummary)
  | ({ input: string; kind: 'design'; origin: string; design: Design } & DesignSummary);

export function summarize(doc: Loaded): Summary {
  switch (doc.kind) {
    case 'model':
      return { input: doc.input, kind: 'model', origin: doc.origin, ...summarizeModel(doc.model) };
    case 'trace':
      return { input: doc.input, kind: 'trace', origin: doc.origin, ...summarizeTrace(doc.trace) };
    case 'design':
      return { input: doc.input, kind: 'design', origin: doc.origin, ...summarizeDesign(doc.design), design: doc.design };
  }
}

function q(b: { weightBytes: number; scaleBytes: number; totalBytes: number }): string {
  return b.scaleBytes ? `${fmtBytes(b.weightBytes)} + ${fmtBytes(b.scaleBytes)} scales` : fmtBytes(b.weightBytes);
}

/** Human-readable block for one summary. */
export function renderSummary(s: Summary): string {
  switch (s.kind) {
    case 'model': {
      const rows: [string, string][] = [
        ['parameters', `${fmtInt(s.parameters)}${s.parameterBreakdown.vision ? ` (text ${fmtInt(s.parameterBreakdown.text)}, vision ${fmtInt(s.parameterBreakdown.vision)}, connector ${fmtInt(s.parameterBreakdown.connector)})` : ''}`],
        ['weights fp16', q(s.weightBytes.fp16)],
        ['weights int8', q(s.weightBytes.int8)],
        ['weights int4', q(s.weightBytes.int4)],
        ['decode step streams', `${q(s.decodeWeightBytesPerStep.fp16)} at fp16`],
        ['KV cache', `${fmtInt(s.kvBytesPerTokenPerLayer)} B/token/layer, ${fmtInt(s.kvBytesPerToken.fp16)} B/token at fp16 (int8 ${fmtInt(s.kvBytesPerToken.int8)}, int4 ${fmtInt(s.kvBytesPerToken.int4)} incl. scales)`],
        ['decode FLOPs', `${fmtSi(s.decodeFlopsPerTokenAtContext0, 'FLOP')}/token + ${fmtInt(s.decodeFlopsPerCachedToken)} per cached token`],
        ['max context', `${fmtInt(s.maxContextTokens)} tokens`],
      ];
      if (s.imageTokensPerTile !== undefined) rows.push(['vision', `${s.imageTokensPerTile} tokens and ${fmtSi(s.visionFlopsPerTile ?? 0, 'FLOP')} per encoder tile`]);
      return block(`${s.input}: model ${s.displayName} (${s.architecture}, ${s.origin})`, rows);
    }
    case 'trace':
      return block(`${s.input}: trace ${s.name} (${s.origin})`, [
        ['requests', fmtInt(s.requests)],
        ['prompt tokens', `${fmtInt(s.promptTokens)} (max ${fmtInt(s.maxPromptTokens)})`],
        ['output tokens', `${fmtInt(s.outputTokens)} (max ${fmtInt(s.maxOutputTokens)})`],
        ['images', fmtInt(s.images)],
        ['cached contexts', fmtInt(s.cachedContextRequests)],
        ['duration', fmtDurationMs(s.durationMs)],
      ]);
    case 'design':
      return block(`${s.input}: design ${s.name} (${s.origin})`, [
        ['process / clock', `${s.processNodeNm} nm, ${s.clockMHz} MHz`],
        ['mesh', `${s.mesh} = ${fmtInt(s.tiles)} tiles${s.overriddenTiles ? ` (${s.overriddenTiles} with overrides)` : ''}`],
        ['weight ROM', fmtBytes(s.wmemTotalBytes)],
        ['DMEM / IMEM', `${fmtBytes(s.dmemTotalBytes)} / ${fmtBytes(s.imemTotalBytes)}`],
        ['NoC', `${s.flitBits}-bit flits, bisection ${fmtBytes(s.bisectionBytesPerSecond)}/s`],
        ['precision', s.precision],
      ]);
  }
}
