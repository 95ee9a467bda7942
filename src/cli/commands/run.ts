import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { CACHE_MODES, type CacheMode } from '../../core/config.js';
import { stderrLog } from '../logger.js';
import { packagePaths } from '../../core/paths.js';
import { katTextSources } from '../../stages/question/kat-released.js';
import { manifestInfo } from '../manifest-info.js';
import { ensureDir } from '../../core/ensure-dir.js';
import { UsageError } from '../../core/errors.js';
import { PreflightError, runExitCode } from '../exit-codes.js';
import { summarizeFailures } from '../failure-summary.js';
import { parseNumberFlag, withConfigOptions } from '../options.js';
import { checkPrepared, prepareRun, requirePipelineArg, type PrepareFlags } from '../prepare.js';
import { isDatabaseUrl, redactUrl } from '../../core/cache-store.js';

/** The dispatcher of a distributed run, with what a worker needs to prepare the same run on its machine. */
async function coordinate(queue: string, ref: string, opts: RunOptions, flagSets: readonly string[], limit: number | undefined, lease: number | undefined) {
  const { distributedDispatch } = await import('../../distributed/coordinator.js');
  const { existsSync } = await import('node:fs');
  const { resolve } = await import('node:path');
  const spec = {
    pipeline: existsSync(ref) ? resolve(ref) : ref,
    data: resolve(opts.data!),
    // Scheduling and cache location are each worker's own; everything else is the run's.
    sets: [...(opts.set ?? []), ...flagSets].filter((s) => !/^(concurrency|cache\.url|cache\.path)=/.test(s)),
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.config ? { configFile: resolve(opts.config) } : {}),
    ...(limit ? { limit } : {}),
  };
  return distributedDispatch({
    url: queue,
    spec,
    ...(lease ? { leaseSeconds: lease } : {}),
    onQueued: ({ runId, queued, alreadyAnswered }) =>
      process.stderr.write(`run ${runId}: ${queued} questions queued on ${redactUrl(queue)}${alreadyAnswered ? ` (${alreadyAnswered} already answered there)` : ''}; start workers with: okvqa worker --queue <url>\n`),
  });
}

interface RunOptions extends PrepareFlags {
  out?: string;
  concurrency?: string;
  resume?: boolean;
  cache?: string;
  progress?: boolean;
  check?: boolean;
  queue?: string;
  cacheUrl?: string;
  lease?: string;
}

