/** usearch's HNSW graph behind the VectorIndex interface (measured, not the default: see eval/bench/knn.js). */
import { usearch, type Usearch } from '../../runtime/lazy.js';
import { checkShape, type Hit, type VectorIndex } from './types.js';

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
    readonly index: InstanceType<Usearch['Index']>,
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
    const u = usearch();
    return new u.Index({
      dimensions: dim,
      metric: u.MetricKind.IP,
      quantization: u.ScalarKind.F32,
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
