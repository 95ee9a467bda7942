/** The SQLite (WAL) cache store: one file, `user_version` = layout version, table `entries (key, label, value, created)`. */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CacheMode } from './config.js';
import type { CacheEntry, CacheStore } from './cache-store.js';
import { ensureDir } from './ensure-dir.js';
import { InputError } from './errors.js';

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

export class SqliteCacheStore implements CacheStore {
  readonly location: string;
  private readonly db: Database.Database | undefined;
  private readonly getStmt: Database.Statement<[string], { value: string }> | undefined;
  private readonly putStmt: Database.Statement<[string, string, string, number]> | undefined;
  private rawStmt: Database.Statement<[string], CacheEntry> | undefined;

  /** Opens (rw: creates) the file for `mode`; `off` opens nothing. A missing file is empty for ro, an error for replay. */
  constructor(path: string, mode: CacheMode) {
    this.location = path;
    if (mode === 'off') return;
    const readOnly = mode === 'ro' || mode === 'replay';
    if (readOnly && path !== ':memory:') {
      // Never create or write a cache that is only read.
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

  readSync(key: string): string | undefined {
    return guard(this.location, () => this.getStmt?.get(key))?.value;
  }

  read(key: string): Promise<string | undefined> {
    return Promise.resolve(this.readSync(key));
  }

  entry(key: string): Promise<CacheEntry | undefined> {
    if (!this.db) return Promise.resolve(undefined);
    this.rawStmt ??= this.db.prepare('SELECT key, label, value, created FROM entries WHERE key = ?');
    return Promise.resolve(this.rawStmt.get(key));
  }

  writeSync(e: CacheEntry): void {
    const stmt = this.putStmt;
    if (!stmt) throw new Error(`cache ${this.location} is not writable`);
    guard(this.location, () => stmt.run(e.key, e.label, e.value, e.created));
  }

  write(e: CacheEntry): Promise<void> {
    this.writeSync(e);
    return Promise.resolve();
  }

  writeMany(entries: readonly CacheEntry[]): Promise<void> {
    const db = this.db;
    if (!db) throw new Error(`cache ${this.location} is not open`);
    db.transaction(() => {
      for (const e of entries) this.writeSync(e);
    })();
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.db?.close();
    return Promise.resolve();
  }
}
