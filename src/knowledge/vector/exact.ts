/**
 * Exact (brute-force) search behind the VectorIndex interface: `gemm` (ONNX Runtime matrix product, batches), `simd`
 * (usearch's SIMD kernels, single queries), `js` (plain JS), `auto` = simd for one query, gemm for a batch.
 */
import { exactSearchJs } from './exact-js.js';
import { simdSearch } from './exact-simd.js';
import { GemmSearcher } from './gemm.js';
import { checkShape, type Hit, type VectorIndex } from './types.js';

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

  /**
   * Search without the event loop: `js` scans in JS, `simd` and `auto` use the SIMD kernel. `gemm` is an ONNX Runtime
   * session, which only runs asynchronously: it is refused here (use `search`) rather than silently replaced.
   */
  searchSync(queries: Float32Array, k: number): Hit[][] {
    if (this.impl === 'gemm') throw new Error('exact-gemm runs on ONNX Runtime, which is asynchronous: use search(), not searchSync()');
    return this.scan(queries, k);
  }

  private scan(queries: Float32Array, k: number): Hit[][] {
    if (this.impl === 'js') return exactSearchJs(this.data, this.dim, queries, k);
    const nq = checkShape(queries, this.dim);
    return simdSearch(this.data, this.dim, queries, k, nq === 1 ? 1 : this.threads);
  }

  async search(queries: Float32Array, k: number): Promise<Hit[][]> {
    const nq = checkShape(queries, this.dim);
    const useGemm = this.impl === 'gemm' || (this.impl === 'auto' && nq > 1);
    if (this.size === 0 || k <= 0) return Array.from({ length: nq }, () => []);
    if (!useGemm) return this.scan(queries, k);
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
