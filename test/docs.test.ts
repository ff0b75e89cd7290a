import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelCardSchema } from '../sim/model/card.js';
import { TraceSchema } from '../sim/trace/trace.js';
import { DesignSchema } from '../sim/design/design.js';
import { COMMON_PARAM_NAMES, NODE_PARAM_NAMES, TechTableSchema } from '../sim/tech/table.js';
import { main } from '../cli/main.js';
import { memoryIo } from '../cli/io.js';

/**
 * docs/formats.md is complete and self-contained (issue 12 item 6): every field of every
 * input schema, every technology parameter and every key of `tessera sim --json` is named
 * in it (in backticks, with its full path), and it links to nothing outside the clone.
 */

const FORMATS = fs.readFileSync('docs/formats.md', 'utf8');
const documented = new Set([...FORMATS.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]));

/** The schema's own node under optional/default/pipe wrappers (zod 4 internals, read-only). */
function core(s: any): any {
  for (let i = 0; i < 20; i++) {
    const d = s?._zod?.def;
    if (!d) return s;
    if (['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(d.type)) s = d.innerType;
    else if (d.type === 'pipe') s = d.in;
    else return s;
  }
  return s;
}

/** Every field path of a schema: `mesh.rows`, `requests[].images[].widthPx`, `tileOverrides[]`. */
function fieldPaths(schema: unknown, prefix = ''): string[] {
  const d = core(schema)._zod.def;
  if (d.type === 'object') return Object.entries(d.shape).flatMap(([k, v]) => fieldPaths(v, prefix ? `${prefix}.${k}` : k));
  if (d.type === 'array' && core(d.element)._zod.def.type === 'object') return [`${prefix}[]`, ...fieldPaths(d.element, `${prefix}[]`)];
  return [prefix];
}

describe('docs/formats.md', () => {
  test('every model-card, trace and design field is documented by its full path', () => {
    const tileFields = new Set(fieldPaths(DesignSchema).filter((p) => p.startsWith('tile.')).map((p) => p.slice('tile.'.length)));
    const missing: string[] = [];
    for (const schema of [ModelCardSchema, TraceSchema, DesignSchema]) {
      for (const p of fieldPaths(schema)) {
        // a tile override takes any tile field: documented once as tile.<field>
        const alias = p.startsWith('tileOverrides[].') && tileFields.has(p.slice('tileOverrides[].'.length)) ? `tile.${p.slice('tileOverrides[].'.length)}` : p;
        if (!documented.has(alias)) missing.push(p);
      }
    }
    expect(missing).toEqual([]);
  });

  test('every technology-table field and parameter is documented', () => {
    const top = Object.keys(core(TechTableSchema)._zod.def.shape);
    const missing = [
      ...top.filter((k) => !documented.has(k) && ![...documented].some((d) => d.startsWith(`${k}.`))),
      ...COMMON_PARAM_NAMES.filter((k) => !documented.has(`common.${k}`)),
      ...NODE_PARAM_NAMES.filter((k) => !documented.has(`nodes.<nm>.${k}`)),
    ];
    expect(missing).toEqual([]);
  });

  test('every key of tessera sim --json (feasible, infeasible and sweep) is documented', async () => {
    const keys = new Set<string>();
    const collect = (o: any, depth: number) => {
      for (const [k, v] of Object.entries(o)) {
        keys.add(k);
        if (depth > 0 && v && typeof v === 'object' && !Array.isArray(v)) collect(v, depth - 1);
      }
    };
    for (const args of [
      ['sim', '--design', 'tiny-2x2', '--model', 'tiny', '--trace', 'request:8:3', '--json'],
      ['sim', '--design', 'tiny-2x2', '--model', 'tiny', '--trace', 'decode:1@1000', '--json'],
      ['sim', '--design', 'tiny-2x2', '--model', 'tiny', '--trace', 'decode:2@8', '--set', 'noc.virtualChannels=1,2', '--json'],
    ]) {
      const io = memoryIo();
      await main(args, io);
      const j = JSON.parse(io.out);
      const runs = j.runs ?? [j];
      if (j.runs) collect({ sweep: j.sweep, runs: j.runs, set: 0 }, 0);
      for (const r of runs) {
        // names of counters, stall causes, requests' fields and the design's own fields are documented elsewhere
        const { allCounters: _a, design: _d, set: _s, requests, belowBound, fixes, ...rest } = r;
        collect(rest, 2);
        keys.add('allCounters').add('design');
        if (requests?.length) collect(requests[0], 0);
        if (belowBound) collect({ belowBound: { fractionOfMappingBound: 0, dominantStall: 0, stallCycles: 0 } }, 1);
        if (fixes?.length) collect(fixes[0], 0);
        keys.add('requests');
        if (fixes) keys.add('fixes');
      }
    }
    // a documented key appears alone in backticks or at the end of a documented path
    const names = new Set([...documented].flatMap((d) => d.split(/[.\s]/)).map((s) => s.replace(/\[\]$/, '')));
    expect([...keys].filter((k) => !names.has(k))).toEqual([]);
  });
});

describe('links in README.md and docs/formats.md', () => {
  test('every relative link points at a file in the clone; nothing refers outside it', () => {
    for (const file of ['README.md', 'docs/formats.md']) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/.test(target)) continue; // http(s): and the like
        const resolved = path.normalize(path.join(path.dirname(file), target));
        expect({ file, target, inClone: !resolved.startsWith('..') && fs.existsSync(resolved) }).toEqual({ file, target, inClone: true });
      }
      expect({ file, outside: /\.\.\/shared|\/work\//.test(text) }).toEqual({ file, outside: false });
    }
  });
});
