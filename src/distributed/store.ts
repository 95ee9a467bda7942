/**
 * The tables a distributed run keeps next to pg-boss's queue (schema `pgboss`): `okvqa_runs` (one row per run: its
 * identity, how a worker prepares it, status) and `okvqa_results` (one row per answered question: the trace line as
 * text, exactly as the worker wrote it). A question's result is recorded once: the primary key (run, question) and
 * `ON CONFLICT DO NOTHING` make a second worker's copy of the same question (after a lease expired) a no-op.
 * Every call rides out a database outage (withDbRetry).
 */
import { hostname } from 'node:os';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { redactUrl } from '../core/cache-store.js';
import type { RunIdentityParts } from '../core/run-diff.js';
import { inTransaction, withDbRetry } from '../core/pg-retry.js';

/** Layout version of the okvqa_runs / okvqa_results tables. */
export const QUEUE_FORMAT = 1;
const LOCK_ID = 0x6f6b7671; // 'okvq'

/** How a worker prepares the run's pipeline, config and questions when its own flags do not say otherwise. */
export interface RunSpec {
  pipeline: string;
  data: string;
  sets: string[];
  profile?: string;
  configFile?: string;
  limit?: number;
}

export interface RunRow {
  id: string;
  identity: string;
  identityParts: RunIdentityParts;
  spec: RunSpec;
  status: 'running' | 'complete' | 'interrupted';
  leaseSeconds: number;
}

/** The pg-boss queue that carries a run's questions. */
export function queueName(runId: string): string {
  return `okvqa-run-${runId.slice(0, 24)}`;
}

/** This process as a worker name in traces and logs. */
export function workerName(): string {
  return `${hostname()}:${process.pid}`;
}

export class RunStore {
  readonly location: string;
  readonly pool: pg.Pool;
  private boss: PgBoss | undefined;

