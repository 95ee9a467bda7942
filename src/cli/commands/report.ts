import type { Command } from 'commander';

interface ReportCliOptions {
  compare?: string;
  out?: string;
  title?: string;
  images?: boolean;
  thumbSize?: string;
  maxMb?: string;
}

export function register(program: Command): void {
  program
    .command('report <run>')
    .description('write one self-contained HTML report of a run folder (accuracy by category, stage costs, every question)')
    .option('--compare <run-b>', 'a second run folder: flipped questions, accuracy deltas, nodes whose outputs differ')
    .option('--out <file>', 'output HTML file (default <run>/report.html)')
    .option('--title <text>', 'page title')
    .option('--thumb-size <px>', 'longest side of the embedded image thumbnails', '160')
    .option('--no-images', 'leave images out')
    .option('--max-mb <n>', 'size budget of the file: long texts, lists and thumbnails shrink (saying so) to stay within it', '30')
    .action(async (run: string, opts: ReportCliOptions) => {
      const { writeReport } = await import('../../report/report.js');
      const size = Number(opts.thumbSize);
      if (!Number.isInteger(size) || size < 16 || size > 1024) throw new Error(`--thumb-size must be an integer from 16 to 1024, got "${opts.thumbSize}"`);
      const maxMb = Number(opts.maxMb);
      if (!(maxMb > 0)) throw new Error(`--max-mb must be a positive number, got "${opts.maxMb}"`);
      const r = await writeReport(run, {
        ...(opts.compare ? { compare: opts.compare } : {}),
        ...(opts.out ? { out: opts.out } : {}),
        ...(opts.title ? { title: opts.title } : {}),
        images: opts.images !== false,
        thumbSize: size,
        maxBytes: maxMb * 1e6,
      });
      for (const w of r.data.warnings) process.stderr.write(`warning: ${w}\n`);
      process.stderr.write(`wrote ${r.out} (${(r.bytes / 1e6).toFixed(2)} MB, ${r.questions} questions, ${r.images} images)\n`);
    });
}
