import type { ModelCard } from '../model/card.js';
import type { Trace } from '../trace/trace.js';
import { DesignSchema, type Design } from '../design/design.js';
import { planMapping } from './run.js';

/**
 * Fixes for a design that cannot serve a trace, computed for that design: each is a set
 * of design-file edits (`--set` paths) that the mapper has checked makes the run
 * feasible on its own. Candidates follow what does not fit:
 *
 * - KV cache: the largest sliding KV window that fits, an INT8 or INT4 KV cache, the
 *   smallest DMEM per tile, the smallest larger mesh;
 * - weights: the smallest WMEM per tile, INT8 or INT4 weights, the smallest larger mesh;
 * - activation buffers: the smallest DMEM, the largest batch or prefill chunk that fits.
 *
 * Sizes are found by bisection over the mapper's feasibility, which grows with memory and
 * mesh size and shrinks with batch and chunk; every printed fix is re-checked.
 */

export interface DesignFix {
  /** Design-file paths and values (`mapping.kvWindowTokens` = 1024). */
  readonly set: readonly { readonly path: string; readonly value: string | number }[];
  /** What the fix changes, with numbers. */
  readonly why: string;
}

type Edit = Record<string, unknown>;

/** The design with `edit` applied at dotted paths, or undefined if the result is not a valid design. */
function edited(design: Design, edit: Edit): Design | undefined {
  const d: any = structuredClone(design);
  for (const [path, value] of Object.entries(edit)) {
    const keys = path.split('.');
    let o = d;
    for (const k of keys.slice(0, -1)) o = o[k];
    o[keys[keys.length - 1]] = value;
  }
  const r = DesignSchema.safeParse(d);
  return r.success ? r.data : undefined;
}

/** Smallest x in [lo, hi] with ok(x), assuming ok is monotone (false ... false true ... true). */
function smallest(lo: number, hi: number, ok: (x: number) => boolean): number | undefined {
  if (lo > hi || !ok(hi)) return undefined;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Largest x in [lo, hi] with ok(x), assuming ok is monotone (true ... true false ... false). */
function largest(lo: number, hi: number, ok: (x: number) => boolean): number | undefined {
  if (lo > hi || !ok(lo)) return undefined;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const LOWER_PRECISION = { fp16: ['int8', 'int4'], int8: ['int4'], int4: [] } as const;

export function suggestFixes(card: ModelCard, design: Design, trace: Trace): DesignFix[] {
  const fits = (d: Design | undefined) => d !== undefined && planMapping(card, d, trace).mapping.feasible;
  const fitsWith = (edit: Edit) => fits(edited(design, edit));
  const { mapping, requiredKvTokens } = planMapping(card, design, trace);
  if (mapping.feasible) return [];
  const short = new Set(mapping.shortfalls.map((s) => s.what));
  const fixes: DesignFix[] = [];
  const add = (edit: Edit, why: string) => fixes.push({ set: Object.entries(edit).map(([path, value]) => ({ path, value: value as string | number })), why });
  const t = design.tile;
  const uniform = design.tileOverrides.length === 0;

  if (short.has('kv')) {
    // the largest window the chip holds, rounded down to a multiple of 64 tokens when that still leaves a useful window
    const cap = mapping.kvCapacityTokens;
    const window = cap >= 128 ? cap - (cap % 64) : cap;
    if (window >= 1 && window < requiredKvTokens && fitsWith({ 'mapping.kvWindowTokens': window })) {
      add({ 'mapping.kvWindowTokens': window }, `keep only the last ${int(window)} tokens' K/V (sliding window; the longest request needs ${int(requiredKvTokens)}, the chip holds ${int(cap)})`);
    }
    for (const p of LOWER_PRECISION[design.precision.kvCache]) {
      if (fitsWith({ 'precision.kvCache': p })) add({ 'precision.kvCache': p }, `store the KV cache as ${p.toUpperCase()} (${p === 'int8' ? 'half' : 'a quarter'} of FP16's bytes plus scales)`);
    }
  }
  if (short.has('weights')) {
    for (const p of LOWER_PRECISION[design.precision.weights]) {
      if (fitsWith({ 'precision.weights': p })) add({ 'precision.weights': p }, `store the weights as ${p.toUpperCase()} (changes the model's numerics)`);
    }
  }
  if (uniform) {
    // the smallest memories per tile: WMEM for the weights (DMEM at its largest meanwhile
    // if DMEM is short too), then DMEM for the KV cache and activations at that WMEM
    const dmemShort = short.has('kv') || short.has('activations');
    const w = short.has('weights') ? smallest(t.wmemKiB + 1, 1048576, (x) => fitsWith({ 'tile.wmemKiB': x, ...(dmemShort ? { 'tile.dmemKiB': 1024 } : {}) })) : t.wmemKiB;
    const dm = w !== undefined && dmemShort ? smallest(t.dmemKiB + 1, 1024, (x) => fitsWith({ 'tile.wmemKiB': w, 'tile.dmemKiB': x })) : t.dmemKiB;
    if (w !== undefined && dm !== undefined) {
      const edit: Edit = {};
      const what: string[] = [];
      if (w !== t.wmemKiB) {
        edit['tile.wmemKiB'] = w;
        what.push(`WMEM ${int(t.wmemKiB)} -> ${int(w)} KiB`);
      }
      if (dm !== t.dmemKiB) {
        edit['tile.dmemKiB'] = dm;
        what.push(`DMEM ${int(t.dmemKiB)} -> ${int(dm)} KiB`);
      }
      const holds = [short.has('weights') && 'weights', short.has('kv') && 'KV cache', (short.has('kv') || short.has('activations')) && 'activations'].filter(Boolean).join(', ');
      add(edit, `${what.join(', ')} per tile, the smallest that hold${what.length === 1 ? 's' : ''} the ${holds}`);
    }
  }
  if (short.has('activations')) {
    const s = design.serving;
    const b = largest(1, s.maxBatch - 1, (x) => fitsWith({ 'serving.maxBatch': x }));
    if (b !== undefined) add({ 'serving.maxBatch': b }, `at most ${b} sequence${b === 1 ? '' : 's'} in flight (the activation buffer grows with the batch)`);
    const c = largest(1, s.prefillChunkTokens - 1, (x) => fitsWith({ 'serving.prefillChunkTokens': x }));
    if (c !== undefined) add({ 'serving.prefillChunkTokens': c }, `prefill chunks of at most ${c} tokens (the activation buffer grows with the chunk)`);
  }
  if (uniform) {
    // the smallest mesh with the same aspect ratio (rows grow by k, columns in proportion)
    const { rows, cols } = design.mesh;
    const meshAt = (k: number) => ({ 'mesh.rows': Math.min(64, rows + k), 'mesh.cols': Math.min(64, Math.round((cols * (rows + k)) / rows)) });
    const k = smallest(1, 64 - Math.min(rows, cols), (x) => fitsWith(meshAt(x)));
    if (k !== undefined) {
      const m = meshAt(k);
      add(m, `a ${m['mesh.rows']}x${m['mesh.cols']} mesh instead of ${rows}x${cols} (${int(m['mesh.rows'] * m['mesh.cols'])} tiles instead of ${int(rows * cols)}, same tile)`);
    }
  }
  // every fix on its own makes the run feasible (re-checked: bisection assumes monotonicity)
  return fixes.filter((f) => fitsWith(Object.fromEntries(f.set.map((s) => [s.path, s.value]))));
}
