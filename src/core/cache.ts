import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { ensureDir } from './ensure-dir.js';
import { dirname } from 'node:path';
import type { CacheMode } from './config.js';
import { CacheMissError, InputError } from './errors.js';
import { hashValue } from './hash.js';

export interface CacheResult<T> {
  value: T;
  hit: boolean;
  /**
   * This caller joined identical work another caller had in flight (computed once for both). `attached` is then what
   * the caller that computed it attached to the work (e.g. the notes and usage its trace records).
   */
  shared?: boolean;
  attached?: unknown;
}

export interface CacheStats {
  hits: number;
  misses: number;
  writes: number;
}

/**
 * Layout of the cache file, kept in SQLite's `user_version`: one table `entries (key, label, value, created)`. A file of
 * another layout (a newer okvqa, or not an okvqa cache) is refused with what to do, never read or overwritten.
 */
export const CACHE_FORMAT = 1;

const FIX = 'move it away or delete it (a new cache is made), point cache.path / OKVQA_CACHE_PATH elsewhere, or run with --cache off';

/** SQLite errors that mean the file itself is damaged or not a database. */
function isDamage(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return /^SQLITE_(NOTADB|CORRUPT)/.test(code) || /not a database|malformed/i.test((err as Error).message ?? '');
}

/** Run a cache-file operation; a damaged file becomes an error naming it and the fix. */
function guard<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isDamage(err)) throw new Error(`cache ${path} is damaged or not an SQLite database (${(err as Error).message}): ${FIX}`, { cause: err });
    throw err;
  }
}

function closeOnError<T>(db: Database.Database, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    db.close();
    throw err;
  }
}

function openChecked(path: string, open: () => Database.Database): Database.Database {
  const db = guard(path, open);
  closeOnError(db, () => guard(path, () => db.pragma('busy_timeout = 10000')));
  return db;
}

/** Check the file's layout version and table; true when the entries table exists. */
function checkLayout(db: Database.Database, path: string): boolean {
  const version = db.pragma('user_version', { simple: true }) as number;
  const cols = (db.prepare("SELECT name FROM pragma_table_info('entries')").all() as { name: string }[]).map((c) => c.name).sort();
  const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
  if (version !== 0 && version !== CACHE_FORMAT) {
    throw new Error(`cache ${path} has layout version ${version}, this okvqa reads version ${CACHE_FORMAT} (written by another okvqa version): ${FIX}`);
  }
  if (cols.length === 0) {
    if (tables.n > 0) throw new Error(`cache ${path} is an SQLite file but not an okvqa cache (no entries table): ${FIX}`);
    return false;
  }
  if (cols.join(',') !== 'created,key,label,value') {
    throw new Error(`cache ${path} has an entries table of another layout (${cols.join(', ')}): ${FIX}`);
  }
  return true;
}

/**
 * Content-addressed cache of JSON values in SQLite (WAL).
 * Modes: rw (read + write), ro (read, never write), off (neither), replay (read; a miss is an error).
 * Identical keys requested concurrently are computed once, whatever the mode.
 */
export class Cache {
  readonly stats: CacheStats = { hits: 0, misses: 0, writes: 0 };
  private readonly inflight = new Map<string, { promise: Promise<CacheResult<unknown>>; attached: unknown }>();
  private readonly db: Database.Database | undefined;
  private readonly getStmt: Database.Statement<[string], { value: string }> | undefined;
  private readonly putStmt: Database.Statement<[string, string, string, number]> | undefined;
  private rawStmt: Database.Statement<[string], { key: string; label: string; value: string; created: number }> | undefined;

