/**
 * The knowledge-base file: entities, FTS5 over their text, and vectors keyed by (entity, embedding model).
 * Schema: knowledge/schema.sql. One `KnowledgeStore` wraps one better-sqlite3 connection.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { ensureDir } from '../core/ensure-dir.js';
import { InputError } from '../core/errors.js';
import { dirname, join } from 'node:path';
import { packagePaths } from '../core/paths.js';

export interface Entity {
  id: string;
  label: string;
  description: string;
  text: string;
  source: string;
  categories?: string[];
  broader?: string[];
}

export interface StoredEntity extends Entity {
  rowid: number;
  categories: string[];
  broader: string[];
}

export interface KbStats {
  entities: number;
  /** model → number of embedded entities */
  embedded: Record<string, number>;
  sources: Record<string, number>;
}

/** A matrix of unit vectors (row i belongs to entity `rowids[i]`), stored contiguously. */
export interface VectorMatrix {
  model: string;
  dim: number;
  rowids: Int32Array;
  data: Float32Array;
}

export { entityText, katEntityText } from './entity-text.js';

export function schemaSql(): string {
  return readFileSync(join(packagePaths().knowledge, 'schema.sql'), 'utf8');
}

interface Row {
  rowid: number;
  id: string;
  label: string;
  description: string;
  text: string;
  source: string;
  categories: string;
  broader: string;
}

function fromRow(r: Row): StoredEntity {
  return { ...r, categories: JSON.parse(r.categories) as string[], broader: JSON.parse(r.broader) as string[] };
}

/** Layout version of the KB file written by this code (meta `schema_version`, knowledge/schema.sql). */
export const KB_SCHEMA_VERSION = 2;

export interface OpenOptions {
  readonly?: boolean;
}

export class KnowledgeStore {
  readonly db: Database.Database;
  private readonly insertStmt: Database.Statement | undefined;

  private constructor(
    readonly path: string,
    readonly readonly: boolean,
  ) {
    if (readonly && !existsSync(path)) throw new InputError('knowledge base not found (build one with okvqa kb build)', path);
    if (!readonly && path !== ':memory:') ensureDir(dirname(path), 'knowledge-base folder');
    this.db = new Database(path, { readonly, fileMustExist: readonly });
    try {
      this.checkLayout();
    } catch (err) {
      this.db.close();
      throw err;
    }
    if (!readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(schemaSql());
      this.insertStmt = this.db.prepare(
        `INSERT OR IGNORE INTO entities (id, label, description, text, source, categories, broader)
         VALUES (@id, @label, @description, @text, @source, @categories, @broader)`,
      );
    }
    this.db.pragma('busy_timeout = 10000');
  }

  /** Refuse a file that is not a knowledge base (or not a database), or one written by a newer layout. */
  private checkLayout(): void {
    let tables: Set<string>;
    try {
      tables = new Set(
        (this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name),
      );
    } catch (err) {
      throw new Error(`knowledge base ${this.path} cannot be read: ${(err as Error).message} (rebuild it with okvqa kb build)`);
    }
    if (tables.size === 0 && !this.readonly) return; // a new file
    if (!tables.has('entities') || !tables.has('meta')) {
      throw new Error(`${this.path} is not an okvqa knowledge base (no entities/meta tables): build one with okvqa kb build`);
    }
    const v = Number(this.getMeta('schema_version') ?? 1);
    if (v > KB_SCHEMA_VERSION) {
      throw new Error(
        `knowledge base ${this.path} has layout version ${v}, this okvqa reads up to ${KB_SCHEMA_VERSION}: upgrade okvqa or rebuild the KB`,
      );
    }
  }

