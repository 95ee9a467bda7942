import { resolve } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { CACHE_MODES, type CacheMode } from '../../core/config.js';
import type { Logger } from '../../core/context.js';
import { packagePaths } from '../../core/paths.js';
import { manifestInfo } from '../manifest-info.js';
import { configFromOptions, withConfigOptions, type ConfigOptions } from '../options.js';

interface RunOptions extends ConfigOptions {
  data: string;
  out: string;
  limit?: string;
  concurrency?: string;
  resume?: boolean;
  cache?: string;
  progress?: boolean;
}

const stderrLog: Logger = {
  debug: (m) => process.env.OKVQA_DEBUG && process.stderr.write(`debug: ${m}\n`),
  info: (m) => process.stderr.write(`${m}\n`),
  warn: (m) => process.stderr.write(`warning: ${m}\n`),
};

function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got "${v}"`);
  return n;
}

export function register(program: Command): void {
  withConfigOptions(
    program
      .command('run <pipeline>')
      .description('run a pipeline over a dataset; writes predictions.json, metrics.json, trace.jsonl, manifest.json')
      .requiredOption('--data <data.json>', 'data sources: {"dataset","questions","annotations"?,"images"?,"captions"?,"tags"?,"knowledge"?,"examples"?}')
      .requiredOption('--out <dir>', 'output folder')
      .option('--limit <n>', 'only the first n questions')
      .option('--concurrency <n>', 'questions in flight at once')
      .option('--resume', 'continue an interrupted run in --out')
      .option('--cache <mode>', `cache mode: ${CACHE_MODES.join(', ')}`)
      .option('--no-progress', 'no progress bar'),
  ).action(async (ref: string, opts: RunOptions) => {
    const sets = [...(opts.set ?? [])];
    if (opts.cache) {
      if (!CACHE_MODES.includes(opts.cache as CacheMode)) throw new Error(`--cache must be one of ${CACHE_MODES.join(', ')}, got "${opts.cache}"`);
      sets.push(`cache.mode=${opts.cache}`);
    }
    const concurrency = positiveInt(opts.concurrency, '--concurrency');
    if (concurrency) sets.push(`concurrency=${concurrency}`);
    const limit = positiveInt(opts.limit, '--limit');
    // Stages (and the model/LLM libraries behind them) load only when a run starts: `okvqa --help` stays fast.
    const { closeRunContext, createRunContext, loadPipeline, runPipeline } = await import('../../answerer.js');
    const { loadDataFile, loadSamples } = await import('../../data/data-file.js');

    const pipeline = loadPipeline(ref, { sets });
    const config = configFromOptions({ ...opts, set: sets }, pipeline.config);
    const data = loadDataFile(opts.data);
    let samples = loadSamples(data);
    if (limit) samples = samples.slice(0, limit);

    const abort = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts > 1) process.exit(130);
      process.stderr.write('\ninterrupt: stopping; finished questions are kept and the files written (Ctrl-C again to quit now; --resume continues)\n');
      abort.abort();
    };
    process.on('SIGINT', onSigint);
    const ctx = createRunContext({ config, data, log: stderrLog, signal: abort.signal });
    const paths = packagePaths();
    const showBar = opts.progress !== false && process.stderr.isTTY;
    const bar = showBar ? new SingleBar({ format: '{bar} {value}/{total} questions | {failed} failed | eta {eta_formatted}', stream: process.stderr }, Presets.shades_classic) : undefined;
    let lastLogged = 0;
    try {
      bar?.start(samples.length, 0, { failed: 0 });
      const summary = await runPipeline({
        pipeline,
        samples,
        ctx,
        outDir: resolve(opts.out),
        resume: !!opts.resume,
        manifest: manifestInfo(config, paths, { data, argv: process.argv.slice(2), limit: limit ?? null }),
        onResult: (_r, p) => {
          if (bar) bar.update(p.done, { failed: p.failed });
          else if (opts.progress !== false && p.done - lastLogged >= Math.max(1, Math.floor(p.total / 10))) {
            lastLogged = p.done;
            process.stderr.write(`${p.done}/${p.total} questions, ${p.failed} failed\n`);
          }
        },
      });
      bar?.stop();
      const lines = [
        `${pipeline.name}: ${summary.ok} answered, ${summary.failed} failed${summary.resumed ? `, ${summary.resumed} from the earlier run` : ''}${summary.interrupted ? ' (interrupted: rerun with --resume)' : ''}`,
      ];
      const byKind = new Map<string, { n: number; example: string }>();
      for (const f of summary.failures) {
        const kind = `${f.node} (${f.stage}): ${f.message.replace(/^question \S+: node "[^"]+" \([^)]+\): /, '').replace(/[\w.-]*\d[\w.-]*/g, '#').slice(0, 140)}`;
        const e = byKind.get(kind);
        if (e) e.n++;
        else byKind.set(kind, { n: 1, example: f.questionId });
      }
      for (const [kind, e] of byKind) lines.push(`  failed ×${e.n}: ${kind} (e.g. question ${e.example})`);
      if (summary.metrics) {
        const m = summary.metrics;
        if (m.dataset === 'okvqa') lines.push(`accuracy: ${m.overall.toFixed(2)} over ${m.n} questions${m.partial ? ' (partial)' : ''}`);
        else lines.push(`direct answer: ${m.directAnswer?.toFixed(2) ?? '-'}  multiple choice: ${m.multipleChoice?.toFixed(2) ?? '-'}`);
      }
      if (summary.usage.calls) lines.push(`LLM: ${summary.usage.calls} calls (${summary.usage.cachedCalls} cached), ${summary.usage.promptTokens} prompt + ${summary.usage.completionTokens} completion tokens`);
      lines.push(`wrote ${summary.outDir}/{predictions.json${summary.metrics ? ',metrics.json' : ''},trace.jsonl,manifest.json}`);
      process.stderr.write(lines.join('\n') + '\n');
      if (summary.ok === 0 && summary.total > 0 && !summary.interrupted) process.exitCode = 1;
      if (summary.interrupted) process.exitCode = 130;
    } finally {
      bar?.stop();
      process.off('SIGINT', onSigint);
      await closeRunContext(ctx);
    }
  });
}
