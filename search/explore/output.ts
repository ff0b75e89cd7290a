import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Design } from '../../sim/design/design.js';
import { InputError } from '../../sim/validate/inputError.js';
import { paretoFront } from './archive.js';
import type { RunResult } from './run.js';
import { bestOverRuns, designFileName, type ExploreSummary } from './summary.js';

/**
 * The run folder (docs/explore.md "The run folder"): manifest.json (what the run is, checked
 * by --resume), checkpoints/ (msgpack, one per algorithm and seed), labels.msgpack (every
 * design the run simulated), labels-initial.msgpack and surrogate-initial.msgpack (when the
 * run made its own surrogate), designs/ (each run's best design per node, and the best of
 * all runs per node, as design files `tessera sim --design` accepts), summary.json,
 * curves.json (learning curves and the surrogate's error over time), pareto.json (the
 * simulated Pareto fronts) and report.html.
 */

export interface Manifest {
  readonly kind: 'tessera-explore';
  readonly formatVersion: 1;
  readonly model: { readonly name: string; readonly hash: string };
  readonly spaceVersion: string;
  readonly simulatorVersion: string;
  /** Everything else that must match on --resume (nodes, budgets, algorithms, seeds, options). */
  readonly settings: Readonly<Record<string, unknown>>;
}

/** JSON with non-finite numbers as null (JSON has no Infinity). */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v instanceof Float32Array || v instanceof Float64Array ? Array.from(v) : v), 2)}\n`;
}

/**
 * Create the run folder, or check on --resume that it is one of this model, design space,
 * simulator and settings (a one-line error naming what differs otherwise).
 */
export function openRunFolder(out: string, manifest: Manifest, resume: boolean): void {
  const file = path.join(out, 'manifest.json');
  const exists = fs.existsSync(out) && fs.readdirSync(out).length > 0;
  if (!resume) {
    if (exists) throw new InputError(out, '--out', out, 'the run folder already exists and is not empty (a run never overwrites one)', 'continue it with --resume, or choose another --out');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(file, toJson(manifest));
    return;
  }
  if (!fs.existsSync(file)) {
    if (exists) throw new InputError(out, '--resume', out, 'the folder has no manifest.json: it is not an explore run folder', 'choose the folder of an explore run, or start a new one without --resume');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(file, toJson(manifest));
    return;
  }
  let have: Manifest;
  try {
    have = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new InputError(file, 'manifest', '(unreadable)', 'the run folder\'s manifest is not valid JSON', 'start a new --out folder');
  }
  const checks: [string, unknown, unknown, string][] = [
    ['model', `${have.model?.name} (${have.model?.hash})`, `${manifest.model.name} (${manifest.model.hash})`, `pass --model ${have.model?.name}, or start a new --out folder`],
    ['spaceVersion', have.spaceVersion, manifest.spaceVersion, 'the design space changed since this run started: start a new --out folder'],
    ['simulatorVersion', have.simulatorVersion, manifest.simulatorVersion, 'the simulator changed since this run started (its labels would mix two simulators): start a new --out folder'],
  ];
  for (const [key, value] of Object.entries(manifest.settings)) checks.push([`--${key}`, JSON.stringify(have.settings?.[key]), JSON.stringify(value), `resume with the first run's ${key} (${JSON.stringify(have.settings?.[key])}), or start a new --out folder`]);
  for (const [field, a, b, fix] of checks) if (a !== b) throw new InputError(out, field, b, `the run folder was made with ${String(a)}`, fix);
}

/** A design as a design file (`tessera sim --design FILE`). */
function designFile(design: Design, name: string, description: string): string {
  return toJson({ ...design, name, description });
}

export interface WrittenFiles {
  readonly summary: string;
  readonly designs: readonly string[];
}

export function writeRunFolder(out: string, summary: ExploreSummary, results: readonly RunResult[], extras: Readonly<Record<string, unknown>>): WrittenFiles {
  fs.mkdirSync(path.join(out, 'designs'), { recursive: true });
  const designs: string[] = [];
  for (const r of results) {
    for (const n of r.nodes) {
      if (!n.best) continue;
      const f = designFileName(r.runId, n.node);
      fs.writeFileSync(path.join(out, f), designFile(n.best.design, `explore-${r.runId}-${n.node}nm`, `best simulated design of explore run ${r.runId} at ${n.node} nm (PPA score ${n.best.simulated.score.toFixed(4)})`));
      designs.push(f);
    }
  }
  for (const node of summary.nodes) {
    const b = bestOverRuns(results, node);
    if (!b) continue;
    const f = `designs/best-${node}nm.json`;
    fs.writeFileSync(path.join(out, f), designFile(b.design, `explore-best-${node}nm`, `best simulated design at ${node} nm over every run (from ${b.runId}, PPA score ${b.s.simulated.score.toFixed(4)})`));
    designs.push(f);
  }
  fs.writeFileSync(path.join(out, 'summary.json'), toJson({ ...summary, ...extras }));
  fs.writeFileSync(path.join(out, 'curves.json'), toJson(results.map((r) => ({ runId: r.runId, algo: r.algo, seed: r.seed, curves: r.curves, surrogateError: r.spotLog, ...(r.sacStats.length ? { sacStats: r.sacStats } : {}) }))));
  const pareto = summary.nodes.map((node) => {
    const pts = results.flatMap((r) => r.simulated.filter((s) => s.node === node && s.simulated.feasible).map((s) => ({ runId: r.runId, algo: r.algo, s })));
    const front = paretoFront(pts.map((p) => [p.s.simulated.tokensPerSecond, -p.s.simulated.powerW, -p.s.simulated.areaMm2]));
    return { node, front: front.map((i) => ({ runId: pts[i].runId, algo: pts[i].algo, design: pts[i].s.design, simulated: pts[i].s.simulated, predicted: pts[i].s.predicted })) };
  });
  fs.writeFileSync(path.join(out, 'pareto.json'), toJson(pareto));
  return { summary: path.join(out, 'summary.json'), designs };
}
