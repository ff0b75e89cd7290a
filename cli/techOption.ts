import type { Argv } from 'yargs';
import type { Io } from './io.js';
import { parseJson, readText } from './load.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { parseTechTable, type TechTable } from '../sim/tech/table.js';

/**
 * `--tech FILE`: the technology table option, reusable by every command that computes
 * power or area: `withTechOption(yargs)` in a builder, `loadTech(io, args.tech)` in the
 * handler. Without the option the built-in table (sim/tech/defaultTable.ts) is used.
 */
export function withTechOption<T>(y: Argv<T>): Argv<T & { tech?: string }> {
  return y.option('tech', {
    type: 'string',
    describe: 'technology table JSON (default: the built-in table; `tessera tech --json` prints it as a starting point)',
  }) as Argv<T & { tech?: string }>;
}

/** The table named by --tech, validated (one-line InputError on any problem), or the built-in one. */
export function loadTech(io: Io, file: string | undefined): TechTable {
  if (file === undefined) return DEFAULT_TECH;
  return parseTechTable(parseJson(readText(io, file), file), file);
}
