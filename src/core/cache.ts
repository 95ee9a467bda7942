import type { CacheMode } from './config.js';
import { isDatabaseUrl, redactUrl, type CacheEntry, type CacheStore } from './cache-store.js';
import { PostgresCacheStore } from './cache-postgres.js';
import { SqliteCacheStore } from './cache-sqlite.js';
import { CacheMissError } from './errors.js';
import { hashValue } from './hash.js';

export { CACHE_FORMAT } from './cache-sqlite.js';
export type { CacheEntry, CacheStore } from './cache-store.js';

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
 * Content-addressed cache of JSON values, in an SQLite file (WAL; the default) or a PostgreSQL database shared by many
 * processes and machines (`new Cache('postgres://…')`); both keep the `CacheStore` contract (src/core/cache-store.ts).
 * Modes: rw (read + write), ro (read, never write), off (neither), replay (read; a miss is an error).
 * Identical keys requested concurrently are computed once, whatever the mode.
 */
export class Cache {
  readonly stats: CacheStats = { hits: 0, misses: 0, writes: 0 };
  /** The file path, or the database URL without its password. */
  readonly path: string;
  private readonly inflight = new Map<string, { promise: Promise<CacheResult<unknown>>; attached: unknown }>();
  private readonly store: CacheStore | undefined;

  /** `location`: an SQLite file (`:memory:` for a private in-memory one), a `postgres://` URL, or a store. */
  constructor(
    location: string | CacheStore,
    readonly mode: CacheMode = 'rw',
  ) {
    if (typeof location !== 'string') this.store = location;
    else if (isDatabaseUrl(location)) this.store = mode === 'off' ? undefined : new PostgresCacheStore(location, mode);
    else this.store = new SqliteCacheStore(location, mode);
    this.path = this.store?.location ?? (typeof location !== 'string' ? '' : isDatabaseUrl(location) ? redactUrl(location) : location);
  }

  /** Key for a description of the work (stage id, version, params, fingerprints, input hashes…). */
  static key(parts: unknown): string {
    return hashValue(parts);
  }

  /** Resolves once the store is reachable and of this okvqa's layout (a remote store connects lazily otherwise). */
  async ready(): Promise<void> {
    if (this.store instanceof PostgresCacheStore) await this.store.ready();
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
    view.lookup = <T>(key: string): Promise<T | undefined> => {
      onKey(key);
      return base.lookup<T>(key);
    };
    view.getOrCompute = <T>(key: string, label: string, compute: () => Promise<T>, attached?: unknown): Promise<CacheResult<T>> => {
      onKey(key);
      return base.getOrCompute(key, label, compute, attached);
    };
    return view;
  }

  /** The stored row of a key as text (the value exactly as written), for export. */
  entry(key: string): Promise<CacheEntry | undefined> {
    return this.store ? this.store.entry(key) : Promise.resolve(undefined);
  }

  /** Store rows as exported by `entry` (import of a replay bundle), in one transaction. Only in rw mode. */
  async putEntries(entries: readonly CacheEntry[]): Promise<void> {
    if (this.mode !== 'rw' || !this.store) throw new Error(`cache ${this.path} is not writable (mode ${this.mode})`);
    await this.store.writeMany(entries);
    this.stats.writes += entries.length;
  }

  /** Synchronous read; only a local (SQLite) cache offers it, use `lookup` for any cache. */
  get<T>(key: string): T | undefined {
    if (!this.store) return undefined;
    if (!this.store.readSync) throw new Error(`cache ${this.path} is remote: read it with lookup(), not get()`);
    const text = this.store.readSync(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  /** Read a value (any cache); `undefined` on a miss or with the cache off. Counts nothing. */
  async lookup<T>(key: string): Promise<T | undefined> {
    if (!this.store) return undefined;
    const text = this.store.readSync ? this.store.readSync(key) : await this.store.read(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  /** Synchronous write (rw mode only, else nothing); only a local (SQLite) cache offers it, use `store` for any cache. */
  put(key: string, label: string, value: unknown): void {
    if (this.mode !== 'rw' || !this.store) return;
    if (!this.store.writeSync) throw new Error(`cache ${this.path} is remote: write it with store(), not put()`);
    this.store.writeSync({ key, label, value: JSON.stringify(value), created: Date.now() });
    this.stats.writes++;
  }

  /** Write a value (any cache; rw mode only, else nothing). */
  async save(key: string, label: string, value: unknown): Promise<void> {
    if (this.mode !== 'rw' || !this.store) return;
    await this.store.write({ key, label, value: JSON.stringify(value), created: Date.now() });
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
    const store = this.store;
    if (this.mode !== 'off' && store) {
      const text = store.readSync ? store.readSync(key) : await store.read(key);
      if (text !== undefined) {
        this.stats.hits++;
        return { value: JSON.parse(text) as T, hit: true };
      }
    }
    if (this.mode === 'replay') throw new CacheMissError(key, label);
    this.stats.misses++;
    // A miss returns exactly what a later hit will: the value as stored (plain JSON), so cold and warm runs agree.
    const text = JSON.stringify(await compute());
    if (text === undefined) throw new Error(`${label}: produced no JSON-serialisable value`);
    if (this.mode === 'rw' && store) {
      const e = { key, label, value: text, created: Date.now() };
      if (store.writeSync) store.writeSync(e);
      else await store.write(e);
      this.stats.writes++;
    }
    return { value: JSON.parse(text) as T, hit: false };
  }

  async close(): Promise<void> {
    await this.store?.close();
  }
}
