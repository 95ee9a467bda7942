/**
 * Riding out a PostgreSQL outage: operations that fail because the server is unreachable, restarting or shutting down
 * are retried with backoff (up to `DB_RETRY_MS`), so a cache, a worker or a coordinator waits for the database to come
 * back instead of failing the question or the run. Other errors (SQL, constraints, permissions) are thrown at once. Also the
 * one way this project runs a transaction (`inTransaction`).
 */
import type pg from 'pg';

/** How long one operation waits for the database before giving up (30 minutes; `OKVQA_DB_RETRY_S` overrides). */
export function dbRetryMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.OKVQA_DB_RETRY_S);
  return Number.isFinite(s) && s >= 0 && env.OKVQA_DB_RETRY_S !== undefined && env.OKVQA_DB_RETRY_S !== '' ? s * 1000 : 30 * 60_000;
}

const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTCONN']);

/** True when `err` means "the server is not reachable right now" rather than "the request is wrong". */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  if (NET_CODES.has(code)) return true;
  // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now; class 08 = connection exceptions.
  if (/^57P0[123]$/.test(code) || /^08/.test(code)) return true;
  return /Connection terminated|terminating connection|connection error|Client was closed|not queryable|the database system is (starting up|shutting down)|timeout exceeded when trying to connect/i.test(e?.message ?? '');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whoever wants to hear about outages (the CLI prints them). */
let waitListener: ((message: string) => void) | undefined = (m) => process.stderr.write(`${m}\n`);
export function onDatabaseWait(listener: ((message: string) => void) | undefined): void {
  waitListener = listener;
}

/** Run `fn`; while it fails with a connection error, wait (0.2 s doubling to 5 s) and try again, up to `maxMs`. */
export async function withDbRetry<T>(what: string, fn: () => Promise<T>, maxMs = dbRetryMs()): Promise<T> {
  const start = Date.now();
  let delay = 200;
  let warned = false;
  for (;;) {
    try {
      const out = await fn();
      if (warned) waitListener?.(`${what}: database reachable again`);
      return out;
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      const waited = Date.now() - start;
      if (waited >= maxMs) {
        throw new Error(`${what}: the database stayed unreachable for ${Math.round(waited / 1000)} s (${(err as Error).message}); is the server up? (OKVQA_DB_RETRY_S sets how long to wait)`, { cause: err });
      }
      if (!warned) {
        warned = true;
        waitListener?.(`${what}: database unreachable (${(err as Error).message}); waiting for it and retrying`);
      }
      await sleep(Math.min(delay, Math.max(0, maxMs - waited)));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

/** Run `fn` in one transaction on a client of `pool`: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
