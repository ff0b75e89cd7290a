import yargs from 'yargs';
import pkg from '../package.json' with { type: 'json' };
import { nodeIo, type Io } from './io.js';
import { InputError } from '../sim/validate/inputError.js';
import { validateCommand } from './commands/validate.js';
import { listCommand } from './commands/list.js';
import { startCommand } from './commands/start.js';
import { techCommand } from './commands/tech.js';
import { nocCommand } from './commands/noc.js';
import { kernelCommand } from './commands/kernel.js';
import { simCommand } from './commands/sim.js';

/** A command-line usage problem (unknown option, missing argument, bad option value). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The whole CLI as a function: parse `argv` (without node and script), run the command
 * against `io`, return the exit code (0 ok, 2 bad input or usage, 1 internal error).
 * Input problems are printed as one line on stderr, never as a stack trace.
 */
export async function main(argv: readonly string[], io: Io = nodeIo): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number) => {
    exitCode = Math.max(exitCode, code);
  };
  const parser = yargs()
    .scriptName('tessera')
    .usage('$0 <command> [options]\n\nTessera: co-design of 2D-mesh AI-inference ASICs (see README.md).')
    .command(startCommand(io, setExit))
    .command(validateCommand(io, setExit))
    .command(listCommand(io))
    .command(techCommand(io))
    .command(nocCommand(io))
    .command(kernelCommand(io))
    .command(simCommand(io))
    .demandCommand(1, 'name a command (tessera --help lists them)')
    .strict()
    .version(pkg.version)
    .help()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  try {
    await parser.parseAsync([...argv], {}, (_err, _args, output) => {
      if (output) io.stdout(`${output}\n`);
    });
  } catch (e) {
    if (e instanceof InputError) {
      io.stderr(`tessera: ${e.message}\n`);
      return 2;
    }
    if (e instanceof UsageError) {
      io.stderr(`tessera: ${e.message.replace(/\s*\n\s*/g, ' ')} (see tessera --help)\n`);
      return 2;
    }
    const err = e as Error;
    io.stderr(`tessera: internal error: ${err?.message ?? String(e)}\n`);
    if (process.env.TESSERA_DEBUG) io.stderr(`${err?.stack ?? ''}\n`);
    return 1;
  }
  return exitCode;
}
