/**
 * A knowledge base opened for retrieval: the store plus, per embedding model, the vectors as one contiguous matrix and
 * an exact or approximate index over them. Open one per run through `ctx.resources` (see `openKnowledgeBase`).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { RunContext } from '../core/context.js';
import {
  DEFAULT_APPROXIMATE,
  ExactIndex,
  HnswIndex,
  IvfIndex,
  decodeIvfLayout,
  encodeIvfLayout,
  trainIvf,
  type ApproximateKind,
  type VectorIndex,
} from './search.js';
import { KnowledgeStore, type StoredEntity, type VectorMatrix } from './store.js';

export type SearchMode = 'auto' | 'exact' | 'approximate';

/** Up to this many vectors, `auto` searches exactly (a SIMD scan is then about as fast as an index). */
export const EXACT_UP_TO = 20_000;

export interface EntityHit {
  entity: StoredEntity;
  score: number;
}

export interface VectorSearchOptions {
  model: string;
  k: number;
  mode?: SearchMode;
  /** Approximate index kind (default: the shipped default, IVF). */
  kind?: ApproximateKind;
  /** IVF lists probed per query. */
  nprobe?: number;
}

interface Loaded {
  matrix: VectorMatrix;
  /** The matrix data was dropped after an IVF index copied it (reloaded if exact search is asked for). */
  released?: boolean;
  exact?: VectorIndex;
  /** Approximate indexes by kind, memoized as promises so concurrent searches build one. */
  approx: Map<string, Promise<VectorIndex>>;
}

export class KnowledgeBase {
  private readonly loaded = new Map<string, Loaded>();

  constructor(
    readonly store: KnowledgeStore,
    /** Where warnings go (a damaged stored index that gets rebuilt). */
    private readonly log: (msg: string) => void = (msg) => process.stderr.write(`warning: ${msg}\n`),
  ) {}

  static open(path: string, opts: { readonly?: boolean; warn?: (msg: string) => void } = {}): KnowledgeBase {
    return new KnowledgeBase(KnowledgeStore.open(path, opts), opts.warn);
  }

  /** Release index sessions and close the file. */
  async close(): Promise<void> {
    const all = [...this.loaded.values()];
    this.loaded.clear();
    try {
      for (const l of all) {
        await l.exact?.dispose?.();
        for (const a of l.approx.values()) await (await a.catch(() => undefined))?.dispose?.();
      }
    } finally {
      this.store.close();
    }
  }

  private matrix(model: string): Loaded {
    let l = this.loaded.get(model);
    if (!l) {
      l = { matrix: this.store.loadMatrix(model), approx: new Map() };
      this.loaded.set(model, l);
    }
    return l;
  }

  /** The index `search` would use (the approximate one is loaded from the KB, or built and stored, once). */
  index(model: string, mode: SearchMode = 'auto', kind: ApproximateKind = DEFAULT_APPROXIMATE): Promise<VectorIndex> {
    const l = this.matrix(model);
    const n = l.matrix.rowids.length;
    if (mode === 'exact' || (mode === 'auto' && n <= EXACT_UP_TO)) {
      if (l.released) {
        l.matrix = this.store.loadMatrix(model);
        l.released = false;
      }
      return Promise.resolve((l.exact ??= new ExactIndex(l.matrix.data, l.matrix.dim)));
    }
    let idx = l.approx.get(kind);
    if (!idx) {
      if (l.released) {
        l.matrix = this.store.loadMatrix(model);
        l.released = false;
      }
      idx = this.approximate(l.matrix, kind).then((built) => {
        if (!l.exact && !l.released) {
          // The index holds its own copy of the vectors (regrouped by list / in the graph): keep one copy in memory.
          l.matrix = { ...l.matrix, data: new Float32Array(0) };
          l.released = true;
        }
        return built;
      });
      idx.catch(() => l.approx.delete(kind));
      l.approx.set(kind, idx);
    }
    return idx;
  }