  constructor(readonly url: string) {
    this.location = redactUrl(url);
    this.pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'okvqa-queue' });
    this.pool.on('error', () => undefined); // a dropped idle connection reconnects on the next query
  }

  private retry<T>(fn: () => Promise<T>): Promise<T> {
    return withDbRetry(`queue ${this.location}`, fn);
  }

  /** Create (or check) the tables; a database of another layout is refused with what to do. */
  async init(): Promise<void> {
    await this.retry(async () => {
      await inTransaction(this.pool, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
        await c.query('CREATE TABLE IF NOT EXISTS okvqa_queue_meta (id int PRIMARY KEY CHECK (id = 1), format int NOT NULL)');
        await c.query('INSERT INTO okvqa_queue_meta (id, format) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [QUEUE_FORMAT]);
        const { rows } = await c.query<{ format: number }>('SELECT format FROM okvqa_queue_meta WHERE id = 1');
        if (rows[0]?.format !== QUEUE_FORMAT) {
          throw new Error(`queue ${this.location} has layout version ${rows[0]?.format}, this okvqa reads version ${QUEUE_FORMAT} (written by another okvqa version): use another database for --queue, or drop the okvqa_runs, okvqa_results and okvqa_queue_meta tables there`);
        }
        await c.query(`CREATE TABLE IF NOT EXISTS okvqa_runs (
          id text PRIMARY KEY, identity text NOT NULL, identity_parts jsonb NOT NULL, spec jsonb NOT NULL,
          status text NOT NULL, lease_seconds int NOT NULL, coordinator text NOT NULL,
          created timestamptz NOT NULL DEFAULT now(), updated timestamptz NOT NULL DEFAULT now())`);
        await c.query(`CREATE TABLE IF NOT EXISTS okvqa_results (
          run_id text NOT NULL, question_id text NOT NULL, ok boolean NOT NULL, worker text NOT NULL, result text NOT NULL,
          collected boolean NOT NULL DEFAULT false, created timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (run_id, question_id))`);
      });
    });
  }

  /** pg-boss on the same database; `supervise` (the coordinator) expires leases of dead workers. */
  async queue(opts: { supervise: boolean; maintenanceSeconds?: number }): Promise<PgBoss> {
    if (this.boss) return this.boss;
    const boss = new PgBoss({
      connectionString: this.url,
      max: 4,
      application_name: 'okvqa-queue',
      supervise: opts.supervise,
      schedule: false,
      ...(opts.maintenanceSeconds ? { maintenanceIntervalSeconds: opts.maintenanceSeconds, monitorStateIntervalSeconds: opts.maintenanceSeconds } : {}),
    });
    boss.on('error', () => undefined); // maintenance errors during an outage: the next round retries
    await this.retry(() => boss.start());
    this.boss = boss;
    return boss;
  }

  async upsertRun(run: Omit<RunRow, 'status'>, fresh: boolean): Promise<void> {
    await this.retry(async () => {
      await this.pool.query(
        `INSERT INTO okvqa_runs (id, identity, identity_parts, spec, status, lease_seconds, coordinator)
         VALUES ($1, $2, $3, $4, 'running', $5, $6)
         ON CONFLICT (id) DO UPDATE SET identity = EXCLUDED.identity, identity_parts = EXCLUDED.identity_parts, spec = EXCLUDED.spec,
           status = 'running', lease_seconds = EXCLUDED.lease_seconds, coordinator = EXCLUDED.coordinator, updated = now()`,
        [run.id, run.identity, JSON.stringify(run.identityParts), JSON.stringify(run.spec), run.leaseSeconds, workerName()],
      );
      // A fresh run starts with no results; a resumed one keeps the answered questions and retries the failed ones.
      if (fresh) await this.pool.query('DELETE FROM okvqa_results WHERE run_id = $1', [run.id]);
      else await this.pool.query('DELETE FROM okvqa_results WHERE run_id = $1 AND NOT ok', [run.id]);
      await this.pool.query('UPDATE okvqa_results SET collected = false WHERE run_id = $1', [run.id]);
    });
  }

  async setStatus(runId: string, status: RunRow['status']): Promise<void> {
    await this.retry(() => this.pool.query('UPDATE okvqa_runs SET status = $2, updated = now() WHERE id = $1', [runId, status]));
  }

  async run(runId: string): Promise<RunRow | undefined> {
    const { rows } = await this.retry(() => this.pool.query('SELECT * FROM okvqa_runs WHERE id = $1', [runId]));
    return rows[0] ? toRun(rows[0]) : undefined;
  }

  /** Runs workers should serve, oldest first. */
  async runningRuns(): Promise<RunRow[]> {
    const { rows } = await this.retry(() => this.pool.query("SELECT * FROM okvqa_runs WHERE status = 'running' ORDER BY created"));
    return rows.map(toRun);
  }

  async answered(runId: string): Promise<Set<string>> {
    const { rows } = await this.retry(() => this.pool.query<{ question_id: string }>('SELECT question_id FROM okvqa_results WHERE run_id = $1', [runId]));
    return new Set(rows.map((r) => r.question_id));
  }

  async hasResult(runId: string, questionId: string): Promise<boolean> {
    const { rowCount } = await this.retry(() => this.pool.query('SELECT 1 FROM okvqa_results WHERE run_id = $1 AND question_id = $2', [runId, questionId]));
    return (rowCount ?? 0) > 0;
  }

  /** Record a question's result; false when another worker recorded it first (the first one stays). */
  async record(runId: string, questionId: string, ok: boolean, worker: string, result: string): Promise<boolean> {
    const { rowCount } = await this.retry(() =>
      this.pool.query('INSERT INTO okvqa_results (run_id, question_id, ok, worker, result) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [runId, questionId, ok, worker, result]),
    );
    return (rowCount ?? 0) > 0;
  }

  /** Results not yet collected by the coordinator, marked collected as they are returned. */
  async collect(runId: string): Promise<{ questionId: string; result: string }[]> {
    const { rows } = await this.retry(() =>
      this.pool.query<{ question_id: string; result: string; created: Date }>(
        'UPDATE okvqa_results SET collected = true WHERE run_id = $1 AND NOT collected RETURNING question_id, result, created',
        [runId],
      ),
    );
    rows.sort((a, b) => a.created.getTime() - b.created.getTime());
    return rows.map((r) => ({ questionId: r.question_id, result: r.result }));
  }

  async close(): Promise<void> {
    const boss = this.boss;
    this.boss = undefined;
    await boss?.stop({ graceful: false, wait: true }).catch(() => undefined);
    await this.pool.end();
  }
}

function toRun(r: Record<string, unknown>): RunRow {
  return {
    id: r.id as string,
    identity: r.identity as string,
    identityParts: r.identity_parts as RunIdentityParts,
    spec: r.spec as RunSpec,
    status: r.status as RunRow['status'],
    leaseSeconds: r.lease_seconds as number,
  };
}
