import { PRESET_NAMES, presetDesign } from '../sim/design/presets.js';
import { resolveTiles, summarizeDesign } from '../sim/design/tiles.js';
import { DesignSchema } from '../sim/design/design.js';
import { parseInput } from '../sim/validate/zod.js';

describe('chip designs', () => {
  test('every preset validates', () => {
    expect(PRESET_NAMES.length).toBeGreaterThanOrEqual(3);
    for (const n of PRESET_NAMES) expect(presetDesign(n)?.name).toBe(n);
  });

  test('per-tile overrides apply to their rectangle only, later entries winning', () => {
    const d = parseInput(
      DesignSchema,
      {
        ...presetDesign('tiny-2x2'),
        mesh: { rows: 3, cols: 3 },
        tileOverrides: [
          { row: [0, 1], col: 1, vlenBits: 1024 },
          { row: 1, col: 1, vlenBits: 2048, fetchWidth: 8 },
        ],
      },
      'test',
    );
    const tiles = resolveTiles(d);
    expect(tiles.map((t) => t.vlenBits)).toEqual([256, 1024, 256, 256, 2048, 256, 256, 256, 256]);
    expect(tiles[4].fetchWidth).toBe(8);
    expect(tiles[1].fetchWidth).toBe(2);
    expect(summarizeDesign(d).overriddenTiles).toBe(2);
  });

  test('defaults fill fields later features added, so minimal files stay valid', () => {
    const base = presetDesign('tiny-2x2')!;
    const minimal = {
      kind: 'design',
      schemaVersion: 1,
      name: 'm',
      processNodeNm: 7,
      clockMHz: 100,
      mesh: { rows: 1, cols: 1 },
      noc: { flitBits: 64, virtualChannels: 1, bufferDepthFlits: 1 },
      tile: base.tile,
    };
    const d = parseInput(DesignSchema, minimal, 'm.json');
    expect(d.noc.routing).toBe('xy');
    expect(d.noc.routeComputeCycles).toBe(1);
    expect(d.noc.creditReturnCycles).toBe(0);
    expect(d.precision).toEqual({ weights: 'fp16', activations: 'fp16', kvCache: 'fp16' });
    expect(d.mapping.pipelineStages).toBe(1);
  });

  test('bisection bandwidth follows Eq. 18: min(M, N) x flit width x f', () => {
    const s = summarizeDesign(presetDesign('w4a16-8x8-7nm')!);
    expect(s.bisectionBytesPerSecond).toBe((8 * 512 * 570e6) / 8);
  });
});
