/**
 * The PostgreSQL cache store: the same rows as the SQLite file (key, label, value text exactly as written, created) in
 * table `okvqa_cache_entries`, its layout version in `okvqa_cache_meta`, so many processes on many machines share one
 * cache. Each write is one statement (a reader sees a whole value or none; concurrent writers of a key both succeed and
 * the row holds one of their identical values). Connects lazily (`pg` is loaded on first use); an unreachable server
 * is waited for (src/core/pg-retry.ts).
 */
import type pg from 'pg';
import type { CacheMode } from './config.js';
import { redactUrl, type CacheEntry, type CacheStore } from './cache-store.js';
import { InputError } from './errors.js';
import { inTransaction, withDbRetry } from './pg-retry.js';

/** Layout version of the tables (kept in `okvqa_cache_meta.format`); the SQLite file's is `CACHE_FORMAT`. */
export const PG_CACHE_FORMAT = 1;
const LOCK_ID = 0x6f6b7661; // 'okva': serialises table creation between processes opening a new database

export class PostgresCacheStore implements CacheStore {
  readonly location: string;
  private pool: pg.Pool | undefined;
  private opening: Promise<boolean> | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly mode: CacheMode,
  ) {
    this.location = redactUrl(url);
  }

  private fix(): string {
    return `point cache.url / OKVQA_CACHE_URL / --cache-url at another database, drop the tables okvqa_cache_entries and okvqa_cache_meta there to start an empty cache, or run with --cache off`;
  }

  /** Connect and check (rw: create) the layout; true when the entries table exists. */
  ready(): Promise<boolean> {
    this.opening ??= withDbRetry(`cache ${this.location}`, () => this.open());
    this.opening.catch(() => (this.opening = undefined));
    return this.opening;
  }

  private async open(): Promise<boolean> {
    if (this.closed) throw new Error(`cache ${this.location} is closed`);
    if (!this.pool) {
      const { default: pgm } = await import('pg');
      this.pool = new pgm.Pool({ connectionString: this.url, max: 4, application_name: 'okvqa-cache' });
      // An idle connection dropped by a server restart must not crash the process; the next query reconnects.
      this.pool.on('error', () => undefined);
    }
    const pool = this.pool;
    if (this.mode === 'rw') {
      await inTransaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
        await this.checkLayout(client);
        await client.query(`CREATE TABLE IF NOT EXISTS okvqa_cache_meta (id int PRIMARY KEY CHECK (id = 1), format int NOT NULL)`);
        await client.query(`INSERT INTO okvqa_cache_meta (id, format) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, [PG_CACHE_FORMAT]);
        await client.query(`CREATE TABLE IF NOT EXISTS okvqa_cache_entries (
          key text PRIMARY KEY, label text NOT NULL, value text NOT NULL, created bigint NOT NULL)`);
      });
      return true;
    }
    const has = await this.checkLayout(pool);
    if (!has && this.mode === 'replay') throw new InputError(`cache replay: the database ${this.location} holds no okvqa cache`);
    return has;
  }

  /** Refuse a database whose okvqa tables are of another layout; true when the cache tables exist. */
  private async checkLayout(q: pg.Pool | pg.PoolClient): Promise<boolean> {
    const { rows } = await q.query<{ t: string }>(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('okvqa_cache_meta', 'okvqa_cache_entries')`,
    );
    const names = new Set(rows.map((r) => r.t));
    if (names.size === 0) return false;
    if (!names.has('okvqa_cache_meta')) throw new Error(`cache ${this.location}: table okvqa_cache_entries exists without okvqa_cache_meta (not a cache this okvqa wrote): ${this.fix()}`);
    const meta = await q.query<{ format: number }>('SELECT format FROM okvqa_cache_meta WHERE id = 1');
    const format = meta.rows[0]?.format;
    if (format !== PG_CACHE_FORMAT) {
      throw new Error(`cache ${this.location} has layout version ${format ?? 'unknown'}, this okvqa reads version ${PG_CACHE_FORMAT} (written by another okvqa version): ${this.fix()}`);
    }
    return names.has('okvqa_cache_entries');
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R> | undefined> {
    return withDbRetry(`cache ${this.location}`, async () => {
      if (!(await this.ready())) return undefined;
      return this.pool!.query<R>(text, values);
    });
  }

  async read(key: string): Promise<string | undefined> {
    const r = await this.query<{ value: string }>('SELECT value FROM okvqa_cache_entries WHERE key = $1', [key]);
    return r?.rows[0]?.value;
  }

  async entry(key: string): Promise<CacheEntry | undefined> {
    const r = await this.query<{ key: string; label: string; value: string; created: string }>(
      'SELECT key, label, value, created FROM okvqa_cache_entries WHERE key = $1',
      [key],
    );
    const row = r?.rows[0];
    return row ? { key: row.key, label: row.label, value: row.value, created: Number(row.created) } : undefined;
  }

  async write(e: CacheEntry): Promise<void> {
    if (this.mode !== 'rw') throw new Error(`cache ${this.location} is not writable (mode ${this.mode})`);
    await this.query(
      `INSERT INTO okvqa_cache_entries (key, label, value, created) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key) DO UPDATE SET label = EXCLUDED.label, value = EXCLUDED.value, created = EXCLUDED.created`,
      [e.key, e.label, e.value, e.created],
    );
  }

  async writeMany(entries: readonly CacheEntry[]): Promise<void> {
    if (this.mode !== 'rw') throw new Error(`cache ${this.location} is not writable (mode ${this.mode})`);
    await withDbRetry(`cache ${this.location}`, async () => {
      await this.ready();
      await inTransaction(this.pool!, async (client) => {
        for (let i = 0; i < entries.length; i += 500) {
          const chunk = entries.slice(i, i + 500);
          await client.query(
            `INSERT INTO okvqa_cache_entries (key, label, value, created)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
             ON CONFLICT (key) DO UPDATE SET label = EXCLUDED.label, value = EXCLUDED.value, created = EXCLUDED.created`,
            [chunk.map((e) => e.key), chunk.map((e) => e.label), chunk.map((e) => e.value), chunk.map((e) => e.created)],
          );
        }
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }
}
