/**
 * IVF (inverted file) index: k-means lists, vectors regrouped by list so each probed list is one contiguous scan.
 *
 * Storage `sq8` (default): each list holds int8 codes of the residuals to its centroid (sq8.ts), a quarter of the bytes
 * of float32; the centroids are searched in int8 too, then q·c is computed exactly for the probed lists. With
 * `rerank: R`, the index also keeps the vectors as float16 and re-scores the best R approximate candidates with them.
 * Storage `flat` keeps float32 lists (the previous default; measured side by side in eval/bench/knn.js).
 */
import { simdSearch } from './exact-simd.js';
import { trainIvf, type IvfLayout, type IvfOptions } from './kmeans.js';
import { halfTable, quantizeInto, queryScale, residualScale, toHalf } from './sq8.js';
import { TopK } from './top-k.js';
import { checkShape, type Hit, type VectorIndex } from './types.js';

export type IvfStorage = 'sq8' | 'flat';

export interface IvfIndexOptions {
  /** Lists probed per query (default 16). */
  nprobe?: number;
  /** Threads for batched centroid search (0 = all cores). */
  threads?: number;
  /** List storage (default `sq8`). */
  storage?: IvfStorage;
  /** sq8 only: keep float16 vectors and re-score this many best candidates with them (default 0: no copy kept). */
  rerank?: number;
}

export const DEFAULT_IVF_STORAGE: IvfStorage = 'sq8';

interface Sq8Lists {
  /** int8 codes of each list's residuals, each list in its own buffer (usearch ignores a view's byteOffset). */
  codes: Int8Array[];
  /** Global residual scale: code = round(residual · scale). */
  scale: number;
  /** The centroids as int8 (for the probe search) and their scale. */
  centroids8: Int8Array;
  centroidScale: number;
  /** float16 vectors in list order (re-rank), or undefined. */
  half?: Uint16Array;
}

export class IvfIndex implements VectorIndex {
  readonly kind = 'ivf';
  readonly size: number;
  readonly dim: number;
  readonly storage: IvfStorage;
  readonly rerank: number;
  /** `flat`: the float32 vectors of each list, each in its own buffer (see ownBuffer). Empty for sq8. */
  readonly lists: Float32Array[] = [];
  private readonly sq8: Sq8Lists | undefined;
  private halves: Float32Array | undefined;
  nprobe: number;
  threads: number;

  constructor(
    data: Float32Array,
    readonly layout: IvfLayout,
    opts: IvfIndexOptions = {},
  ) {
    this.dim = layout.dim;
    this.size = data.length / this.dim;
    if (layout.perm.length !== this.size) {
      throw new Error(`IVF layout covers ${layout.perm.length} vectors, matrix has ${this.size}`);
    }
    this.storage = opts.storage ?? DEFAULT_IVF_STORAGE;
    this.rerank = this.storage === 'sq8' ? Math.max(0, opts.rerank ?? 0) : 0;
    this.nprobe = opts.nprobe ?? 16;
    this.threads = opts.threads ?? 0;
    if (this.storage === 'flat') this.lists = flatLists(data, layout);
    else this.sq8 = sq8Lists(data, layout, this.rerank > 0);
  }

  /** Memory held by the index (lists, centroids, row order; the float16 copy when re-ranking). */
  get bytes(): number {
    let b = this.layout.centroids.byteLength + this.layout.perm.byteLength + this.layout.offsets.byteLength;
    for (const l of this.lists) b += l.byteLength;
    if (this.sq8) {
      for (const c of this.sq8.codes) b += c.byteLength;
      b += this.sq8.centroids8.byteLength + (this.sq8.half?.byteLength ?? 0);
    }
    return b;
  }

  static async build(data: Float32Array, dim: number, opts: IvfOptions & IvfIndexOptions = {}): Promise<IvfIndex> {
    return new IvfIndex(data, await trainIvf(data, dim, opts), opts);
  }

  async search(queries: Float32Array, k: number): Promise<Hit[][]> {
    return this.searchSync(queries, k);
  }

  searchSync(queries: Float32Array, k: number): Hit[][] {
    const nq = checkShape(queries, this.dim);
    if (this.sq8) {
      const out: Hit[][] = [];
      for (let q = 0; q < nq; q++) out.push(this.searchSq8(queries.subarray(q * this.dim, (q + 1) * this.dim), k, this.sq8));
      return out;
    }
    const { nlist, centroids, offsets, perm } = this.layout;
    const d = this.dim;
    const probe = Math.min(this.nprobe, nlist);
    const lists = simdSearch(centroids, d, queries, probe, nq === 1 ? 1 : this.threads);
    const out: Hit[][] = [];
    for (let q = 0; q < nq; q++) {
      const query = queries.slice(q * d, (q + 1) * d);
      const top = new TopK(Math.min(k, this.size));
      for (const { row: list } of lists[q]!) {
        const a = offsets[list]!;
        if (offsets[list + 1]! <= a) continue;
        for (const h of simdSearch(this.lists[list]!, d, query, k, 1, a)[0]!) {
          top.push(h.score, perm[h.row]!);
        }
      }
      out.push(top.hits());
    }
    return out;
  }

