import { parseInput } from '../validate/zod.js';
import { DesignSchema, type Design, type DesignInput } from './design.js';
import { paperPresets } from './paperPresets.js';

/**
 * Named built-in designs. Presets are written in full (no reliance on defaults for the
 * core fields) so they document the format by example.
 */
const BASIC_PRESETS: Readonly<Record<string, DesignInput>> = {
  'tiny-2x2': {
    kind: 'design',
    schemaVersion: 1,
    name: 'tiny-2x2',
    description: 'A 2x2 mesh at 7 nm sized for the tiny test models; fast enough for exhaustive tests',
    processNodeNm: 7,
    clockMHz: 500,
    mesh: { rows: 2, cols: 2 },
    noc: { flitBits: 128, virtualChannels: 2, bufferDepthFlits: 4, routing: 'xy' },
    tile: { fetchWidth: 2, reservationStations: 8, vlenBits: 256, dmemKiB: 64, wmemKiB: 256, imemKiB: 8, scalarWritePorts: 1, vectorWritePorts: 1, scalarDispatchPorts: 1, vectorDispatchPorts: 1 },
    precision: { weights: 'fp16', activations: 'fp16', kvCache: 'fp16' },
  },
  'edge-4x4-28nm': {
    kind: 'design',
    schemaVersion: 1,
    name: 'edge-4x4-28nm',
    description: 'Low-power 4x4 mesh at 28 nm, 50 MHz, for SmolLM2-135M-class models at FP16 (17 MiB of ROM per tile)',
    processNodeNm: 28,
    clockMHz: 50,
    mesh: { rows: 4, cols: 4 },
    noc: { flitBits: 256, virtualChannels: 2, bufferDepthFlits: 4, routing: 'xy' },
    tile: { fetchWidth: 2, reservationStations: 8, vlenBits: 512, dmemKiB: 256, wmemKiB: 17408, imemKiB: 16, scalarWritePorts: 1, vectorWritePorts: 2, scalarDispatchPorts: 1, vectorDispatchPorts: 2 },
    precision: { weights: 'fp16', activations: 'fp16', kvCache: 'fp16' },
  },
  'w4a16-8x8-7nm': {
    kind: 'design',
    schemaVersion: 1,
    name: 'w4a16-8x8-7nm',
    description: 'An 8x8 mesh at 7 nm, 570 MHz, W4A16 with an INT8 KV cache: Llama 3.2 1B-class weights in 10 MiB of ROM per tile',
    processNodeNm: 7,
    clockMHz: 570,
    mesh: { rows: 8, cols: 8 },
    noc: { flitBits: 512, virtualChannels: 4, bufferDepthFlits: 8, routing: 'xy' },
    tile: { fetchWidth: 4, reservationStations: 16, vlenBits: 1024, dmemKiB: 512, wmemKiB: 10240, imemKiB: 16, scalarWritePorts: 2, vectorWritePorts: 2, scalarDispatchPorts: 2, vectorDispatchPorts: 2 },
    precision: { weights: 'int4', activations: 'fp16', kvCache: 'int8' },
  },
  'hetero-6x6-5nm': {
    kind: 'design',
    schemaVersion: 1,
    name: 'hetero-6x6-5nm',
    description: 'A 6x6 mesh at 5 nm with wider vector units in the centre 2x2 tiles (shows per-tile overrides)',
    processNodeNm: 5,
    clockMHz: 800,
    mesh: { rows: 6, cols: 6 },
    noc: { flitBits: 1024, virtualChannels: 4, bufferDepthFlits: 4, routing: 'xy' },
    tile: { fetchWidth: 2, reservationStations: 8, vlenBits: 512, dmemKiB: 256, wmemKiB: 8192, imemKiB: 8, scalarWritePorts: 1, vectorWritePorts: 1, scalarDispatchPorts: 1, vectorDispatchPorts: 1 },
    tileOverrides: [{ row: [2, 3], col: [2, 3], fetchWidth: 4, vlenBits: 2048, dmemKiB: 512 }],
    precision: { weights: 'int8', activations: 'int8', kvCache: 'int8' },
  },
};

const PRESETS: Readonly<Record<string, DesignInput>> = { ...BASIC_PRESETS, ...paperPresets() };

export const PRESET_NAMES: readonly string[] = Object.keys(PRESETS);

const cache = new Map<string, Design>();

/** The preset called `name`, validated; undefined if there is none. */
export function presetDesign(name: string): Design | undefined {
  if (!Object.hasOwn(PRESETS, name)) return undefined; // not 'toString' and friends
  const raw = PRESETS[name];
  let d = cache.get(name);
  if (!d) {
    d = parseInput(DesignSchema, raw, `preset ${name}`);
    cache.set(name, d);
  }
  return d;
}
