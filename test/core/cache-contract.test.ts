/**
 * The cache contract, one suite run against both stores: the SQLite file and a PostgreSQL database (a real throwaway
 * server, test/helpers/postgres.ts). Same keys, same bytes, same modes, concurrent writers, whole values only, versioned
 * layout, export/import between the two.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cache } from '../../src/core/cache.js';
import { CacheMissError } from '../../src/core/errors.js';
import { havePostgres, startPostgres, type TestPostgres } from '../helpers/postgres.js';

const tmp = mkdtempSync(join(tmpdir(), 'okvqa-cache-contract-'));
let server: TestPostgres | undefined;
let n = 0;
const withPg = havePostgres();

beforeAll(async () => {
  if (withPg) server = await startPostgres();
}, 60_000);
afterAll(() => {
  server?.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

interface Backend {
  name: string;
  /** A fresh, empty cache location. */
  fresh(): Promise<string>;
  /** Mark the store as written by a future okvqa (layout version 99). */
  bumpLayout(location: string): Promise<void>;
}

const sqlite: Backend = {
  name: 'sqlite',
  fresh: async () => join(tmp, `c${++n}.sqlite`),
  bumpLayout: async (path) => {
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
  },
};
const postgres: Backend = {
  name: 'postgres',
  fresh: async () => server!.createDatabase(`c${++n}`),
  bumpLayout: async (url) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('UPDATE okvqa_cache_meta SET format = 99');
    await c.end();
  },
};

