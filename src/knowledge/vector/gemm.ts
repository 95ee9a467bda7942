/**
 * Exact batched kNN as one matrix product: a two-node ONNX graph — Gemm(queries, matrixᵀ) → TopK — run by ONNX Runtime
 * (MLAS SGEMM, multi-threaded, AVX2/AVX-512). For a batch of queries this is several times faster than a per-query
 * SIMD scan, because each row of the matrix is read once for the whole batch (see eval/bench/knn.js).
 *
 * The graph is tiny and fixed, so it is written here directly in ONNX's protobuf encoding (no model file):
 *   inputs  q: float[b, d], m: float[n, d], k: int64[1]
 *   nodes   s = Gemm(q, m, transB=1);  values, indices = TopK(s, k, axis=-1, largest=1, sorted=1)
 *   outputs values: float[b, kk], indices: int64[b, kk]
 */
import { availableParallelism } from 'node:os';
import type * as Ort from 'onnxruntime-node';
import { ort } from '../../runtime/lazy.js';

// --- minimal protobuf writer -------------------------------------------------------------------------------------

function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
}

type Field = number[];
const tag = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, v: number | bigint): Field => [...tag(field, 0), ...varint(v)];
const bytes = (field: number, b: number[]): Field => [...tag(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string): Field => bytes(field, [...Buffer.from(s, 'utf8')]);
const msg = (field: number, ...parts: Field[]): Field => bytes(field, parts.flat());

// ONNX field numbers (onnx.proto3).
const FLOAT = 1;
const INT64 = 7;
const ATTR_INT = 2;

function attrInt(name: string, v: number): Field {
  return msg(5, str(1, name), int(3, v), int(20, ATTR_INT));
}

function node(inputs: string[], outputs: string[], op: string, attrs: Field[]): Field {
  return msg(1, ...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(4, op), ...attrs);
}

function valueInfo(field: number, name: string, elemType: number, dims: (string | number)[]): Field {
  const shape = dims.map((d) => msg(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  return msg(field, str(1, name), msg(2, msg(1, int(1, elemType), msg(2, ...shape))));
}

/** The ONNX model bytes of the Gemm → TopK graph. */
export function knnModelBytes(): Uint8Array {
  const graph = msg(
    7,
    node(['q', 'm'], ['s'], 'Gemm', [attrInt('transB', 1)]),
    node(['s', 'k'], ['values', 'indices'], 'TopK', [attrInt('axis', -1), attrInt('largest', 1), attrInt('sorted', 1)]),
    str(2, 'knn'),
    valueInfo(11, 'q', FLOAT, ['b', 'd']),
    valueInfo(11, 'm', FLOAT, ['n', 'd']),
    valueInfo(11, 'k', INT64, [1]),
    valueInfo(12, 'values', FLOAT, ['b', 'kk']),
    valueInfo(12, 'indices', INT64, ['b', 'kk']),
  );
  return Uint8Array.from([...int(1, 7), ...graph, ...msg(8, str(1, ''), int(2, 13))]);
}

// --- search ------------------------------------------------------------------------------------------------------

export interface GemmHits {
  /** nq × kk scores, row-major. */
  values: Float32Array;
  /** nq × kk row numbers. */
  indices: BigInt64Array;
  kk: number;
}

/** One ONNX Runtime session over a fixed matrix; `search` is exact. */
export class GemmSearcher {
  private readonly matrix: Ort.Tensor;

  private constructor(
    private readonly session: Ort.InferenceSession,
    data: Float32Array,
    readonly dim: number,
  ) {
    this.matrix = new (ort().Tensor)('float32', data, [data.length / dim, dim]);
  }

  static async create(data: Float32Array, dim: number, threads = availableParallelism()): Promise<GemmSearcher> {
    const session = await ort().InferenceSession.create(knnModelBytes(), {
      intraOpNumThreads: Math.max(1, threads),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new GemmSearcher(session, data, dim);
  }

  async search(queries: Float32Array, k: number): Promise<GemmHits> {
    const nq = queries.length / this.dim;
    const n = this.matrix.dims[0]!;
    const kk = Math.min(k, n);
    const out = await this.session.run({
      q: new (ort().Tensor)('float32', queries, [nq, this.dim]),
      m: this.matrix,
      k: new (ort().Tensor)('int64', BigInt64Array.from([BigInt(kk)]), [1]),
    });
    return { values: out.values!.data as Float32Array, indices: out.indices!.data as BigInt64Array, kk };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
