import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';
import type { Io } from '../io.js';
import type { MemoNode } from '../../sim/serving/memo.js';
import type { Design } from '../../sim/design/design.js';
import type { ModelCard } from '../../sim/model/card.js';
import pkg from '../../package.json' with { type: 'json' };

/**
 * The on-disk memo of simulated steps (docs/serving.md): one file per
 * (design, model, step fidelity, seed, simulator version), so a second run of the same
 * design on any trace re-simulates none of the steps the first one simulated. The
 * simulator version is the package version plus a hash of the simulator's code (every
 * file under sim/), so any change to the simulator starts a new memo. Files are msgpack
 * (typed arrays kept exact), gzip-compressed; a file that cannot be read is ignored and
 * rewritten.
 */

const packr = new Packr({ moreTypes: true });
const FORMAT = 'tessera-step-memo';
const FORMAT_VERSION = 2;

let simHash: string | undefined;

/** Hash of every file of the simulator core (sources or their build), computed once per process. */
export function simulatorVersion(): string {
  if (simHash === undefined) {
    const simDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'sim');
    const h = crypto.createHash('sha256');
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.(ts|js)$/.test(e.name)) h.update(e.name).update(fs.readFileSync(p));
      }
    };
    walk(simDir);
    simHash = h.digest('hex').slice(0, 16);
  }
  return `${pkg.version}+${simHash}`;
}

/** The memo file's identity: what a simulated step depends on. */
export function memoKey(design: Design, card: ModelCard, stepFidelity: string, seed: number): string {
  const h = crypto.createHash('sha256');
  // the design minus its name and free text (they do not change a step)
  const { name: _n, description: _d, source: _s, ...hw } = design;
  h.update(JSON.stringify({ hw, card: card.text, vision: card.vision ?? null, stepFidelity, seed, version: simulatorVersion() }));
  return h.digest('hex').slice(0, 24);
}

/** Default memo directory: $XDG_CACHE_HOME/tessera/steps or ~/.cache/tessera/steps. */
export function defaultMemoDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tessera', 'steps');
}

interface StoredNode {
  readonly key: string;
  readonly cycles: number;
  readonly regions: Int32Array;
  readonly work: Float64Array;
  readonly taskCycles: Float64Array;
  readonly events: number;
  readonly tileCounters: Record<string, Float64Array>;
  readonly busyCycles: Float64Array;
  readonly nocCounters: Record<string, number>;
  readonly linkFlits: Float64Array;
}

export function memoPath(dir: string, key: string): string {
  return path.join(dir, `${key}.msgpack.gz`);
}

/** Steps saved for this key, or none (missing, unreadable or from another key). */
export function loadMemo(io: Io, file: string, key: string): MemoNode[] {
  if (!io.exists(file)) return [];
  try {
    const doc = packr.unpack(zlib.gunzipSync(io.readFile(file))) as { format: string; formatVersion: number; key: string; nodes: StoredNode[] };
    if (doc.format !== FORMAT || doc.formatVersion !== FORMAT_VERSION || doc.key !== key) return [];
    return doc.nodes.map(({ tileCounters, busyCycles, nocCounters, linkFlits, ...timing }) => ({ ...timing, activity: { tileCounters: new Map(Object.entries(tileCounters)), busyCycles, nocCounters, linkFlits } }));
  } catch {
    return [];
  }
}

/** Write the saved steps plus the new ones. */
export function saveMemo(io: Io, file: string, key: string, saved: readonly MemoNode[], added: readonly MemoNode[]): void {
  const seen = new Set<string>();
  const nodes: StoredNode[] = [];
  for (const n of [...saved, ...added]) {
    if (seen.has(n.key)) continue;
    seen.add(n.key);
    const { activity, ...timing } = n;
    nodes.push({ ...timing, tileCounters: Object.fromEntries(activity.tileCounters), busyCycles: activity.busyCycles, nocCounters: { ...activity.nocCounters }, linkFlits: activity.linkFlits });
  }
  io.writeFile(file, zlib.gzipSync(packr.pack({ format: FORMAT, formatVersion: FORMAT_VERSION, key, nodes }), { level: 6 }));
}
