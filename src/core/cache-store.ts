/**
 * The contract every cache backend keeps (SQLite file, PostgreSQL database): a content-addressed table of
 * `(key, label, value, created)` rows whose `value` is the JSON text exactly as written. The `Cache` class on top holds
 * what is the same for every backend: modes, in-flight sharing, statistics, recording views.
 *
 * - A value is written whole or not at all: a reader never sees part of one.
 * - Writing a key that exists replaces its row (same key = same content, so concurrent writers agree).
 * - A read-only store never creates or writes anything.
 * - The stored layout is versioned; a store of another version is refused with what to do, never read or overwritten.
 */
export interface CacheEntry {
  key: string;
  label: string;
  value: string;
  created: number;
}

export interface CacheStore {
  /** Where the entries live: a file path, or a database URL without its password. */
  readonly location: string;
  /** Read a value's text. */
  read(key: string): Promise<string | undefined>;
  /** Synchronous read, offered by local stores (SQLite) so hot paths skip a promise; remote stores leave it out. */
  readSync?(key: string): string | undefined;
  /** The stored row of a key (export). */
  entry(key: string): Promise<CacheEntry | undefined>;
  write(entry: CacheEntry): Promise<void>;
  writeSync?(entry: CacheEntry): void;
  /** Write many rows in one transaction (import of a replay bundle): all of them or none. */
  writeMany(entries: readonly CacheEntry[]): Promise<void>;
  close(): Promise<void>;
}

/** True for cache locations that name a PostgreSQL database rather than an SQLite file. */
export function isDatabaseUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** A database URL with its password masked, fit for messages, manifests and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:\/\/([^:/@]+):[^@]*@/, '://$1:***@');
  }
}
