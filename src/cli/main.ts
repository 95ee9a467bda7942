import { Command, CommanderError } from 'commander';
import { packagePaths } from '../core/paths.js';
import { packageVersion } from './manifest-info.js';
import { register as registerRun } from './commands/run.js';
import { register as registerEval } from './commands/eval.js';
import { register as registerGraph } from './commands/graph.js';
import { register as registerStages } from './commands/stages.js';
import { register as registerVision } from './commands/vision.js';
import { register as registerLlm } from './commands/llm.js';
import { register as registerKb } from './commands/kb.js';
import { register as registerAsk } from './commands/ask.js';
import { register as registerExport } from './commands/export.js';
import { register as registerReport } from './commands/report.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerCache } from './commands/cache.js';

/** Build the okvqa command-line program (a thin shell over the library). */
export function buildProgram(): Command {
  const program = new Command('okvqa')
    .description('knowledge-based visual question answering: PICa, KAT, REVIVE pipelines, exact official metrics')
    .version(packageVersion(packagePaths()))
    .option('--debug', 'print stack traces');
  for (const register of [registerRun, registerEval, registerGraph, registerStages, registerVision, registerLlm, registerKb, registerExport, registerAsk, registerReport, registerServe, registerCache]) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    const debug = argv.includes('--debug') || !!process.env.OKVQA_DEBUG;
    process.stderr.write(`okvqa: ${debug && err instanceof Error ? err.stack : err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
