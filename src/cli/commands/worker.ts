import type { Command } from 'commander';
import { isDatabaseUrl, redactUrl } from '../../core/cache-store.js';
import { stderrLog } from '../logger.js';
import { UsageError } from '../../core/errors.js';
import { parseNumberFlag, withConfigOptions } from '../options.js';
import { prepareRun } from '../prepare.js';

interface WorkerOptions {
  queue?: string;
  concurrency?: string;
  data?: string;
  cacheUrl?: string;
  once?: boolean;
  run?: string;
  config?: string;
  set?: string[];
  profile?: string;
  offline?: boolean;
}

/** Registers `okvqa worker`: answers the questions of distributed runs (docs/distributed.md). */
export function register(program: Command): void {
  withConfigOptions(
    program
      .command('worker [pipeline]')
      .description('answer the questions of distributed runs (okvqa run … --queue) from a PostgreSQL queue, with the shared cache')
      .requiredOption('--queue <url>', 'the queue database (postgres://…), as given to okvqa run --queue')
      .option('--concurrency <n>', 'questions answered at once (default 1)')
      .option('--data <data.json>', "this machine's data sources (default: the coordinator's --data path)")
      .option('--cache-url <url>', 'shared cache (postgres://…; default: cache.url, else the queue database)')
      .option('--run <id>', 'serve only this run (default: the oldest running one)')
      .option('--once', 'exit when the run served is complete (default: wait for the next run)'),
  ).action(async (ref: string | undefined, opts: WorkerOptions) => {
    const queue = opts.queue!;
    if (!isDatabaseUrl(queue)) throw new UsageError(`--queue expects a postgres:// URL, got "${queue}"`);
    const concurrency = parseNumberFlag('--concurrency', opts.concurrency, { integer: true, positive: true }) ?? 1;
    const { runWorker } = await import('../../distributed/worker.js');
    const abort = new AbortController();
    let interrupts = 0;
    const onSignal = () => {
      interrupts++;
      if (interrupts > 1) process.exit(130);
      process.stderr.write('\nstopping: questions in hand are finished or handed back (again to quit now)\n');
      abort.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const summary = await runWorker({
        url: queue,
        concurrency,
        once: !!opts.once,
        ...(opts.run ? { runId: opts.run } : {}),
        log: stderrLog,
        signal: abort.signal,
        async prepare(run) {
          // The run's own pipeline and flags, with this machine's data file and any flags given here on top.
          const sets = [...run.spec.sets, ...(opts.set ?? []), ...(opts.cacheUrl ? [`cache.url=${opts.cacheUrl}`] : [])];
          const profile = opts.profile ?? run.spec.profile;
          const config = opts.config ?? run.spec.configFile;
          const p = await prepareRun(ref ?? run.spec.pipeline, {
            data: opts.data ?? run.spec.data,
            set: sets,
            ...(profile ? { profile } : {}),
            ...(config ? { config } : {}),
            ...(opts.offline ? { offline: true } : {}),
            ...(run.spec.limit ? { limit: String(run.spec.limit) } : {}),
          }, 'worker');
          if (!p.config.cache.url) p.config.cache.url = queue;
          return p;
        },
      });
      process.stderr.write(`worker: ${summary.answered} questions answered (${summary.failed} failed) in ${summary.runs} run(s) from ${redactUrl(queue)}\n`);
      if (abort.signal.aborted) process.exitCode = 130;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
}
