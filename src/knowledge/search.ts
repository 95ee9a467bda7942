/**
 * Nearest-neighbour search by inner product over L2-normalised vectors (= cosine similarity) in a contiguous
 * row-major Float32 matrix. Exact and approximate indexes share one interface; results are row numbers of the matrix.
 *
 * - `exact`: brute force. `impl: 'gemm'` is one ONNX Runtime matrix product + TopK per batch (gemm.ts);
 *   `impl: 'simd'` uses usearch's exactSearch (SIMD kernels); `impl: 'js'` is a blocked scan in plain JS (each block of
 *   rows is read once for the whole query batch); `impl: 'auto'` (default) = simd for one query, gemm for a batch.
 * - `ivf`: inverted file — spherical k-means centroids (assignments by the GEMM kernel), vectors regrouped by list
 *   so each probed list is one contiguous scan. This is the shipped approximate default (see eval/bench/knn.js).
 * - `hnsw`: usearch's HNSW graph.
 */
import usearch from 'usearch';
import { mulberry32 } from '../core/random.js';
import { GemmSearcher } from './gemm.js';

export interface Hit {
  /** Row of the matrix. */
  row: number;
  /** Inner product with the query. */
  score: number;
}

export interface VectorIndex {
  readonly kind: string;
  readonly size: number;
  readonly dim: number;
  /** `queries` holds nq = queries.length / dim row-major vectors; returns the top k per query, best first. */
  search(queries: Float32Array, k: number): Promise<Hit[][]>;
  /** Release native resources (sessions). */
  dispose?(): Promise<void>;
}

export type ApproximateKind = 'ivf' | 'hnsw';
export const DEFAULT_APPROXIMATE: ApproximateKind = 'ivf';

function checkShape(queries: Float32Array, dim: number): number {
  if (queries.length % dim !== 0) throw new Error(`query length ${queries.length} is not a multiple of dim ${dim}`);
  return queries.length / dim;
}

/** Keep the k best (score, row) pairs seen: arrays sorted best first. */
class TopK {
  readonly scores: Float32Array;
  readonly rows: Int32Array;
  n = 0;
  constructor(readonly k: number) {
    this.scores = new Float32Array(k);
    this.rows = new Int32Array(k);
  }
  get threshold(): number {
    return this.n < this.k ? -Infinity : this.scores[this.k - 1]!;
  }
  push(score: number, row: number): void {
    if (this.n === this.k && score <= this.scores[this.k - 1]!) return;
    let i = this.n < this.k ? this.n++ : this.k - 1;
    while (i > 0 && this.scores[i - 1]! < score) {
      this.scores[i] = this.scores[i - 1]!;
      this.rows[i] = this.rows[i - 1]!;
      i--;
    }
    this.scores[i] = score;
    this.rows[i] = row;
  }
  hits(): Hit[] {
    const out: Hit[] = [];
    for (let i = 0; i < this.n; i++) out.push({ row: this.rows[i]!, score: this.scores[i]! });
    return out;
  }
}

/** Plain-JS blocked brute force: for each block of rows, every query of the batch is scored against it. */
export function exactSearchJs(data: Float32Array, dim: number, queries: Float32Array, k: number): Hit[][] {
  const nq = checkShape(queries, dim);
  const n = data.length / dim;
  const tops = Array.from({ length: nq }, () => new TopK(Math.min(k, n)));
  if (n === 0 || k <= 0) return tops.map(() => []);
  const BLOCK = 256;
  const unroll = dim % 4 === 0;
  for (let r0 = 0; r0 < n; r0 += BLOCK) {
    const r1 = Math.min(n, r0 + BLOCK);
    for (let q = 0; q < nq; q++) {
      const qo = q * dim;
      const top = tops[q]!;
      for (let r = r0; r < r1; r++) {
        const o = r * dim;
        let s = 0;
        if (unroll) {
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          for (let j = 0; j < dim; j += 4) {
            s0 += data[o + j]! * queries[qo + j]!;
            s1 += data[o + j + 1]! * queries[qo + j + 1]!;
            s2 += data[o + j + 2]! * queries[qo + j + 2]!;
            s3 += data[o + j + 3]! * queries[qo + j + 3]!;
          }
          s = s0 + s1 + s2 + s3;
        } else {
          for (let j = 0; j < dim; j++) s += data[o + j]! * queries[qo + j]!;
        }
        top.push(s, r);
      }
    }
  }
  return tops.map((t) => t.hits());
}

/**
 * A typed array that starts at the beginning of its own buffer: usearch's exactSearch reads `buffer` from byte 0 and
 * ignores a view's byteOffset (usearch 2.25), so views into a larger matrix must be copied first.
 */
