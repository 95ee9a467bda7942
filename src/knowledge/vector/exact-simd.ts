/** Exact search with usearch's SIMD kernels (exactSearch), the fastest single-query scan here. */
import { usearch } from '../../runtime/lazy.js';
import { checkShape, type Hit } from './types.js';

/**
 * A typed array that starts at the beginning of its own buffer: usearch's exactSearch reads `buffer` from byte 0 and
 * ignores a view's byteOffset (usearch 2.25), so views into a larger matrix must be copied first.
 */
export function ownBuffer<T extends Float32Array | Int8Array>(a: T): T {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : (a.slice() as T);
}

/**
 * usearch exact (SIMD) search; `threads` 0 = all cores. Results as hits with row = offset + key and score = the inner
 * product (float32, or the integer dot product when data and queries are int8).
 */
export function simdSearch(
  data: Float32Array | Int8Array,
  dim: number,
  queries: Float32Array | Int8Array,
  k: number,
  threads: number,
  offset = 0,
): Hit[][] {
  const nq = checkShape(queries, dim);
  const n = data.length / dim;
  const kk = Math.min(k, n);
  if (kk <= 0) return Array.from({ length: nq }, () => []);
  const u = usearch();
  const res = u.exactSearch(ownBuffer(data), ownBuffer(queries), dim, kk, u.MetricKind.IP, threads) as unknown as {
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
