/** Exact search in plain JS: a blocked scan, each block of rows read once for the whole query batch. */
import { TopK } from './top-k.js';
import { checkShape, type Hit } from './types.js';

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