function ownBuffer(a: Float32Array): Float32Array {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice();
}

/** usearch exact (SIMD) search; `threads` 0 = all cores. Results as hits with row = offset + key. */
function simdSearch(
  data: Float32Array,
  dim: number,
  queries: Float32Array,
  k: number,
  threads: number,
  offset = 0,
): Hit[][] {
  const nq = checkShape(queries, dim);
  const n = data.length / dim;
  const kk = Math.min(k, n);
  if (kk <= 0) return Array.from({ length: nq }, () => []);
  const res = usearch.exactSearch(ownBuffer(data), ownBuffer(queries), dim, kk, usearch.MetricKind.IP, threads) as unknown as {
    keys: BigUint64Array;
    distances: Float32Array;
    counts?: BigUint64Array;
  };
  const out: Hit[][] = [];
  for (let q = 0; q < nq; q++) {
    const count = res.counts ? Number(res.counts[q]) : Math.min(kk, res.keys.length);
    const hits: Hit[] = [];
    for (let i = 0; i < count; i++) {
      const j = q * kk + i;
      // usearch's "ip" distance is 1 - <a, b>.
      hits.push({ row: offset + Number(res.keys[j]!), score: 1 - res.distances[j]! });
    }
    out.push(hits);
  }
  return out;
}

export type ExactImpl = 'auto' | 'gemm' | 'simd' | 'js';

export class ExactIndex implements VectorIndex {
  readonly kind: string;
  readonly size: number;
  private gemm: Promise<GemmSearcher> | undefined;
  constructor(
    readonly data: Float32Array,
    readonly dim: number,
    readonly impl: ExactImpl = 'auto',
    readonly threads = 0,
  ) {
    this.kind = `exact-${impl}`;
    this.size = data.length / dim;
  }

  /** simd / js search without the event loop (one query, or when no ONNX Runtime session is wanted). */
  searchSync(queries: Float32Array, k: number): Hit[][] {
    if (this.impl === 'js') return exactSearchJs(this.data, this.dim, queries, k);
    const nq = checkShape(queries, this.dim);
    return simdSearch(this.data, this.dim, queries, k, nq === 1 ? 1 : this.threads);
  }

  async search(queries: Float32Array, k: number): Promise<Hit[][]> {
    const nq = checkShape(queries, this.dim);
    const useGemm = this.impl === 'gemm' || (this.impl === 'auto' && nq > 1);
    if (!useGemm || this.size === 0 || k <= 0) return this.searchSync(queries, k);
    this.gemm ??= GemmSearcher.create(this.data, this.dim, this.threads || undefined);
    const { values, indices, kk } = await (await this.gemm).search(queries, k);
    const out: Hit[][] = [];
    for (let q = 0; q < nq; q++) {
      const hits: Hit[] = [];
      for (let i = 0; i < kk; i++) hits.push({ row: Number(indices[q * kk + i]!), score: values[q * kk + i]! });
      out.push(hits);
    }
    return out;
  }

  async dispose(): Promise<void> {
    const g = this.gemm;
    this.gemm = undefined;
    if (g) await (await g).release();
  }
}


function normalizeRows(m: Float32Array, dim: number): void {
  for (let o = 0; o < m.length; o += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += m[o + j]! * m[o + j]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) m[o + j]! *= inv;
  }
}

export interface IvfOptions {
  /** Number of lists (default ≈ 4·√n). */
  nlist?: number;
  /** Lists probed per query (default 16). */
  nprobe?: number;
  /** k-means iterations (default 8). */
  iterations?: number;
  /** Training sample size as a multiple of nlist (default 32). */
  samplePerList?: number;
  seed?: number;
  /** Threads for training and batched search (0 = all cores). */
  threads?: number;
}

/** The persistent part of an IVF index: centroids, list boundaries and the row order. */
export interface IvfLayout {
  dim: number;
  nlist: number;
  centroids: Float32Array;
  /** lists[i] spans sorted rows offsets[i] .. offsets[i+1]. */
  offsets: Int32Array;
  /** perm[j] = original row of the j-th vector in list order. */
  perm: Int32Array;
}

/**
 * Assign each row of `data` to its nearest centroid: chunks of rows against all centroids as one ONNX Runtime
 * matrix product + TopK(1) (gemm.ts), the fastest exact kernel here for many-against-many.
 */
async function assign(data: Float32Array, dim: number, centroids: Float32Array, threads: number): Promise<Int32Array> {
  const n = data.length / dim;
  const out = new Int32Array(n);
  const gemm = await GemmSearcher.create(centroids, dim, threads || undefined);
  try {
    const CHUNK = 8192;
    for (let r0 = 0; r0 < n; r0 += CHUNK) {
      const r1 = Math.min(n, r0 + CHUNK);
      const { indices, kk } = await gemm.search(data.subarray(r0 * dim, r1 * dim), 1);
      for (let i = 0; i < r1 - r0; i++) out[r0 + i] = Number(indices[i * kk]!);
    }
  } finally {
    await gemm.release();
  }
  return out;
}