  /**
   * Load the stored approximate index, or build it (and store it when the file is writable). A stored IVF index is bound
   * to the exact vectors it was built from (sha256 of their entity rowids and bytes, kept in its params): any other
   * vectors, even as many, rebuild it; so does a blob that does not decode (truncated or damaged), with a warning.
   */
  private async approximate(m: VectorMatrix, kind: ApproximateKind): Promise<VectorIndex> {
    const n = m.rowids.length;
    if (kind === 'hnsw') return HnswIndex.build(m.data, m.dim);
    const vectors = matrixSha256(m);
    const row = this.store.db
      .prepare('SELECT vectors, params, data FROM indexes WHERE model = ? AND kind = ?')
      .get(m.model, kind) as { vectors: number; params: string; data: Buffer } | undefined;
    if (row && row.vectors === n && storedVectorsHash(row.params) === vectors) {
      try {
        return new IvfIndex(m.data, decodeIvfLayout(row.data, `the ${kind} index of "${m.model}" in ${this.store.path}`));
      } catch (err) {
        this.log(`${(err as Error).message}; rebuilding it`);
      }
    }
    const layout = await trainIvf(m.data, m.dim);
    if (!this.store.readonly) {
      this.store.db
        .prepare('INSERT OR REPLACE INTO indexes (model, kind, vectors, params, data) VALUES (?, ?, ?, ?, ?)')
        .run(m.model, kind, n, JSON.stringify({ nlist: layout.nlist, vectorsSha256: vectors }), encodeIvfLayout(layout));
    }
    return new IvfIndex(m.data, layout);
  }

  /** Build (or rebuild) and store the approximate index of a model. */
  async buildIndex(model: string, kind: ApproximateKind = DEFAULT_APPROXIMATE): Promise<VectorIndex> {
    this.store.db.prepare('DELETE FROM indexes WHERE model = ? AND kind = ?').run(model, kind);
    const l = this.matrix(model);
    const old = l.approx.get(kind);
    l.approx.delete(kind);
    await (await old?.catch(() => undefined))?.dispose?.();
    return this.index(model, 'approximate', kind);
  }

  /** Top-k entities per query vector (unit vectors of the model's dimension). */
  async searchVectors(queries: readonly ArrayLike<number>[], opts: VectorSearchOptions): Promise<EntityHit[][]> {
    if (queries.length === 0) return [];
    const idx = await this.index(opts.model, opts.mode ?? 'auto', opts.kind ?? DEFAULT_APPROXIMATE);
    if (opts.nprobe !== undefined && idx instanceof IvfIndex) idx.nprobe = opts.nprobe;
    const dim = idx.dim;
    const q = new Float32Array(queries.length * dim);
    queries.forEach((v, i) => {
      if (v.length !== dim) throw new Error(`query ${i} has dimension ${v.length}, the vectors of "${opts.model}" have ${dim}`);
      q.set(v, i * dim);
    });
    const { rowids } = this.matrix(opts.model).matrix;
    return (await idx.search(q, opts.k)).map((hits) => {
      const ents = this.store.byRowids(hits.map((h) => rowids[h.row]!));
      const byRowid = new Map(ents.map((e) => [e.rowid, e]));
      return hits.flatMap((h) => {
        const entity = byRowid.get(rowids[h.row]!);
        return entity ? [{ entity, score: h.score }] : [];
      });
    });
  }
}

/** sha256 of a matrix's entity rowids and vector bytes: the exact vectors an index was built from. */
export function matrixSha256(m: VectorMatrix): string {
  const h = createHash('sha256');
  h.update(`${m.model}\0${m.dim}\0`);
  h.update(new Uint8Array(m.rowids.buffer, m.rowids.byteOffset, m.rowids.byteLength));
  h.update(new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength));
  return h.digest('hex');
}

function storedVectorsHash(params: string): string | undefined {
  try {
    const p = JSON.parse(params) as { vectorsSha256?: unknown };
    return typeof p.vectorsSha256 === 'string' ? p.vectorsSha256 : undefined;
  } catch {
    return undefined;
  }
}

/** The run-scoped KB handle for `path` (opened read-only once per run, closed with the run). */
export function openKnowledgeBase(ctx: Pick<RunContext, 'resources' | 'log'>, path: string): Promise<KnowledgeBase> {
  const abs = resolve(path);
  return ctx.resources.get(
    `knowledge-base:${abs}`,
    () => KnowledgeBase.open(abs, { readonly: true, warn: (msg) => ctx.log.warn(msg) }),
    (kb) => kb.close(),
  );
}

/** KB path of a run: `config.knowledge.kb`, else data.json `knowledge`. */
export function kbPathOf(ctx: Pick<RunContext, 'config' | 'data'>): string {
  const p = ctx.config.knowledge.kb ?? ctx.data.knowledge;
  if (!p) {
    throw new Error('no knowledge base: set knowledge.kb (--set knowledge.kb=path/kb.sqlite) or "knowledge" in data.json');
  }
  return p;
}
