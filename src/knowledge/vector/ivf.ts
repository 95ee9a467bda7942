/** IVF (inverted file) index: k-means lists, vectors regrouped by list so each probed list is one contiguous scan. */
import { simdSearch } from './exact-simd.js';
import { trainIvf, type IvfLayout, type IvfOptions } from './kmeans.js';
import { TopK } from './top-k.js';
import { checkShape, type Hit, type VectorIndex } from './types.js';

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
