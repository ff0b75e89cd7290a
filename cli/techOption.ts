import type { Argv } from 'yargs';
import type { Io } from './io.js';
import { parseJson, readText } from './load.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { parseTechTable, type TechTable } from '../sim/tech/table.js';
import type { Design } from '../sim/design/design.js';
import { InputError } from '../sim/validate/inputError.js';

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

/**
 * A design's clock against the maximum of a user's table, checked at the edge so that
 * the message names the table file and its field (the model's own check only knows the
 * table's internal name).
 */
export function checkClockAgainstTable(design: Design, tech: TechTable, techFile: string | undefined, designName: string): void {
  if (techFile === undefined) return;
  const max = tech.nodes[`${design.processNodeNm}`].maxClockMHz.value;
  if (design.clockMHz > max) {
    throw new InputError(techFile, `nodes.${design.processNodeNm}.maxClockMHz.value`, max, `below the clock of design ${designName} (${design.clockMHz} MHz at ${design.processNodeNm} nm)`, `raise maxClockMHz in ${techFile} or lower the design's clockMHz`);
  }
}
