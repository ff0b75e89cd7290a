/**
 * What the fast labels miss (docs/search.md "Flit-fidelity error"): re-label the first N
 * designs of a held-out label file at flit fidelity (the same designs: labels are pure
 * functions of (seed, index)), then print the fast labels' error against them and write the
 * flit labels so `tessera surrogate eval --labels FLIT` gives the surrogate's error.
 *
 *   node --import tsx search/fidelity-check.ts HELD-OUT.msgpack N OUT-FLIT.msgpack
 */
import { readLabelFile } from './label/file.js';
import { runLabels } from './label/run.js';
import { InlineRunner } from './label/pool.js';
import { runLabelJob } from './label/job.js';
import { builtinModel } from '../sim/model/catalog.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import type { ProcessNodeNm } from '../sim/tech/nodes.js';
import { TARGETS } from './surrogate/model.js';
import { mape } from './surrogate/metrics.js';

const [file, count, out] = process.argv.slice(2);
const fast = readLabelFile(file);
const h = fast.header;
const n = Number(count);
await runLabels({ out, count: n, resume: true, runner: new InlineRunner(runLabelJob), settings: { modelName: h.model.name, card: builtinModel(h.model.name)!, nodes: h.nodes as ProcessNodeNm[], seed: h.seed, fidelity: 'flit', workload: h.workload.name, eventLimit: h.eventLimit, tech: DEFAULT_TECH } });
const flit = readLabelFile(out).labels.filter((l) => l.status === 'ok');
const pairs = flit.map((f) => ({ f, s: fast.labels.find((l) => l.index === f.index && l.status === 'ok') })).filter((p) => p.s);
console.log(`${pairs.length} designs simulated at both fidelities (fast ${file}, flit ${out})`);
for (const t of [...TARGETS, { name: 'ppaScore', get: (m: any) => m.ppaScore }]) {
  const truth = pairs.map((p) => t.get(p.f.metrics!));
  const fastV = pairs.map((p) => t.get(p.s!.metrics!));
  console.log(`  ${t.name.padEnd(16)} fast vs flit MAPE ${mape(truth, fastV).toFixed(2)}%`);
}
