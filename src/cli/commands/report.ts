import type { Command } from 'commander';

interface ReportCliOptions {
  compare?: string;
  out?: string;
  title?: string;
  images?: boolean;
  thumbSize?: string;
}

export function register(program: Command): void {
  program
    .command('report <run>')
    .description('write one self-contained HTML report of a run folder (accuracy by category, stage costs, every question)')
    .option('--compare <run-b>', 'a second run folder: flipped questions, accuracy deltas, nodes whose outputs differ')
    .option('--out <file>', 'output HTML file (default <run>/report.html)')
    .option('--title <text>', 'page title')
    .option('--thumb-size <px>', 'longest side of the embedded image thumbnails', '192')
    .option('--no-images', 'leave images out')
    .action(async (run: string, opts: ReportCliOptions) => {
      const { writeReport } = await import('../../report/report.js');
      const size = Number(opts.thumbSize);
      if (!Number.isInteger(size) || size < 16 || size > 1024) throw new Error(`--thumb-size must be an integer from 16 to 1024, got "${opts.thumbSize}"`);
      const r = await writeReport(run, {
        ...(opts.compare ? { compare: opts.compare } : {}),
        ...(opts.out ? { out: opts.out } : {}),
        ...(opts.title ? { title: opts.title } : {}),
        thumbnails: opts.images === false ? false : { size },
      });
      for (const w of r.data.warnings) process.stderr.write(`warning: ${w}\n`);
      process.stderr.write(`wrote ${r.out} (${(r.bytes / 1e6).toFixed(2)} MB, ${r.questions} questions, ${r.images} images)\n`);
    });
}