export function register(program: Command): void {
  withConfigOptions(
    program
      .command('run [pipeline]')
      .description('run a pipeline over a dataset; writes predictions.json, metrics.json, trace.jsonl, manifest.json')
      .option('--data <data.json>', 'data sources: {"dataset","questions","annotations"?,"images"?,"captions"?,"tags"?,"knowledge"?,"examples"?}')
      .option('--out <dir>', 'output folder')
      .option('--limit <n>', 'only the first n questions')
      .option('--concurrency <n>', 'questions in flight at once')
      .option('--resume', 'continue an interrupted run in --out')
      .option('--cache <mode>', `cache mode: ${CACHE_MODES.join(', ')}`)
      .option('--cache-url <url>', 'shared cache in PostgreSQL (postgres://…; config cache.url, OKVQA_CACHE_URL)')
      .option('--queue <url>', 'distributed run: put the questions on a queue in this PostgreSQL database and coordinate `okvqa worker`s (docs/distributed.md)')
      .option('--lease <seconds>', 'distributed run: seconds a worker holds a question before another may take it (default 600)')
      .option('--no-check', 'skip the pre-flight checks (okvqa check)')
      .option('--no-progress', 'no progress bar'),
  ).action(async (ref: string | undefined, opts: RunOptions) => {
    const paths = packagePaths();
    const pipelineRef = requirePipelineArg(ref, 'run', paths);
    const flagSets: string[] = [];
    if (opts.cache) {
      if (!CACHE_MODES.includes(opts.cache as CacheMode)) throw new UsageError(`--cache must be one of ${CACHE_MODES.join(', ')}, got "${opts.cache}"`);
      flagSets.push(`cache.mode=${opts.cache}`);
    }
    const concurrency = parseNumberFlag('--concurrency', opts.concurrency, { integer: true, positive: true });
    if (concurrency) flagSets.push(`concurrency=${concurrency}`);
    if (opts.cacheUrl) flagSets.push(`cache.url=${opts.cacheUrl}`);
    const lease = parseNumberFlag('--lease', opts.lease, { integer: true, positive: true });
    if (opts.queue && !isDatabaseUrl(opts.queue)) throw new UsageError(`--queue expects a postgres:// URL, got "${opts.queue}"`);
    if (lease && !opts.queue) throw new UsageError('--lease is for distributed runs: give --queue postgres://… too');
    if (opts.data && !opts.out) throw new UsageError('run: give an output folder with --out DIR');
    const prepared = await prepareRun(pipelineRef, opts, 'run', flagSets);
    const outDir = ensureDir(opts.out!, 'output folder');
    const { pipeline, config, data, samples, limit } = prepared;
    // A distributed run shares its cache through the queue's database unless cache.url names another.
    if (opts.queue && !config.cache.url) config.cache.url = opts.queue;
    // Stages (and the model/LLM libraries behind them) load only when a run starts: `okvqa --help` stays fast.
    const { closeRunContext, createRunContext, runPipeline } = await import('../../answerer.js');

    const abort = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts > 1) process.exit(130);
      process.stderr.write('\ninterrupt: stopping; finished questions are kept and the files written (Ctrl-C again to quit now; --resume continues)\n');
      abort.abort();
    };
    const ctx = createRunContext({ config, data, log: stderrLog, signal: abort.signal });
    const showBar = opts.progress !== false && process.stderr.isTTY;
    const bar = showBar ? new SingleBar({ format: '{bar} {value}/{total} questions | {failed} failed | eta {eta_formatted}', stream: process.stderr }, Presets.shades_classic) : undefined;
    let lastLogged = 0;
    try {
      await ctx.cache.ready(); // a shared cache that is unreachable or of another layout stops the run here, not per question
      if (opts.check !== false) {
        const report = await checkPrepared(prepared, ctx, (l) => process.stderr.write(`${l}\n`));
        if (report.errors.length) {
          throw new PreflightError(`${pipeline.name}: refusing to start: ${report.errors.length} problem(s) above (okvqa check ${pipelineRef} --data ${opts.data} lists them; --no-check skips the checks)`);
        }
      }
      process.on('SIGINT', onSigint);
      bar?.start(samples.length, 0, { failed: 0 });
      const summary = await runPipeline({
        pipeline,
        samples,
        ctx,
        outDir,
        resume: !!opts.resume,
        manifest: manifestInfo(config, paths, {
          data,
          argv: process.argv.slice(2),
          limit: limit ?? null,
          ...katTextSources(pipeline.nodes.map((n) => n.stage.id), data.kat),
          ...(opts.queue ? { distributed: { queue: redactUrl(opts.queue) } } : {}),
        }),
        ...(opts.queue ? { dispatch: await coordinate(opts.queue, pipelineRef, opts, flagSets, limit, lease) } : {}),
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
        ...summarizeFailures(summary.failures, samples),
      ];
      if (summary.metrics) {
        const m = summary.metrics;
        if (m.dataset === 'okvqa') lines.push(`accuracy: ${m.overall.toFixed(2)} over ${m.n} questions${m.partial ? ' (partial)' : ''}`);
        else lines.push(`direct answer: ${m.directAnswer?.toFixed(2) ?? '-'}  multiple choice: ${m.multipleChoice?.toFixed(2) ?? '-'}`);
      }
      if (summary.usage.calls) lines.push(`LLM: ${summary.usage.calls} calls (${summary.usage.cachedCalls} cached), ${summary.usage.promptTokens} prompt + ${summary.usage.completionTokens} completion tokens${summary.usage.imageTokens ? ` (${summary.usage.imageTokens} image tokens among the prompt tokens)` : ''}`);
      lines.push(`wrote ${summary.outDir}/{predictions.json${summary.metrics ? ',metrics.json' : ''},trace.jsonl,manifest.json}`);
      process.stderr.write(lines.join('\n') + '\n');
      process.exitCode = runExitCode(summary);
    } finally {
      bar?.stop();
      process.off('SIGINT', onSigint);
      await closeRunContext(ctx);
    }
  });
}
