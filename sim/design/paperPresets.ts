import { builtinModel } from '../model/catalog.js';
import { weightBytes } from '../model/derive.js';
import type { DesignInput } from './design.js';

/**
 * The paper's published design points (arXiv 2604.07526; ../shared/reference/
 * paper-digest.md section 8) as presets `paper-llama-<node>nm` and
 * `paper-smolvlm-<node>nm`. Meshes and clocks are the paper's (Tables 10/11 and 19).
 * Per-tile sizes come from its Table 16 (3 nm medians: FETCH 2, VLEN 1024, STANUM 3,
 * IMEM 6 KB, DFLIT 2048, WMEM 9564 KB, DMEM 64 KB) where given; the paper publishes no
 * per-tile sizes for other nodes or for SmolVLM, so those are derived as stated in each
 * preset's description. Every Llama preset is feasible for decode:1@512 (tested).
 */

const LLAMA_POINTS: readonly [nm: 3 | 5 | 7 | 10 | 14 | 22 | 28, rows: number, cols: number, clockMHz: number, dmemKiB: number][] = [
  [3, 41, 42, 1000, 128],
  [5, 39, 39, 820, 128],
  [7, 33, 34, 570, 128],
  [10, 26, 27, 520, 256],
  [14, 21, 22, 400, 256],
  [22, 16, 16, 250, 512],
  [28, 11, 12, 250, 1024],
];

const SMOLVLM_POINTS: readonly [nm: 3 | 5 | 7 | 10 | 14 | 22 | 28, rows: number, cols: number][] = [
  [3, 2, 4],
  [5, 3, 4],
  [7, 3, 4],
  [10, 3, 3],
  [14, 2, 4],
  [22, 3, 4],
  [28, 3, 4],
];

/**
 * Cached tokens each Llama preset's KV cache holds (FP16 / INT8 KV), as mapped by
 * `tessera sim` on 2026-12-03 (the distributed dataflow's activation buffers, max batch 3,
 * 64-token chunks); sequences of 513 tokens in brackets.
 */
const KV_HELD: Record<number, string> = {
  3: '1,162 cached tokens at FP16 KV (2 sequences of 513 tokens) and 2,288 at INT8 (4)',
  5: '1,011 cached tokens at FP16 KV (1 sequence of 513 tokens) and 1,991 at INT8 (3)',
  7: '715 cached tokens at FP16 KV (1 sequence of 513 tokens) and 1,409 at INT8 (2)',
  10: '1,009 cached tokens at FP16 KV (1 sequence of 513 tokens) and 1,987 at INT8 (3)',
  14: '622 cached tokens at FP16 KV (1 sequence of 513 tokens) and 1,226 at INT8 (2)',
  22: '743 cached tokens at FP16 KV (1 sequence of 513 tokens) and 1,463 at INT8 (2)',
  28: '759 cached tokens at FP16 KV (1 sequence of 513 tokens) and 1,496 at INT8 (2)',
};

/** Table 16's 3 nm per-tile medians. */
const TABLE16 = { fetchWidth: 2, reservationStations: 3, vlenBits: 1024, imemKiB: 6, wmemKiB: 9564, dmemKiB: 64, flitBits: 2048 };

/** Uniform WMEM that holds `bytes` of weights over `tiles` tiles with 3% slack for region rounding. */
function wmemFor(bytes: number, tiles: number): number {
  return Math.ceil((1.03 * bytes) / tiles / 1024);
}

function tile(wmemKiB: number, dmemKiB: number) {
  return {
    fetchWidth: TABLE16.fetchWidth,
    reservationStations: TABLE16.reservationStations,
    vlenBits: TABLE16.vlenBits,
    dmemKiB,
    wmemKiB,
    imemKiB: TABLE16.imemKiB,
    // write and dispatch ports are not published; 2 each (Table 7 allows 1-16) lets a
    // ROM load and a MAC issue together, which the ROM port width assumes
    scalarWritePorts: 2,
    vectorWritePorts: 2,
    scalarDispatchPorts: 2,
    vectorDispatchPorts: 2,
  };
}