  /**
   * What identifies the KB's content in cache keys: `kb:<build id>:<content version>` (the version goes up on every
   * entity or vector insert, update or delete: knowledge/schema.sql). A KB written before these existed (no build id or
   * no version triggers) is identified by a hash of all its entities and vectors instead.
   */
  contentIdentity(): string {
    const build = this.getMeta('build_id');
    const version = this.getMeta('content_version');
    const tracked = this.db
      .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'kb_version_%'")
      .get() as { n: number };
    if (build && version !== undefined && tracked.n >= 6) return `kb:${build}:${version}`;
    return `kb-content:${this.contentHash()}`;
  }

  /** sha256 of every entity (all columns, by rowid) and every vector (by model and entity). Reads the whole file. */
  contentHash(): string {
    const h = createHash('sha256');
    const ents = this.db
      .prepare('SELECT rowid, id, label, description, text, source, categories, broader FROM entities ORDER BY rowid')
      .raw()
      .iterate() as IterableIterator<unknown[]>;
    for (const row of ents) h.update(JSON.stringify(row)).update('\n');
    const vecs = this.db
      .prepare('SELECT model, entity, dim, vector FROM vectors ORDER BY model, entity')
      .raw()
      .iterate() as IterableIterator<[string, number, number, Buffer]>;
    for (const [model, entity, dim, blob] of vecs) h.update(`${model}\0${entity}\0${dim}\0`).update(blob);
    return h.digest('hex').slice(0, 32);
  }

  static open(path: string, opts: OpenOptions = {}): KnowledgeStore {
    return new KnowledgeStore(path, opts.readonly ?? false);
  }

  /** Close; a writable store first folds its WAL back into the file, so the KB is one self-contained file. */
  close(): void {
    if (!this.db.open) return;
    if (!this.readonly && this.path !== ':memory:') {
      try {
        this.db.pragma('journal_mode = DELETE');
      } catch {
        // another connection still reads it: leave WAL mode on
      }
    }
    this.db.close();
  }

  /** Run `fn` in one transaction (builds commit in batches through this). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Insert entities; those whose id exists already are ignored. Returns how many were new. */
  insertEntities(entities: readonly Entity[]): number {
    if (!this.insertStmt) throw new Error('knowledge base opened read-only');
    let added = 0;
    for (const e of entities) {
      const r = this.insertStmt.run({
        id: e.id,
        label: e.label,
        description: e.description,
        text: e.text,
        source: e.source,
        categories: JSON.stringify(e.categories ?? []),
        broader: JSON.stringify(e.broader ?? []),
      });
      added += r.changes;
    }
    return added;
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
  }

  deleteMeta(key: string): void {
    this.db.prepare('DELETE FROM meta WHERE key = ?').run(key);
  }

  get(id: string): StoredEntity | undefined {
    const r = this.db.prepare('SELECT * FROM entities WHERE id = ?').get(id) as Row | undefined;
    return r && fromRow(r);
  }

  /** Entities by rowid, in the order asked (missing rowids are left out). */
  byRowids(rowids: readonly number[]): StoredEntity[] {
    if (rowids.length === 0) return [];
    const stmt = this.db.prepare('SELECT * FROM entities WHERE rowid = ?');
    const out: StoredEntity[] = [];
    for (const id of rowids) {
      const r = stmt.get(id) as Row | undefined;
      if (r) out.push(fromRow(r));
    }
    return out;
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM entities').get() as { n: number }).n;
  }

  stats(): KbStats {
    const embedded: Record<string, number> = {};
    for (const r of this.db.prepare('SELECT model, count(*) AS n FROM vectors GROUP BY model ORDER BY model').all() as {
      model: string;
      n: number;
    }[]) {
      embedded[r.model] = r.n;
    }
    const sources: Record<string, number> = {};
    for (const r of this.db.prepare('SELECT source, count(*) AS n FROM entities GROUP BY source ORDER BY source').all() as {
      source: string;
      n: number;
    }[]) {
      sources[r.source] = r.n;
    }
    return { entities: this.count(), embedded, sources };
  }

