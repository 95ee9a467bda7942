import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';

/** Registers `okvqa export fid <run> --out train.json`. */
export function register(program: Command): void {
  const exp = program.command('export').description('export a finished run for other tools');
  exp
    .command('fid <run>')
    .description("a run's questions, answers and reader passages in FiD's JSON training format (question, answers, target, ctxs[title, text, score])")
    .requiredOption('--out <file>', 'output JSON file')
    .option('--node <name...>', 'passage node(s) to export (default: the passages the output node read)')
    .option('--data <data.json>', "data sources (default: the run's manifest)")
    .option('--rank-scores', "score = N − rank, so FiD's sort by score keeps the reader's passage order")
    .action(async (run: string, opts: { out: string; node?: string[]; data?: string; rankScores?: boolean }) => {
      const { exportFid } = await import('../../export/fid.js');
      const { loadDataFile } = await import('../../data/data-file.js');
      const r = exportFid(run, {
        ...(opts.node ? { nodes: opts.node } : {}),
        ...(opts.data ? { data: loadDataFile(opts.data) } : {}),
        ...(opts.rankScores ? { rankScores: true } : {}),
      });
      writeFileSync(opts.out, JSON.stringify(r.examples, null, 1) + '\n');
      process.stderr.write(`export fid: ${r.examples.length} examples (passages of ${r.nodes.join(', ')}; ${r.skipped} failed or unknown questions skipped) → ${opts.out}\n`);
    });
}