export function paperPresets(): Record<string, DesignInput> {
  const out: Record<string, DesignInput> = {};
  const llamaBytes = weightBytes(builtinModel('llama-3.1-8b')!, 'fp16').totalBytes;
  for (const [nm, rows, cols, clockMHz, dmemKiB] of LLAMA_POINTS) {
    const tiles = rows * cols;
    const wmem = nm === 3 ? TABLE16.wmemKiB : wmemFor(llamaBytes, tiles);
    const changes = [
      nm === 3 ? 'WMEM 9564 KiB is Table 16\'s median' : `WMEM ${wmem} KiB = 16.06 GB of FP16 weights / ${tiles} tiles + 3% (the paper gives no per-tile sizes at ${nm} nm)`,
      dmemKiB === TABLE16.dmemKiB
        ? 'DMEM is Table 16\'s median'
        : `DMEM ${dmemKiB} KiB instead of Table 16's 64 KiB median, so that a 513-token context's KV cache fits (the paper spills KV into ROM; Tessera does not): next to the activation buffers of 64-token prefill chunks it holds ${KV_HELD[nm]}, so at FP16 KV fewer than the 3 micro-batches' sequences are in flight at a 512-token context`,
      'layers pipelined over 8 mesh regions of 3 to 5 layers (sized by weight bytes: the embedding table shares the first, the LM head the last) with 3 micro-batches: the paper\'s batch 3',
      'with the technology table\'s default one-bit-per-cell mask ROM the chip is larger than the 858 mm2 reticle (the paper reports no die count), so it is cut into reticle-sized dies joined by die-to-die links whose latency and energy are charged; the report prints the count (`tessera tech --design` the area)',
    ];
    out[`paper-llama-${nm}nm`] = {
      kind: 'design',
      schemaVersion: 1,
      name: `paper-llama-${nm}nm`,
      description: `Llama 3.1 8B FP16 at ${nm} nm: ${rows}x${cols} mesh at ${clockMHz} MHz (paper Tables 10-11). ${changes.join('; ')}.`,
      source: 'arXiv 2604.07526 Tables 10, 11 and 16',
      processNodeNm: nm,
      clockMHz,
      mesh: { rows, cols },
      noc: { flitBits: TABLE16.flitBits, virtualChannels: 2, bufferDepthFlits: 4, routing: 'xy', multicast: 'tree' },
      tile: tile(wmem, dmemKiB),
      precision: { weights: 'fp16', activations: 'fp16', kvCache: 'fp16' },
      mapping: { pipelineStages: 8, kvWindowTokens: 0, heterogeneousTiles: false },
      serving: { batching: 'continuous', maxBatch: 3, prefillChunkTokens: 64, microBatches: 3 },
    };
  }
  const smolBytes = weightBytes(builtinModel('smolvlm-256m')!, 'fp16').totalBytes;
  for (const [nm, rows, cols] of SMOLVLM_POINTS) {
    const tiles = rows * cols;
    const wmem = wmemFor(smolBytes, tiles);
    out[`paper-smolvlm-${nm}nm`] = {
      kind: 'design',
      schemaVersion: 1,
      name: `paper-smolvlm-${nm}nm`,
      description: `SmolVLM-256M (the paper's 0.48 GB SmolVLM, FP16 weights) at ${nm} nm: ${rows}x${cols} mesh at 10 MHz, low-power mode (paper Table 19). Per-tile sizes are not published: Table 16's 3 nm medians for FETCH/VLEN/STANUM/IMEM/DFLIT, WMEM ${wmem} KiB = 513 MB / ${tiles} tiles + 3%, DMEM 1024 KiB with an INT4 KV cache so a 512x512 image (17 encoder crops, 1,088 tokens) plus a 32-token prompt and 32 outputs fits (the KV cache holds 1,292 to 1,951 tokens depending on the mesh; the encoder's buffers for a crop live in the request's own KV allocation while it is still empty).`,
      source: 'arXiv 2604.07526 Table 19 (mesh, clock); Table 16 (tile medians)',
      processNodeNm: nm,
      clockMHz: 10,
      mesh: { rows, cols },
      noc: { flitBits: TABLE16.flitBits, virtualChannels: 2, bufferDepthFlits: 4, routing: 'xy', multicast: 'tree' },
      tile: tile(wmem, 1024),
      precision: { weights: 'fp16', activations: 'fp16', kvCache: 'int4' },
      mapping: { pipelineStages: 1, kvWindowTokens: 0, heterogeneousTiles: false },
      serving: { batching: 'continuous', maxBatch: 1, prefillChunkTokens: 64, microBatches: 1 },
    };
  }
  return out;
}
