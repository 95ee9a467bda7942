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
