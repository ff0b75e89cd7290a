import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { loadDesign } from '../load.js';
import { applySingle, withSetOption } from '../overrides.js';
import { InputError } from '../../sim/validate/inputError.js';
import { fieldInfo } from '../../sim/validate/zod.js';
import { DesignSchema, type Design } from '../../sim/design/design.js';

export interface DesignArgs {
  action: string;
  design: string;
  json: boolean;
  set?: string[];
}

/** Every leaf of the design as [path, value]; arrays (tileOverrides) are one leaf each. */
function leaves(value: unknown, path: (string | number)[] = []): [(string | number)[], unknown][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => leaves(v, [...path, k]));
  }
  return [[path, value]];
}

/** The annotated listing: `path = value   allowed; meaning`, one line per field. */
export function renderDesignListing(design: Design, input: string): string {
  const rows = leaves(design).map(([path, value]) => {
    const info = fieldInfo(DesignSchema, path);
    const note = info ? `${info.allowed}${info.description ? `; ${info.description}` : ''}` : '';
    return [path.join('.'), JSON.stringify(value), note] as const;
  });
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.min(24, Math.max(...rows.map((r) => r[1].length)));
  const lines = rows.map(([p, v, n]) => (p === 'description' || p === 'source' ? '' : `  ${p.padEnd(w0)} = ${v.padEnd(w1)}  ${n}`.trimEnd())).filter(Boolean);
  let out = `${input}: design ${design.name}\n`;
  if (design.description) out += `  ${design.description}\n`;
  if (design.source) out += `  source: ${design.source}\n`;
  out += `\nEvery field, with what it allows (change one with --set PATH=VALUE; --json prints the design file):\n${lines.join('\n')}\n`;
  return out;
}

/** `tessera design show D`: a design (preset or file, with --set edits) as a complete design file. */
export function designCommand(io: Io): CommandModule<object, DesignArgs> {
  return {
    command: 'design <action> <design>',
    builder: (y: Argv) =>
      withSetOption(
        y
          .positional('action', { type: 'string', choices: ['show'], describe: 'show: print the design with every field filled in' })
          .positional('design', { type: 'string', describe: 'design file or preset (tessera list)' })
          .option('json', { type: 'boolean', default: false, describe: 'print the complete design file (JSON), ready to edit and pass back with --design FILE' }),
      ) as unknown as Argv<DesignArgs>,
    handler: (a) => {
      if (a.action !== 'show') throw new InputError('tessera design', 'action', a.action, 'show', 'use tessera design show PRESET');
      const design = applySingle(loadDesign(io, a.design), a.set, a.design, 'tessera design show');
      if (a.json) io.stdout(`${JSON.stringify(design, null, 2)}\n`);
      else io.stdout(renderDesignListing(design, a.design));
    },
  };
}