/** Train spherical k-means on a sample and bucket every row. */
export async function trainIvf(data: Float32Array, dim: number, opts: IvfOptions = {}): Promise<IvfLayout> {
  const n = data.length / dim;
  const nlist = Math.max(1, Math.min(n, opts.nlist ?? Math.round(4 * Math.sqrt(n))));
  const threads = opts.threads ?? 0;
  const rand = mulberry32(opts.seed ?? 1);
  const sampleN = Math.min(n, nlist * (opts.samplePerList ?? 32));
  // Sample rows (partial Fisher-Yates over an index array).
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = 0; i < sampleN; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  const sample = new Float32Array(sampleN * dim);
  for (let i = 0; i < sampleN; i++) sample.set(data.subarray(idx[i]! * dim, (idx[i]! + 1) * dim), i * dim);
  const centroids = sample.slice(0, nlist * dim);
  const iterations = opts.iterations ?? 8;
  for (let it = 0; it < iterations; it++) {
    const a = await assign(sample, dim, centroids, threads);
    const sums = new Float64Array(nlist * dim);
    const counts = new Int32Array(nlist);
    for (let i = 0; i < sampleN; i++) {
      const c = a[i]!;
      counts[c]!++;
      const so = c * dim;
      const vo = i * dim;
      for (let j = 0; j < dim; j++) sums[so + j]! += sample[vo + j]!;
    }
    for (let c = 0; c < nlist; c++) {
      if (counts[c] === 0) {
        // Empty list: restart it at a random sample point.
        const r = Math.floor(rand() * sampleN);
        centroids.set(sample.subarray(r * dim, (r + 1) * dim), c * dim);
      } else {
        for (let j = 0; j < dim; j++) centroids[c * dim + j] = sums[c * dim + j]!;
      }
    }
    normalizeRows(centroids, dim);
  }
  const a = await assign(data, dim, centroids, threads);
  const offsets = new Int32Array(nlist + 1);
  for (let i = 0; i < n; i++) offsets[a[i]! + 1]!++;
  for (let c = 0; c < nlist; c++) offsets[c + 1]! += offsets[c]!;
  const fill = offsets.slice(0, nlist);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[fill[a[i]!]!++] = i;
  return { dim, nlist, centroids, offsets, perm };
}

export class IvfIndex implements VectorIndex {
  readonly kind = 'ivf';
  readonly size: number;
  readonly dim: number;
  /** The vectors of each list, each in its own buffer (see ownBuffer). */
  readonly lists: Float32Array[];
  nprobe: number;
  threads: number;

  constructor(
    data: Float32Array,
    readonly layout: IvfLayout,
    opts: { nprobe?: number; threads?: number } = {},
  ) {
    this.dim = layout.dim;
    this.size = data.length / this.dim;
    if (layout.perm.length !== this.size) {
      throw new Error(`IVF layout covers ${layout.perm.length} vectors, matrix has ${this.size}`);
    }
    const d = this.dim;
    this.lists = [];
    for (let c = 0; c < layout.nlist; c++) {
      const a = layout.offsets[c]!;
      const b = layout.offsets[c + 1]!;
      const list = new Float32Array((b - a) * d);
      for (let j = a; j < b; j++) {
        const r = layout.perm[j]!;
        list.set(data.subarray(r * d, (r + 1) * d), (j - a) * d);
      }
      this.lists.push(list);
    }
    this.nprobe = opts.nprobe ?? 16;
    this.threads = opts.threads ?? 0;
  }

  /** Memory held by the index (regrouped vectors, centroids, row order). */
  get bytes(): number {
    let b = this.layout.centroids.byteLength + this.layout.perm.byteLength + this.layout.offsets.byteLength;
    for (const l of this.lists) b += l.byteLength;
    return b;
  }

  static async build(data: Float32Array, dim: number, opts: IvfOptions = {}): Promise<IvfIndex> {
    return new IvfIndex(data, await trainIvf(data, dim, opts), opts);
  }

  async search(queries: Float32Array, k: number): Promise<Hit[][]> {
    return this.searchSync(queries, k);
  }

