/** What every vector index shares: hits, the index interface, the approximate kinds, the query-shape check. */
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

export function checkShape(queries: { length: number }, dim: number): number {
  if (queries.length % dim !== 0) throw new Error(`query length ${queries.length} is not a multiple of dim ${dim}`);
  return queries.length / dim;
}