  private searchSq8(query: Float32Array, k: number, s: Sq8Lists): Hit[] {
    const { nlist, centroids, offsets, perm } = this.layout;
    const d = this.dim;
    if (k <= 0 || this.size === 0) return [];
    const qs = queryScale(query);
    const q8 = new Int8Array(d);
    quantizeInto(query, qs, q8);
    const probe = Math.min(this.nprobe, nlist);
    const probed = simdSearch(s.centroids8, d, q8, probe, 1)[0]!;
    const keep = Math.max(k, this.rerank);
    const top = new TopK(Math.min(keep, this.size));
    const inv = 1 / (qs * s.scale);
    for (const { row: list } of probed) {
      const a = offsets[list]!;
      const n = offsets[list + 1]! - a;
      if (n <= 0) continue;
      // q·c exactly, then the residual part q₈·r₈ from the int8 kernel.
      let qc = 0;
      const co = list * d;
      for (let j = 0; j < d; j++) qc += query[j]! * centroids[co + j]!;
      const hits = simdSearch(s.codes[list]!, d, q8, Math.min(keep, n), 1)[0]!;
      for (const h of hits) top.push(qc + h.score * inv, a + h.row);
    }
    if (!s.half) {
      const out = top.hits();
      return out.slice(0, k).map((h) => ({ row: perm[h.row]!, score: h.score }));
    }
    // Exact re-rank of the best candidates with the float16 vectors.
    const table = (this.halves ??= halfTable());
    const best = new TopK(Math.min(k, this.size));
    for (const h of top.hits()) {
      const o = h.row * d;
      let s0 = 0;
      let s1 = 0;
      for (let j = 0; j < d; j += 2) {
        s0 += query[j]! * table[s.half[o + j]!]!;
        s1 += query[j + 1]! * table[s.half[o + j + 1]!]!;
      }
      best.push(s0 + s1, h.row);
    }
    return best.hits().map((h) => ({ row: perm[h.row]!, score: h.score }));
  }
}

function flatLists(data: Float32Array, layout: IvfLayout): Float32Array[] {
  const d = layout.dim;
  const lists: Float32Array[] = [];
  for (let c = 0; c < layout.nlist; c++) {
    const a = layout.offsets[c]!;
    const b = layout.offsets[c + 1]!;
    const list = new Float32Array((b - a) * d);
    for (let j = a; j < b; j++) {
      const r = layout.perm[j]!;
      list.set(data.subarray(r * d, (r + 1) * d), (j - a) * d);
    }
    lists.push(list);
  }
  return lists;
}

function sq8Lists(data: Float32Array, layout: IvfLayout, keepHalf: boolean): Sq8Lists {
  const { dim: d, nlist, offsets, perm, centroids } = layout;
  const n = perm.length;
  // The residual scale from a sample of residual components.
  const sample = new Float32Array(Math.min(n, 2000) * d);
  const stride = Math.max(1, Math.floor(n / Math.max(1, sample.length / d)));
  let si = 0;
  for (let c = 0; c < nlist && si < sample.length; c++) {
    for (let j = offsets[c]!; j < offsets[c + 1]! && si < sample.length; j += stride) {
      const r = perm[j]!;
      for (let t = 0; t < d; t++) sample[si++] = Math.abs(data[r * d + t]! - centroids[c * d + t]!);
    }
  }
  const scale = residualScale(sample.subarray(0, si));
  const residual = new Float32Array(d);
  const codes: Int8Array[] = [];
  const half = keepHalf ? new Uint16Array(n * d) : undefined;
  for (let c = 0; c < nlist; c++) {
    const a = offsets[c]!;
    const b = offsets[c + 1]!;
    const list = new Int8Array((b - a) * d);
    for (let j = a; j < b; j++) {
      const r = perm[j]!;
      for (let t = 0; t < d; t++) {
        const x = data[r * d + t]!;
        residual[t] = x - centroids[c * d + t]!;
        if (half) half[j * d + t] = toHalf(x);
      }
      quantizeInto(residual, scale, list, (j - a) * d);
    }
    codes.push(list);
  }
  const centroidScale = queryScale(centroids);
  const centroids8 = new Int8Array(centroids.length);
  quantizeInto(centroids, centroidScale, centroids8);
  return { codes, scale, centroids8, centroidScale, ...(half ? { half } : {}) };
}
