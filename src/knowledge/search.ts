/**
 * Nearest-neighbour search by inner product over L2-normalised vectors (= cosine similarity) in a contiguous
 * row-major Float32 matrix. Exact and approximate indexes share one interface; results are row numbers of the matrix.
 *
 * - `exact`: brute force. `impl: 'gemm'` is one ONNX Runtime matrix product + TopK per batch (vector/gemm.ts);
 *   `impl: 'simd'` uses usearch's exactSearch (SIMD kernels); `impl: 'js'` is a blocked scan in plain JS (each block of
 *   rows is read once for the whole query batch); `impl: 'auto'` (default) = simd for one query, gemm for a batch.
 * - `ivf`: inverted file — spherical k-means centroids (assignments by the GEMM kernel), vectors regrouped by list
 *   so each probed list is one contiguous scan. This is the shipped approximate default (see eval/bench/knn.js).
 * - `hnsw`: usearch's HNSW graph.
 */
export type { ApproximateKind, Hit, VectorIndex } from './vector/types.js';
export { DEFAULT_APPROXIMATE } from './vector/types.js';
export { exactSearchJs } from './vector/exact-js.js';
export { ExactIndex, type ExactImpl } from './vector/exact.js';
export { trainIvf, type IvfLayout, type IvfOptions } from './vector/kmeans.js';
export { IvfIndex } from './vector/ivf.js';
export { decodeIvfLayout, encodeIvfLayout } from './vector/ivf-format.js';
export { HnswIndex, type HnswOptions } from './vector/hnsw.js';
