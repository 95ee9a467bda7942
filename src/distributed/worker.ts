/**
 * A worker of distributed runs (`okvqa worker --queue postgres://…`): finds a running run in the queue database,
 * prepares its pipeline, config and questions on this machine (the caller's `prepare`: its own data, model and KB
 * paths), refuses the run when their identity differs from the coordinator's (saying what differs, as `--resume`
 * does), then takes questions from the run's queue, answers them with the shared cache and records each result once.
 * A question is held under a lease: if this process dies, the coordinator's pg-boss maintenance expires it and another
 * worker takes it. Database outages are waited out.
 */
import PgBoss from 'pg-boss';
import { answerOne, resultConfig, runIdentity } from '../core/batch.js';
import type { Sample } from '../core/artifacts.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/context.js';
import { errorMessage, InputError } from '../core/errors.js';
import type { CompiledPipeline } from '../core/graph.js';
import { withDbRetry } from '../core/pg-retry.js';
import { describeRunDifference, runIdentityParts } from '../core/run-diff.js';
import { PipelineExecutor } from '../core/runner.js';
import type { DataSources } from '../data/sources.js';
import { createRunContext } from '../run-context.js';
import { queueName, RunStore, workerName, type RunRow } from './store.js';

export interface PreparedWork {
  pipeline: CompiledPipeline;
  config: Config;
  data: DataSources;
  samples: Sample[];
}

export interface WorkerOptions {
  url: string;
  /** Questions answered at once (default 1). */
  concurrency?: number;
  /** Stop after the first run served is complete (default: wait for the next run). */
  once?: boolean;
  /** Serve only the run whose id starts with this. */
  runId?: string;
  /** Prepare a run on this machine (pipeline, config, data, questions). */
  prepare(run: RunRow): Promise<PreparedWork>;
  log: Logger;
  signal: AbortSignal;
  /** How often an idle worker looks for work (ms, default 250). */
  pollMs?: number;
  /** Told of every question this worker answered. */
  onResult?: (runId: string, questionId: string, ok: boolean) => void;
}

export interface WorkerSummary {
  runs: number;
  answered: number;
  failed: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((r) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      r();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Refuse a run this worker would compute differently; the message says what differs. */
export function checkIdentity(run: RunRow, work: PreparedWork): void {
  const config = resultConfig(work.config);
  if (runIdentity(work.pipeline, work.samples, config) === run.identity) return;
  const diff = describeRunDifference(run.identityParts, runIdentityParts(work.pipeline, work.samples, config));
  throw new InputError(
    `this worker's pipeline, config or questions differ from the run's, so it refuses to work on it (its answers would not be the run's). ` +
      `Start it with the coordinator's pipeline, --data, --profile and --set flags.` +
      (diff.length ? ` What differs:\n  ${diff.join('\n  ')}` : ''),
    `run ${run.id}`,
  );
}

export async function runWorker(opts: WorkerOptions): Promise<WorkerSummary> {
  const store = new RunStore(opts.url);
  const name = workerName();
  const summary: WorkerSummary = { runs: 0, answered: 0, failed: 0 };
  const poll = opts.pollMs ?? 250;
  let waiting = false;
  try {
    await store.init();
    const boss = await store.queue({ supervise: false });
    while (!opts.signal.aborted) {
      const runs = (await store.runningRuns()).filter((r) => !opts.runId || r.id.startsWith(opts.runId));
      // The oldest run with questions waiting; else the oldest running one (its questions in flight may come back).
      const run = (await firstWithWork(boss, runs)) ?? runs[0];
      if (!run) {
        if (!waiting) opts.log.info(`worker ${name}: waiting for a run on ${store.location}`);
        waiting = true;
        await sleep(Math.max(poll, 500), opts.signal);
        continue;
      }
      waiting = false;
      const work = await opts.prepare(run);
      checkIdentity(run, work);
      opts.log.info(`worker ${name}: serving run ${run.id} (${work.pipeline.name}, ${work.samples.length} questions)`);
      await serve(run, work, boss, store, name, opts, summary);
      if ((await store.run(run.id))?.status !== 'running') summary.runs++;
      if (opts.once) break;
    }
  } finally {
    await store.close();
  }
  return summary;
}

/** The first of `runs` whose queue holds questions waiting to be taken. */
async function firstWithWork(boss: PgBoss, runs: readonly RunRow[]): Promise<RunRow | undefined> {
  for (const r of runs) {
    const waiting = await withDbRetry('queue', () => boss.getQueueSize(queueName(r.id))).catch(() => 0);
    if (waiting > 0) return r;
  }
  return undefined;
}

async function serve(run: RunRow, work: PreparedWork, boss: PgBoss, store: RunStore, name: string, opts: WorkerOptions, summary: WorkerSummary): Promise<void> {
  const queue = queueName(run.id);
  const bySample = new Map(work.samples.map((s) => [s.questionId, s]));
  const ctx = createRunContext({ config: work.config, data: work.data, log: opts.log, signal: opts.signal });
  const executor = new PipelineExecutor(work.pipeline, ctx);
  const retry = <T>(fn: () => Promise<T>) => withDbRetry(`queue ${store.location}`, fn);
  const stillRunning = async () => (await store.run(run.id))?.status === 'running';
  const slot = async () => {
    let idleSince: number | undefined;
    while (!opts.signal.aborted) {
      let jobs: PgBoss.Job<{ q: string }>[];
      try {
        jobs = await retry(() => boss.fetch<{ q: string }>(queue, { batchSize: 1 }));
      } catch (err) {
        if (!(await stillRunning())) return; // the coordinator finished and removed the queue
        throw err;
      }
      const job = jobs[0];
      if (!job) {
        if (!(await stillRunning())) return;
        // Nothing queued here for a while: serve another run that has questions waiting (unless told to stay).
        idleSince ??= Date.now();
        if (!opts.once && !opts.runId && Date.now() - idleSince > 10_000) {
          const others = (await store.runningRuns()).filter((r) => r.id !== run.id);
          if (await firstWithWork(boss, others)) return;
          idleSince = Date.now();
        }
        await sleep(opts.pollMs ?? 250, opts.signal);
        continue;
      }
      idleSince = undefined;
      const q = job.data.q;
      if (await store.hasResult(run.id, q)) {
        // Answered by a worker whose lease ran out before it could say so: nothing to do twice.
        await retry(() => boss.complete(queue, job.id)).catch(() => undefined);
        continue;
      }
      const sample = bySample.get(q);
      const result = sample
        ? await answerOne(executor, sample)
        : { questionId: q, ok: false, nodes: {}, usage: { calls: 0, cachedCalls: 0, promptTokens: 0, completionTokens: 0 }, ms: 0, error: { node: '', stage: '', message: `question ${q}: not among this worker's questions` } };
      if (opts.signal.aborted && !result.ok) {
        // Cut short by a stop: hand the question back at once rather than after the lease.
        await retry(() => boss.fail(queue, job.id)).catch(() => undefined);
        return;
      }
      result.worker = name;
      if (await store.record(run.id, q, result.ok, name, JSON.stringify(result))) {
        summary.answered++;
        if (!result.ok) summary.failed++;
        opts.onResult?.(run.id, q, result.ok);
      }
      await retry(() => boss.complete(queue, job.id)).catch(() => undefined);
    }
  };
  try {
    await ctx.cache.ready();
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 1) }, () => slot()));
  } catch (err) {
    throw new Error(`worker ${name}, run ${run.id}: ${errorMessage(err)}`, { cause: err });
  } finally {
    await executor.dispose();
    await ctx.close();
  }
}
