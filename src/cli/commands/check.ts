import type { Command } from 'commander';
import { packagePaths } from '../../core/paths.js';
import { Resources } from '../../core/resources.js';
import { silentLogger } from '../../core/context.js';
import { withConfigOptions } from '../options.js';
import { checkPrepared, prepareRun, requirePipelineArg, type PrepareFlags } from '../prepare.js';

/** Registers `okvqa check <pipeline> --data D`: the pre-flight checks of `okvqa run`, alone. */
export function register(program: Command): void {
  withConfigOptions(
    program
      .command('check [pipeline]')
      .description('check, without running anything, that every node of a pipeline has the inputs it needs (exit 2 on errors)')
      .option('--data <data.json>', 'data sources (as for okvqa run)')
      .option('--limit <n>', 'only the first n questions')
      .option('--json', 'print {"ok","errors","warnings","checked","unchecked","questions"} as JSON'),
  ).action(async (ref: string | undefined, flags: PrepareFlags & { json?: boolean }) => {
    const paths = packagePaths();
    const prepared = await prepareRun(requirePipelineArg(ref, 'check', paths), flags, 'check');
    const resources = new Resources();
    const lines: string[] = [];
    try {
      const report = await checkPrepared(prepared, { resources, paths, log: silentLogger }, (l) => lines.push(l));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ok: report.errors.length === 0, ...report, questions: prepared.samples.length })}\n`);
      } else {
        if (lines.length) process.stderr.write(lines.join('\n') + '\n');
        const unchecked = report.unchecked.length ? `; no checks for ${report.unchecked.join(', ')}` : '';
        process.stderr.write(
          `${prepared.pipeline.name}: ${report.errors.length} error(s), ${report.warnings.length} warning(s) over ${prepared.samples.length} questions ` +
            `(checked ${report.checked.join(', ') || 'no node'}${unchecked})\n`,
        );
      }
      if (report.errors.length) process.exitCode = 2;
    } finally {
      await resources.disposeAll();
    }
  });
}
