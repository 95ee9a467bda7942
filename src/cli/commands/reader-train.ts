/**
 * `okvqa reader train [--python <interpreter>] <trainer arguments…>`: a thin shell over `python -m okvqa_py.train`
 * (python/okvqa_py, docs/reader-training.md) run by the first Python 3 with torch (the interpreter discovery of
 * `reader import`), with its output streamed. Every argument after `train` goes to the trainer as is (`--help` too).
 * Exit codes: 0 done; 2 the trainer refused its arguments or inputs (argparse usage, a missing export field); 1 any other
 * failure; 130 interrupted.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';

/** `--python X` / `--python=X` taken out of the pass-through arguments. */
export function splitPythonFlag(args: readonly string[]): { python?: string; rest: string[] } {
  const rest: string[] = [];
  let python: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--python' && i + 1 < args.length) python = args[++i];
    else if (a.startsWith('--python=')) python = a.slice('--python='.length);
    else rest.push(a);
  }
  return python === undefined ? { rest } : { python, rest };
}

export function registerReaderTrain(reader: Command): void {
  reader
    .command('train')
    .description("train a FiD reader (KAT's recipe; REVIVE's visual projection with --regions exports) from `okvqa export fid --tokenizer` output: python -m okvqa_py.train")
    .argument('[args...]', 'the trainer\'s arguments (okvqa reader train --help lists them), plus --python <interpreter>')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (args: string[]) => {
      const { findPython, pythonEnv } = await import('../../runtime/python.js');
      const { python, rest } = splitPythonFlag(args);
      const py = findPython(['torch'], { ...(python ? { explicit: python } : {}), purpose: 'okvqa reader train' });
      process.stderr.write(`reader train: ${py.executable} ${py.version} -m okvqa_py.train\n`);
      const child = spawn(py.command, ['-m', 'okvqa_py.train', ...rest], { stdio: 'inherit', env: pythonEnv() });
      const onInt = () => child.kill('SIGINT');
      process.once('SIGINT', onInt);
      const code = await new Promise<number | null>((res, rej) => {
        child.once('error', rej);
        child.once('exit', (c, sig) => res(sig === 'SIGINT' ? EXIT.interrupted : c));
      });
      process.off('SIGINT', onInt);
      process.exitCode = code === 0 ? EXIT.ok : code === EXIT.interrupted ? EXIT.interrupted : code === 2 ? EXIT.usage : EXIT.failure;
    });
}