  /** Full-text search (the words of `query`, ORed), best BM25 first. */
  textSearch(query: string, k = 10): (StoredEntity & { score: number })[] {
    const rows = this.db
      .prepare(
        `SELECT e.*, bm25(entities_fts) AS rank FROM entities_fts JOIN entities e ON e.rowid = entities_fts.rowid
         WHERE entities_fts MATCH ? ORDER BY rank LIMIT ?`,
      )
      .all(ftsQuery(query), k) as (Row & { rank: number })[];
    return rows.map(({ rank, ...r }) => ({ ...fromRow(r), score: -rank }));
  }

  /** Entities that have no vector for `model` yet, in rowid order, after `afterRowid`. */
  unembedded(model: string, limit: number, afterRowid = 0): { rowid: number; text: string }[] {
    return this.db
      .prepare(
        `SELECT e.rowid AS rowid, e.text AS text FROM entities e
         WHERE e.rowid > ? AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.model = ? AND v.entity = e.rowid)
         ORDER BY e.rowid LIMIT ?`,
      )
      .all(afterRowid, model, limit) as { rowid: number; text: string }[];
  }

  putVectors(model: string, rowids: readonly number[], vectors: readonly ArrayLike<number>[]): void {
    const stmt = this.db.prepare('INSERT OR REPLACE INTO vectors (model, entity, dim, vector) VALUES (?, ?, ?, ?)');
    this.transaction(() => {
      rowids.forEach((rowid, i) => {
        const v = Float32Array.from(vectors[i]!);
        stmt.run(model, rowid, v.length, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      });
    });
  }

  embeddedCount(model: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM vectors WHERE model = ?').get(model) as { n: number }).n;
  }

  /** Models that have vectors. */
  models(): string[] {
    return (this.db.prepare('SELECT DISTINCT model FROM vectors ORDER BY model').all() as { model: string }[]).map(
      (r) => r.model,
    );
  }

  /** All vectors of `model` as one contiguous matrix, rows in entity rowid order. */
  loadMatrix(model: string): VectorMatrix {
    const n = this.embeddedCount(model);
    const first = this.db.prepare('SELECT dim FROM vectors WHERE model = ? LIMIT 1').get(model) as
      | { dim: number }
      | undefined;
    if (!first) {
      const have = this.models();
      throw new Error(
        `knowledge base ${this.path} has no vectors for embedding model "${model}" ` +
          `(${have.length ? `it has vectors for: ${have.join(', ')}` : 'it has no vectors at all'}): ` +
          `run okvqa kb embed --kb ${this.path}${have.length ? ' with that model, or use the model it was embedded with' : ''}`,
      );
    }
    const dim = first.dim;
    const data = new Float32Array(n * dim);
    const rowids = new Int32Array(n);
    let i = 0;
    const it = this.db
      .prepare('SELECT entity, dim, vector FROM vectors WHERE model = ? ORDER BY entity')
      .raw()
      .iterate(model) as IterableIterator<[number, number, Buffer]>;
    for (const [entity, d, blob] of it) {
      if (d !== dim) throw new Error(`vectors of model "${model}" have mixed dimensions (${dim} and ${d})`);
      if (i >= n) break;
      rowids[i] = entity;
      if (blob.byteLength !== dim * 4) throw new Error(`vector of entity ${entity} has ${blob.byteLength} bytes, expected ${dim * 4}`);
      new Uint8Array(data.buffer, data.byteOffset + i * dim * 4, dim * 4).set(blob);
      i++;
    }
    return { model, dim, rowids: rowids.subarray(0, i), data: data.subarray(0, i * dim) };
  }
}

/** Turn free text into an FTS5 query: each word quoted, ORed (ranked by BM25). */
export function ftsQuery(text: string): string {
  const words = text.match(/[\p{L}\p{N}]+/gu) ?? [];
  if (words.length === 0) return '""';
  return words.map((w) => `"${w}"`).join(' OR ');
}
