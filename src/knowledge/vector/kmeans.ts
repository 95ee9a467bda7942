/** Spherical k-means for IVF: centroids trained on a sample (assignments by the GEMM kernel), every row bucketed. */
import { mulberry32 } from '../../core/random.js';
import { GemmSearcher } from './gemm.js';

export function normalizeRows(m: Float32Array, dim: number): void {
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
export async function assign(data: Float32Array, dim: number, centroids: Float32Array, threads: number): Promise<Int32Array> {
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