  searchSync(queries: Float32Array, k: number): Hit[][] {
    const nq = checkShape(queries, this.dim);
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
}

/** Serialise an IVF layout: a small JSON header line, then the raw arrays. */
export function encodeIvfLayout(l: IvfLayout): Buffer {
  const header = Buffer.from(
    JSON.stringify({ format: 'okvqa-ivf-1', dim: l.dim, nlist: l.nlist, n: l.perm.length }) + '\n',
  );
  const parts = [l.centroids, l.offsets, l.perm].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  return Buffer.concat([header, ...parts]);
}

/** Decode a stored IVF layout; a blob that is truncated, padded or not an IVF index is an error naming `what`. */
export function decodeIvfLayout(buf: Buffer, what = 'IVF index'): IvfLayout {
  const nl = buf.indexOf(10);
  let h: { format: string; dim: number; nlist: number; n: number };
  try {
    if (nl < 0) throw new Error('no header line');
    h = JSON.parse(buf.subarray(0, nl).toString('utf8')) as typeof h;
  } catch (err) {
    throw new Error(`${what} is damaged: unreadable header (${(err as Error).message})`);
  }
  if (h.format !== 'okvqa-ivf-1') throw new Error(`${what} is not an okvqa IVF index (${h.format})`);
  const sizes = [h.nlist * h.dim * 4, (h.nlist + 1) * 4, h.n * 4];
  const expected = nl + 1 + sizes.reduce((a, b) => a + b, 0);
  if (![h.dim, h.nlist, h.n].every((x) => Number.isInteger(x) && x >= 0) || buf.length !== expected) {
    throw new Error(`${what} is truncated or damaged: ${buf.length} bytes, expected ${expected}`);
  }
  let o = nl + 1;
  const take = <T>(ctor: { new (b: ArrayBuffer): T }, bytes: number): T => {
    const copy = new Uint8Array(bytes);
    copy.set(buf.subarray(o, o + bytes));
    o += bytes;
    return new ctor(copy.buffer);
  };
  const centroids = take(Float32Array, sizes[0]!);
  const offsets = take(Int32Array, sizes[1]!);
  const perm = take(Int32Array, sizes[2]!);
  if (offsets[0] !== 0 || offsets[h.nlist] !== h.n) throw new Error(`${what} is damaged: list offsets do not cover ${h.n} vectors`);
  return { dim: h.dim, nlist: h.nlist, centroids, offsets, perm };
}

export interface HnswOptions {
  connectivity?: number;
  expansionAdd?: number;
  expansionSearch?: number;
  threads?: number;
}

/** usearch HNSW over the rows (keys = row numbers). */
export class HnswIndex implements VectorIndex {
  readonly kind = 'hnsw';
  readonly size: number;
  private constructor(
    readonly index: InstanceType<typeof usearch.Index>,
    readonly dim: number,
    readonly threads: number,
  ) {
    this.size = index.size();
  }

  static build(data: Float32Array, dim: number, opts: HnswOptions = {}): HnswIndex {
    const index = HnswIndex.empty(dim, opts);
    const n = data.length / dim;
    const keys = new BigUint64Array(n);
    for (let i = 0; i < n; i++) keys[i] = BigInt(i);
    if (n > 0) index.add(keys, data, opts.threads ?? 0);
    return new HnswIndex(index, dim, opts.threads ?? 0);
  }

  static load(path: string, dim: number, opts: HnswOptions = {}): HnswIndex {
    const index = HnswIndex.empty(dim, opts);
    index.load(path);
    return new HnswIndex(index, dim, opts.threads ?? 0);
  }

  private static empty(dim: number, opts: HnswOptions) {
    return new usearch.Index({
      dimensions: dim,
      metric: usearch.MetricKind.IP,
      quantization: usearch.ScalarKind.F32,
      connectivity: opts.connectivity ?? 16,
      expansion_add: opts.expansionAdd ?? 64,
      expansion_search: opts.expansionSearch ?? 64,
      multi: false,
    });
  }

  save(path: string): void {
    this.index.save(path);
  }

  async search(queries: Float32Array, k: number): Promise<Hit[][]> {
    return this.searchSync(queries, k);
  }

  searchSync(queries: Float32Array, k: number): Hit[][] {
    const nq = checkShape(queries, this.dim);
    const kk = Math.min(k, this.size);
    if (kk <= 0) return Array.from({ length: nq }, () => []);
    const res = this.index.search(queries, kk, nq === 1 ? 1 : this.threads) as unknown as {
      keys: BigUint64Array;
      distances: Float32Array;
      counts?: BigUint64Array;
    };
    const out: Hit[][] = [];
    for (let q = 0; q < nq; q++) {
      const count = res.counts ? Number(res.counts[q]) : res.keys.length;
      const hits: Hit[] = [];
      for (let i = 0; i < count; i++) {
        const j = (res.counts ? q * kk : 0) + i;
        hits.push({ row: Number(res.keys[j]!), score: 1 - res.distances[j]! });
      }
      out.push(hits);
    }
    return out;
  }
}
