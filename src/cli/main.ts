import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Help } from 'commander';
import { packagePaths } from '../core/paths.js';
import { COMMANDS, findCommand, requestedCommand } from './command-table.js';
import { EXIT, errorExitCode } from './exit-codes.js';

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packagePaths().root, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Build the okvqa command-line program (a thin shell over the library). With `argv`, only the module of the requested
 * command is loaded (the top-level help lists the others from the command table); without it, every command is.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('okvqa')
    .description('knowledge-based visual question answering: PICa, KAT, REVIVE pipelines, exact official metrics')
    .version(packageVersion())
    .option('--debug', 'print stack traces')
    // Before the commands are added, so that each inherits it: commander errors then reach main() (exit code 2).
    .exitOverride();
  const entry = argv ? findCommand(requestedCommand(argv.slice(2))) : undefined;
  if (entry) {
    (await entry.load()).register(program);
  } else if (!argv) {
    for (const e of COMMANDS) (await e.load()).register(program);
  } else {
    // Help, --version or an unknown command: list every command without loading any.
    const terms = new Map(COMMANDS.flatMap((e) => e.commands.map((c) => [c.name, c.term] as const)));
    for (const e of COMMANDS) for (const c of e.commands) program.command(c.name).description(c.description);
    const base = new Help();
    program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? base.subcommandTerm(cmd) });
  }
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; any other commander error is a usage error.
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    const debug = argv.includes('--debug') || !!process.env.OKVQA_DEBUG;
    process.stderr.write(`okvqa: ${debug && err instanceof Error ? err.stack : err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = errorExitCode(err);
  }
}