describe.each(withPg ? [sqlite, postgres] : [sqlite])('cache contract: $name', (b) => {
  it('a miss computes and stores the value as JSON text; a hit returns it without computing', async () => {
    const loc = await b.fresh();
    const c = new Cache(loc, 'rw');
    const value = { answer: 'dog', score: 0.5, list: [1, 2, 3], unicode: 'naïve — ✓' };
    let runs = 0;
    const r1 = await c.getOrCompute('k1', 'label one', async () => (runs++, value));
    expect(r1).toEqual({ value, hit: false });
    const r2 = await c.getOrCompute('k1', 'label one', async () => (runs++, { other: true }));
    expect(r2).toEqual({ value, hit: true });
    expect(runs).toBe(1);
    expect(await c.lookup('k1')).toEqual(value);
    expect(await c.lookup('nope')).toBeUndefined();
    const e = await c.entry('k1');
    expect(e).toMatchObject({ key: 'k1', label: 'label one', value: JSON.stringify(value) });
    expect(typeof e!.created).toBe('number');
    expect(c.stats).toEqual({ hits: 1, misses: 1, writes: 1 });
    await c.close();
  });

  it('modes: ro reads but never writes, off never reads, replay fails on a miss', async () => {
    const loc = await b.fresh();
    const rw = new Cache(loc, 'rw');
    await rw.getOrCompute('a', 'l', async () => 1);
    await rw.close();
    const ro = new Cache(loc, 'ro');
    expect((await ro.getOrCompute('a', 'l', async () => 2)).value).toBe(1);
    expect((await ro.getOrCompute('b', 'l', async () => 3)).value).toBe(3);
    await ro.save('c', 'l', 4);
    expect(await ro.lookup('b')).toBeUndefined();
    expect(await ro.lookup('c')).toBeUndefined();
    await expect(ro.putEntries([{ key: 'd', label: 'l', value: '5', created: 0 }])).rejects.toThrow(/not writable/);
    await ro.close();
    const off = new Cache(loc, 'off');
    expect((await off.getOrCompute('a', 'l', async () => 9)).value).toBe(9);
    expect(await off.lookup('a')).toBeUndefined();
    await off.close();
    const replay = new Cache(loc, 'replay');
    expect((await replay.getOrCompute('a', 'l', async () => 2)).value).toBe(1);
    await expect(replay.getOrCompute('zz', 'the label', async () => 2)).rejects.toBeInstanceOf(CacheMissError);
    await replay.close();
  });

  it('a read-only cache of an empty location is empty and creates nothing; replay of it is refused', async () => {
    const loc = await b.fresh();
    const ro = new Cache(loc, 'ro');
    expect((await ro.getOrCompute('a', 'l', async () => 7)).value).toBe(7);
    await ro.close();
    const replay = () => new Cache(loc, 'replay');
    if (b.name === 'sqlite') expect(replay).toThrow(/no cache file/);
    else {
      const r = replay();
      await expect(r.lookup('a')).rejects.toThrow(/holds no okvqa cache/);
      await r.close();
    }
  });

  it('identical work in flight is computed once; concurrent writers of one key (two processes\' caches) both succeed', async () => {
    const loc = await b.fresh();
    const c1 = new Cache(loc, 'rw');
    const c2 = new Cache(loc, 'rw');
    let runs = 0;
    const slow = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 20));
      return { v: 'same' };
    };
    const rs = await Promise.all([
      ...Array.from({ length: 5 }, () => c1.getOrCompute('k', 'l', slow)),
      ...Array.from({ length: 5 }, () => c2.getOrCompute('k', 'l', slow)),
    ]);
    expect(runs).toBeLessThanOrEqual(2); // at most once per cache object: in-flight sharing is per process
    for (const r of rs) expect(r.value).toEqual({ v: 'same' });
    expect(rs.filter((r) => r.shared)).toHaveLength(8);
    expect((await c1.entry('k'))!.value).toBe('{"v":"same"}');
    // Racing writes of one key from both: every write succeeds and the row holds the value whole.
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? c1 : c2).save('race', 'l', { v: 'same' })));
    expect((await c2.entry('race'))!.value).toBe('{"v":"same"}');
    await Promise.all([c1.close(), c2.close()]);
  });

  it('a reader never sees part of a value being written', async () => {
    const loc = await b.fresh();
    const writer = new Cache(loc, 'rw');
    await writer.ready();
    const reader = new Cache(loc, 'ro');
    const big = Array.from({ length: 60_000 }, (_, i) => `passage ${i}`);
    const text = JSON.stringify(big);
    let writing = true;
    const seen: number[] = [];
    const reads = (async () => {
      while (writing) {
        const e = await reader.entry('big');
        if (e) seen.push(e.value === text ? 1 : 0);
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 5; i++) await writer.save('big', 'l', big);
    writing = false;
    await reads;
    expect((await reader.entry('big'))!.value).toBe(text);
    expect(seen.every((s) => s === 1)).toBe(true);
    await Promise.all([writer.close(), reader.close()]);
  });

  it('a store of another layout version is refused with what to do', async () => {
    const loc = await b.fresh();
    const c = new Cache(loc, 'rw');
    await c.getOrCompute('a', 'l', async () => 1);
    await c.close();
    await b.bumpLayout(loc);
    const open = async () => {
      const again = new Cache(loc, 'rw');
      try {
        await again.lookup('a');
      } finally {
        await again.close();
      }
    };
    await expect(open()).rejects.toThrow(/layout version 99, this okvqa reads version 1 .*(delete it|drop the tables)/);
  });

  it('export/import: rows round-trip byte for byte, in both directions between SQLite and this store', async () => {
    const src = new Cache(join(tmp, `src${++n}.sqlite`), 'rw');
    await src.getOrCompute('x', 'node x', async () => ({ a: [1.5, 2], b: 'é' }));
    await src.getOrCompute('y', 'llm y', async () => 'text');
    const rows = [(await src.entry('x'))!, (await src.entry('y'))!];
    const dst = new Cache(await b.fresh(), 'rw');
    await dst.putEntries(rows);
    expect(await dst.entry('x')).toEqual(rows[0]);
    expect(await dst.entry('y')).toEqual(rows[1]);
    const back = new Cache(join(tmp, `back${++n}.sqlite`), 'rw');
    await back.putEntries([(await dst.entry('x'))!]);
    expect(await back.entry('x')).toEqual(rows[0]);
    await Promise.all([src.close(), dst.close(), back.close()]);
  });
});
