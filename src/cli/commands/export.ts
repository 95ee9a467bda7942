import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { configFromOptions, parseNumberFlag, withConfigOptions, type ConfigOptions } from '../options.js';

interface ExportFidFlags extends ConfigOptions {
  out: string;
  node?: string[];
  data?: string;
  rankScores?: boolean;
  target?: string;
  regions?: boolean | string[];
  tokenizer?: boolean | string;
  textMaxlength?: string;
}

/** Registers `okvqa export fid <run> --out train.json`. */
export function register(program: Command): void {
  const exp = program.command('export').description('export a finished run for other tools');
  withConfigOptions(
    exp
      .command('fid <run>')
      .description(
        "a run's questions, answers and reader passages in FiD's JSON training format (question, answers, ctxs[title?, text, score]); with --tokenizer the reader's token ids, with --regions its visual-token rows (python/okvqa_py trains from it)",
      )
      .requiredOption('--out <file>', 'output JSON file')
      .option('--node <name...>', 'passage node(s) to export (default: the passages the output node read)')
      .option('--data <data.json>', "data sources (default: the run's manifest)")
      .option('--rank-scores', "score = N − rank, so FiD's sort by score keeps the reader's passage order")
      .option('--target <how>', 'write a fixed target: majority (the most frequent answer); default none (a random answer each draw, as KAT)')
      .option('--regions [node...]', "also write each question's region rows (CLIP embedding ‖ normalised box) that reader.fid feeds as visual tokens (REVIVE)")
      .option('--tokenizer [model]', "also write passage_ids / answer_ids tokenised by the reader's tokenizer (hub id or folder; no value: the reader role)")
      .option('--text-maxlength <n>', 'tokens per passage with --tokenizer (reader.fid textMaxLength; KAT 64)'),
  ).action(async (run: string, opts: ExportFidFlags) => {
    const { exportFid } = await import('../../export/fid.js');
    const { loadDataFile } = await import('../../data/data-file.js');
    if (opts.target !== undefined && opts.target !== 'majority') throw new UsageError(`--target expects "majority", got "${opts.target}"`);
    const textMaxLength = parseNumberFlag('--text-maxlength', opts.textMaxlength, { integer: true, min: 2 });
    let close: (() => Promise<void>) | undefined;
    let tokenizer: import('../../export/fid.js').ExportTokenizer | undefined;
    let tokenizerId = '';
    if (opts.tokenizer) {
      const { loadExportTokenizer } = await import('../../export/fid-tokenizer.js');
      const t = await loadExportTokenizer(configFromOptions(opts), typeof opts.tokenizer === 'string' ? opts.tokenizer : undefined);
      close = t.close;
      tokenizerId = t.id;
      tokenizer = { tokenizer: t.tokenizer, ...(textMaxLength ? { textMaxLength } : {}) };
    }
    try {
      const r = exportFid(run, {
        ...(opts.node ? { nodes: opts.node } : {}),
        ...(opts.data ? { data: loadDataFile(opts.data) } : {}),
        ...(opts.rankScores ? { rankScores: true } : {}),
        ...(opts.target ? { target: 'majority' as const } : {}),
        ...(opts.regions ? { regions: opts.regions } : {}),
        ...(tokenizer ? { tokenizer } : {}),
      });
      writeFileSync(opts.out, JSON.stringify(r.examples) + '\n');
      const extra = [tokenizer ? `token ids by ${tokenizerId}` : '', r.regionNodes.length ? `regions of ${r.regionNodes.join(', ')}` : ''].filter(Boolean);
      process.stderr.write(
        `export fid: ${r.examples.length} examples (passages of ${r.nodes.join(', ')}${extra.length ? `; ${extra.join('; ')}` : ''}; ${r.skipped} failed or unknown questions skipped) → ${opts.out}\n`,
      );
    } finally {
      await close?.();
    }
  });
}