  constructor(
    readonly path: string,
    readonly mode: CacheMode = 'rw',
  ) {
    if (mode === 'off') return;
    const readOnly = mode === 'ro' || mode === 'replay';
    if (readOnly && path !== ':memory:') {
      // Never create or write a cache that is only read. A missing file is an empty cache for ro, an error for replay.
      if (!existsSync(path)) {
        if (mode === 'replay') throw new InputError(`cache replay: no cache file at ${path}`);
        return;
      }
      const db = openChecked(path, () => new Database(path, { readonly: true, fileMustExist: true }));
      this.db = db;
      const hasTable = closeOnError(db, () => guard(path, () => checkLayout(db, path)));
      if (hasTable) this.getStmt = db.prepare('SELECT value FROM entries WHERE key = ?');
      return;
    }
    if (path !== ':memory:') ensureDir(dirname(path), 'cache folder');
    const db = openChecked(path, () => new Database(path));
    this.db = db;
    closeOnError(db, () => guard(path, () => {
      checkLayout(db, path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(`CREATE TABLE IF NOT EXISTS entries (
        key TEXT PRIMARY KEY,
        label TEXT NOT NULL,
        value TEXT NOT NULL,
        created INTEGER NOT NULL
      ) WITHOUT ROWID`);
      db.pragma(`user_version = ${CACHE_FORMAT}`);
    }));
    this.getStmt = db.prepare('SELECT value FROM entries WHERE key = ?');
    this.putStmt = db.prepare('INSERT OR REPLACE INTO entries (key, label, value, created) VALUES (?, ?, ?, ?)');
  }

  /** Key for a description of the work (stage id, version, params, fingerprints, input hashes…). */
  static key(parts: unknown): string {
    return hashValue(parts);
  }

  /**
   * A view of this cache that reports every key looked up (hit, computed, or shared with a concurrent request) to
   * `onKey`; storage, statistics and in-flight sharing stay those of this cache. The runner gives each question one, so
   * the trace records the entries a question used (what `okvqa cache export` bundles).
   */
  recording(onKey: (key: string) => void): Cache {
    const base = this;
    const view = Object.create(this) as Cache;
    view.get = <T>(key: string): T | undefined => {
      onKey(key);
      return base.get<T>(key);
    };
    view.getOrCompute = <T>(key: string, label: string, compute: () => Promise<T>, attached?: unknown): Promise<CacheResult<T>> => {
      onKey(key);
      return base.getOrCompute(key, label, compute, attached);
    };
    return view;
  }

  /** The stored row of a key as text (the value exactly as written), for export. */
  entry(key: string): { key: string; label: string; value: string; created: number } | undefined {
    if (!this.db) return undefined;
    this.rawStmt ??= this.db.prepare('SELECT key, label, value, created FROM entries WHERE key = ?');
    return this.rawStmt.get(key);
  }

  /** Store a row as exported by `entry` (import of a replay bundle). Only in rw mode. */
  putEntry(e: { key: string; label: string; value: string; created: number }): void {
    if (this.mode !== 'rw' || !this.putStmt) throw new Error(`cache ${this.path} is not writable (mode ${this.mode})`);
    this.putStmt.run(e.key, e.label, e.value, e.created);
    this.stats.writes++;
  }

  /** Run `fn` in one SQLite transaction (bulk import). */
  transaction(fn: () => void): void {
    if (!this.db) throw new Error(`cache ${this.path} is not open`);
    this.db.transaction(fn)();
  }

  get<T>(key: string): T | undefined {
    const row = guard(this.path, () => this.getStmt?.get(key));
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  put(key: string, label: string, value: unknown): void {
    if (this.mode !== 'rw' || !this.putStmt) return;
    const stmt = this.putStmt;
    guard(this.path, () => stmt.run(key, label, JSON.stringify(value), Date.now()));
    this.stats.writes++;
  }

  /**
   * Look `key` up; on a miss run `compute` (once, even if asked concurrently) and store its result. A caller that joins
   * work in flight gets `shared: true` and the `attached` value of the caller that started it.
   */
  getOrCompute<T>(key: string, label: string, compute: () => Promise<T>, attached?: unknown): Promise<CacheResult<T>> {
    const running = this.inflight.get(key);
    if (running) {
      return running.promise.then((r) => ({ ...(r as CacheResult<T>), shared: true, attached: running.attached }));
    }
    const p = this.lookupOrCompute(key, label, compute).finally(() => this.inflight.delete(key));
    this.inflight.set(key, { promise: p, attached });
    return p;
  }

  private async lookupOrCompute<T>(key: string, label: string, compute: () => Promise<T>): Promise<CacheResult<T>> {
    if (this.mode !== 'off') {
      const row = guard(this.path, () => this.getStmt?.get(key));
      if (row) {
        this.stats.hits++;
        return { value: JSON.parse(row.value) as T, hit: true };
      }
      if (this.mode === 'replay') throw new CacheMissError(key, label);
    }
    this.stats.misses++;
    // A miss returns exactly what a later hit will: the value as stored (plain JSON), so cold and warm runs agree.
    const text = JSON.stringify(await compute());
    if (text === undefined) throw new Error(`${label}: produced no JSON-serialisable value`);
    if (this.mode === 'rw' && this.putStmt) {
      const stmt = this.putStmt;
      guard(this.path, () => stmt.run(key, label, text, Date.now()));
      this.stats.writes++;
    }
    return { value: JSON.parse(text) as T, hit: false };
  }

  close(): void {
    this.db?.close();
  }
}
