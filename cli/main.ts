import yargs from 'yargs';
import type { CommandModule } from 'yargs';
import pkg from '../package.json' with { type: 'json' };
import { nodeIo, type Io } from './io.js';
import { InputError } from '../sim/validate/inputError.js';
import { EXIT } from './exit.js';
import { parseSeed } from './options.js';

/** A command-line usage problem (unknown option, missing argument, bad option value). */
export class UsageError extends Error {
  override name = 'UsageError';
}


type SetExit = (code: number) => void;
type CommandFactory = (io: Io, setExit: SetExit) => CommandModule<any, any>;

/**
 * The commands, each loaded only when it runs: `tessera --help` and every command's start
 * pay for yargs and that one command's modules, not for the whole simulator.
 * `describe` is the one-line help shown in `tessera --help`.
 */
export const COMMANDS: readonly { readonly command: string; readonly describe: string; readonly load: () => Promise<CommandFactory> }[] = [
  { command: 'start', describe: 'Main job on built-in defaults: Llama 3.1 8B on paper-llama-3nm serving a short Poisson trace; prints the summary and writes the HTML report', load: async () => (await import('./commands/start.js')).startCommand },
  { command: 'validate <inputs..>', describe: 'Check model cards, HuggingFace configs, traces and designs (files or built-in names) and print summaries', load: async () => (await import('./commands/validate.js')).validateCommand },
  { command: 'list', describe: 'List the built-in models, design presets, traces and trace generators', load: async () => (await import('./commands/list.js')).listCommand },
  { command: 'design <action> <design>', describe: 'design show PRESET|FILE [--set path=value] [--json]: print a design as a complete design file to edit, every --set path with its value and range', load: async () => (await import('./commands/design.js')).designCommand },
  { command: 'tech', describe: 'Print the technology table (area, energy, leakage per process node) with the source of every value', load: async () => (await import('./commands/tech.js')).techCommand },
  { command: 'noc', describe: 'Synthetic-traffic lab for the mesh NoC: latency and throughput vs offered load (docs/noc.md)', load: async () => {
    const { nocCommand } = await import('./commands/noc.js');
    return (io) => nocCommand(io);
  } },
  { command: 'kernel', describe: 'Run one kernel on one tile configuration; print cycles, counters and the stall breakdown', load: async () => (await import('./commands/kernel.js')).kernelCommand },
  { command: 'sim', describe: 'Simulate a design serving a model on a token trace: tokens/s, TTFT, inter-token latency, power, energy, area, PPA', load: async () => (await import('./commands/sim.js')).simCommand },
  { command: 'label', describe: 'Simulate sampled designs in parallel into a label file (msgpack, checksummed, resumable); `label info FILE` summarises one', load: async () => (await import('./commands/label.js')).labelCommand },
  { command: 'surrogate <action>', describe: 'Train, judge and query the surrogate model (train | eval | predict | sensitivity | compare | accuracy)', load: async () => (await import('./commands/surrogate.js')).surrogateCommand },
  { command: 'worker', describe: 'Run simulation jobs from a job queue (BullMQ on Redis) for `tessera label --queue` on other machines', load: async () => (await import('./commands/worker.js')).workerCommand },
  { command: 'explore', describe: 'Search designs over process nodes with SAC (and random, grid, GA baselines) against the surrogate, with simulator spot checks; every reported result is simulated', load: async () => (await import('./commands/explore.js')).exploreCommand },
];

const nameOf = (command: string) => command.split(' ')[0];

/**
 * The whole CLI as a function: parse `argv` (without node and script), run the command
 * against `io`, return the exit code (0 ok, 2 bad input or usage, 3 infeasible design,
 * 1 internal error). Input problems are printed as one line on stderr, never as a stack trace.
 */
export async function main(argv: readonly string[], io: Io = nodeIo): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number) => {
    exitCode = Math.max(exitCode, code);
  };
  try {
    const names = new Set(COMMANDS.map((c) => nameOf(c.command)));
    const first = argv.find((a) => names.has(a));
    const parser = yargs()
      .scriptName('tessera')
      .usage('$0 <command> [options]\n\nTessera: co-design of 2D-mesh AI-inference ASICs (see README.md).')
      .epilogue('Exit codes: 0 success; 2 bad input or usage; 3 the design is infeasible (the result says why and prints fixes); 1 internal error.');
    for (const c of COMMANDS) {
      // only the command being run is loaded; the others are listed by name for --help
      if (nameOf(c.command) === first) parser.command({ ...(await c.load())(io, setExit), command: c.command, describe: c.describe });
      else parser.command(c.command, c.describe);
    }
    parser
      .middleware((args) => {
        if (args.seed !== undefined) args.seed = parseSeed(args.seed);
      })
      .demandCommand(1, 'name a command (tessera --help lists them)')
      .strict()
      .version(pkg.version)
      .help()
      .wrap(Math.min(100, process.stdout.columns || 100))
      .exitProcess(false)
      .fail((msg, err) => {
        throw err ?? new UsageError(msg);
      });
    await parser.parseAsync([...argv], {}, (_err, _args, output) => {
      if (output) io.stdout(`${output}\n`);
    });
  } catch (e) {
    if (e instanceof InputError) {
      io.stderr(`tessera: ${e.message}\n`);
      return EXIT.input;
    }
    if (e instanceof UsageError) {
      io.stderr(`tessera: ${e.message.replace(/\s*\n\s*/g, ' ')} (see tessera --help)\n`);
      return EXIT.input;
    }
    const err = e as Error;
    io.stderr(`tessera: internal error: ${err?.message ?? String(e)}\n`);
    if (process.env.TESSERA_DEBUG) io.stderr(`${err?.stack ?? ''}\n`);
    return EXIT.internal;
  }
  return exitCode;
}
