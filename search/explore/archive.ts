import type { Design } from '../../sim/design/design.js';
import type { DesignScore } from '../env/evaluate.js';

/**
 * The designs a search keeps per node (docs/explore.md "Archive"): the best `capacity`
 * distinct designs by predicted reward (the spot checks' and the final simulations'
 * candidates) and the surrogate's prediction of each, logged when the design first
 * entered, so a later simulation is compared with what the search believed before it.
 */

export interface ArchiveEntry {
  readonly key: string;
  readonly design: Design;
  readonly reward: number;
  /** Predicted PPA objective J, tokens/s, power (W), area (mm2), P(feasible). */
  readonly objective: number;
  readonly tokensPerSecond: number;
  readonly powerW: number;
  readonly areaMm2: number;
  readonly pFeasible: number;
  /** sqrt(sigma_tokens^2 + sigma_power^2) in log space: the spot checks' uncertainty. */
  readonly uncertainty: number;
  /** Surrogate calls made by the search when the design entered. */
  readonly foundAtCall: number;
}

export function designKey(d: Design): string {
  const { name: _name, description: _description, ...rest } = d as Design & { description?: string };
  return JSON.stringify(rest);
}

export function entryOf(s: DesignScore, foundAtCall: number): ArchiveEntry {
  const p = s.predicted;
  return {
    key: designKey(s.design),
    design: s.design,
    reward: s.reward,
    objective: s.ppa.objective,
    tokensPerSecond: Math.exp(p.logTokensPerSecond),
    powerW: Math.exp(p.logPowerW),
    areaMm2: Math.exp(p.logAreaMm2),
    pFeasible: s.pFeasible,
    uncertainty: Math.hypot(p.sigmaTokens, p.sigmaPower),
    foundAtCall,
  };
}

export class Archive {
  private readonly entries = new Map<string, ArchiveEntry>();
  private worst?: ArchiveEntry;

  constructor(readonly capacity: number, entries: readonly ArchiveEntry[] = []) {
    for (const e of entries) this.entries.set(e.key, e);
    this.recomputeWorst();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Offer a scored design; kept if it is new and among the best `capacity`. */
  offer(s: DesignScore, foundAtCall: number): void {
    if (this.entries.size >= this.capacity && this.worst && s.reward <= this.worst.reward) return;
    const e = entryOf(s, foundAtCall);
    const have = this.entries.get(e.key);
    if (have) return; // the first prediction of a design is the one logged
    this.entries.set(e.key, e);
    if (this.entries.size > this.capacity) {
      this.entries.delete(this.worst!.key);
      this.recomputeWorst();
    } else if (!this.worst || e.reward < this.worst.reward) this.worst = e;
  }

  private recomputeWorst(): void {
    this.worst = undefined;
    for (const e of this.entries.values()) if (!this.worst || e.reward < this.worst.reward || (e.reward === this.worst.reward && e.key > this.worst.key)) this.worst = e;
  }

  /** Replace every entry's prediction (after the surrogate was refitted): `rescore` maps designs to fresh entries. */
  rescore(rescore: (designs: Design[]) => ArchiveEntry[]): void {
    const fresh = rescore([...this.entries.values()].map((e) => e.design));
    this.entries.clear();
    for (const e of fresh) this.entries.set(e.key, e);
    this.recomputeWorst();
  }

  /** Entries best first (reward, then key for a stable order). */
  ranked(): ArchiveEntry[] {
    return [...this.entries.values()].sort((a, b) => b.reward - a.reward || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  best(): ArchiveEntry | undefined {
    return this.ranked()[0];
  }

  all(): ArchiveEntry[] {
    return this.ranked();
  }
}

/**
 * The spot check's picks among designs not yet simulated: the `top` best by predicted
 * reward, then the `uncertain` most uncertain among the next 64 best (active learning:
 * where the surrogate knows least, among designs worth knowing about).
 */
export function spotCheckPicks(archive: Archive, simulated: ReadonlySet<string>, top: number, uncertain: number): ArchiveEntry[] {
  const fresh = archive.ranked().filter((e) => !simulated.has(e.key));
  const picks = fresh.slice(0, top);
  const pool = fresh.slice(top, top + 64).sort((a, b) => b.uncertainty - a.uncertainty || b.reward - a.reward);
  return [...picks, ...pool.slice(0, uncertain)];
}

/** Indices of the non-dominated points (maximise every coordinate). */
export function paretoFront(points: readonly (readonly number[])[]): number[] {
  const out: number[] = [];
  points.forEach((p, i) => {
    const dominated = points.some((q, j) => j !== i && q.every((v, k) => v >= p[k]) && q.some((v, k) => v > p[k]));
    if (!dominated) out.push(i);
  });
  return out;
}
