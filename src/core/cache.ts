import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CacheMode } from './config.js';
import { CacheMissError } from './errors.js';
import { hashValue } from './hash.js';

export interface CacheResult<T> {
  value: T;
  hit: boolean;
}

export interface CacheStats {
  hits: number;
  misses: number;
  writes: number;
}

/**
 * Content-addressed cache of JSON values in SQLite (WAL).
 * Modes: rw (read + write), ro (read, never write), off (neither), replay (read; a miss is an error).
 * Identical keys requested concurrently are computed once, whatever the mode.
 */
export class Cache {
  readonly stats: CacheStats = { hits: 0, misses: 0, writes: 0 };
  private readonly inflight = new Map<string, Promise<CacheResult<unknown>>>();
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
        if (mode === 'replay') throw new Error(`cache replay: no cache file at ${path}`);
        return;
      }
      this.db = new Database(path, { readonly: true, fileMustExist: true });
      this.db.pragma('busy_timeout = 10000');
      const hasTable = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'entries'").get();
      if (hasTable) this.getStmt = this.db.prepare('SELECT value FROM entries WHERE key = ?');
      return;
    }
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS entries (
      key TEXT PRIMARY KEY,
      label TEXT NOT NULL,
      value TEXT NOT NULL,
      created INTEGER NOT NULL
    ) WITHOUT ROWID`);
    this.getStmt = this.db.prepare('SELECT value FROM entries WHERE key = ?');
    this.putStmt = this.db.prepare('INSERT OR REPLACE INTO entries (key, label, value, created) VALUES (?, ?, ?, ?)');
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
    view.getOrCompute = <T>(key: string, label: string, compute: () => Promise<T>): Promise<CacheResult<T>> => {
      onKey(key);
      return base.getOrCompute(key, label, compute);
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
    const row = this.getStmt?.get(key);
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  put(key: string, label: string, value: unknown): void {
    if (this.mode !== 'rw' || !this.putStmt) return;
    this.putStmt.run(key, label, JSON.stringify(value), Date.now());
    this.stats.writes++;
  }

  /** Look `key` up; on a miss run `compute` (once, even if asked concurrently) and store its result. */
  getOrCompute<T>(key: string, label: string, compute: () => Promise<T>): Promise<CacheResult<T>> {
    const running = this.inflight.get(key);
    if (running) return running as Promise<CacheResult<T>>;
    const p = this.lookupOrCompute(key, label, compute).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async lookupOrCompute<T>(key: string, label: string, compute: () => Promise<T>): Promise<CacheResult<T>> {
    if (this.mode !== 'off') {
      const row = this.getStmt?.get(key);
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
      this.putStmt.run(key, label, text, Date.now());
      this.stats.writes++;
    }
    return { value: JSON.parse(text) as T, hit: false };
  }

  close(): void {
    this.db?.close();
  }
}
