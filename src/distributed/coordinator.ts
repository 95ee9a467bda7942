/**
 * The coordinator of a distributed run (`okvqa run … --queue postgres://…`): `runBatch` hands it the questions still to
 * answer (`dispatch`); it records the run in the database, puts one pg-boss job per question on the run's queue (each
 * with a lease: a worker that dies without finishing has its question taken again when the lease expires), and
 * collects the workers' results into the run folder as they arrive, so progress, trace.jsonl, predictions, metrics and
 * the manifest come out as a single-process run's. Ctrl-C marks the run interrupted and empties its queue; `--resume`
 * continues it (results already in the database are kept).
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { DispatchJob } from '../core/batch.js';
import type { SampleResult } from '../core/runner.js';
import { queueName, RunStore, type RunSpec } from './store.js';

export interface CoordinatorOptions {
  /** postgres:// URL of the queue database. */
  url: string;
  /** How workers prepare the run (pipeline reference, data file, config flags). */
  spec: RunSpec;
  /** Seconds a worker holds a question before another may take it (default 600). */
  leaseSeconds?: number;
  /** How often the coordinator looks for new results (ms, default 200). */
  pollMs?: number;
  /** Told the run's id once it is on the queue. */
  onQueued?: (info: { runId: string; queued: number; alreadyAnswered: number }) => void;
}

/** The run's id: the same run (identity) in the same folder on the same machine, so `--resume` finds it again. */
export function distributedRunId(identity: string, outDir: string): string {
  return createHash('sha256').update(JSON.stringify([identity, hostname(), resolve(outDir)])).digest('hex').slice(0, 32);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A `dispatch` for runBatch that answers the questions through workers on a PostgreSQL queue. */
export function distributedDispatch(opts: CoordinatorOptions): (job: DispatchJob) => Promise<void> {
  return async (job) => {
    const lease = opts.leaseSeconds ?? 600;
    const store = new RunStore(opts.url);
    try {
      await store.init();
      // The coordinator expires leases: pg-boss's maintenance runs a few times per lease.
      const boss = await store.queue({ supervise: true, maintenanceSeconds: Math.max(1, Math.min(60, Math.floor(lease / 3))) });
      const runId = distributedRunId(job.identity, job.outDir);
      const queue = queueName(runId);
      await store.upsertRun({ id: runId, identity: job.identity, identityParts: job.identityParts, spec: opts.spec, leaseSeconds: lease }, !job.resume);
      const retryLimit = 1000; // a lease expiry counts as a failure; a question is retried until a worker finishes it
      await withRetry(store, async () => {
        if (!(await boss.getQueue(queue))) await boss.createQueue(queue, { name: queue, retryLimit, retryDelay: 0, expireInSeconds: lease });
        else await boss.purgeQueue(queue); // jobs of an earlier invocation: queued again below
      });
      const answered = await store.answered(runId);
      const toQueue = job.todo.filter((s) => !answered.has(s.questionId));
      for (let i = 0; i < toQueue.length; i += 1000) {
        const chunk = toQueue.slice(i, i + 1000).map((s) => ({ name: queue, data: { q: s.questionId }, retryLimit, retryDelay: 0, expireInSeconds: lease }));
        await withRetry(store, () => boss.insert(chunk));
      }
      opts.onQueued?.({ runId, queued: toQueue.length, alreadyAnswered: job.todo.length - toQueue.length });

      const wanted = new Set(job.todo.map((s) => s.questionId));
      let left = wanted.size;
      while (left > 0) {
        if (job.signal.aborted) {
          await store.setStatus(runId, 'interrupted');
          await withRetry(store, () => boss.purgeQueue(queue));
          return;
        }
        for (const r of await store.collect(runId)) {
          if (!wanted.delete(r.questionId)) continue;
          left--;
          job.record(JSON.parse(r.result) as SampleResult);
        }
        if (left > 0) await sleep(opts.pollMs ?? 200);
      }
      await store.setStatus(runId, 'complete');
      // The queue stays (pg-boss keeps its finished jobs until its retention ends); results stay for --resume.
    } finally {
      await store.close();
    }
  };
}

async function withRetry<T>(store: RunStore, fn: () => Promise<T>): Promise<T> {
  const { withDbRetry } = await import('../core/pg-retry.js');
  return withDbRetry(`queue ${store.location}`, fn);
}
