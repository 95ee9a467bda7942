import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/core/random.js';
import { exactSearchJs } from '../../src/knowledge/vector/exact-js.js';
import { ExactIndex } from '../../src/knowledge/vector/exact.js';
import { HnswIndex } from '../../src/knowledge/vector/hnsw.js';
import { IvfIndex } from '../../src/knowledge/vector/ivf.js';
import { TopK } from '../../src/knowledge/vector/top-k.js';
import type { VectorIndex } from '../../src/knowledge/vector/types.js';

function unitRows(n: number, dim: number, seed = 7): Float32Array {
  const rand = mulberry32(seed);
  const m = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += (m[i * dim + j] = rand() - 0.5) ** 2;
    for (let j = 0; j < dim; j++) m[i * dim + j]! /= Math.sqrt(s);
  }
  return m;
}

const dim = 8;
const data = unitRows(300, dim);
const queries = unitRows(3, dim, 11);

describe('TopK', () => {
  it('k ≤ 0 keeps nothing (no RangeError)', () => {
    for (const k of [0, -1, -5, Number.NaN]) {
      const t = new TopK(k);
      t.push(1, 3);
      t.push(2, 4);
      expect(t.hits()).toEqual([]);
    }
  });

  it('keeps the k best, best first', () => {
    const t = new TopK(2);
    [0.1, 0.9, 0.5, 0.7].forEach((s, i) => t.push(s, i));
    expect(t.hits().map((h) => h.row)).toEqual([1, 3]);
  });
});

describe('every index: k ≤ 0 gives one empty result per query', () => {
  it.each([0, -3])('k = %d', async (k) => {
    const ivf = await IvfIndex.build(data, dim, { nlist: 8, nprobe: 3 });
    const indexes: VectorIndex[] = [
      new ExactIndex(data, dim, 'js'),
      new ExactIndex(data, dim, 'simd'),
      new ExactIndex(data, dim, 'gemm'),
      new ExactIndex(data, dim, 'auto'),
      ivf,
      HnswIndex.build(data, dim),
    ];
    for (const index of indexes) {
      expect(await index.search(queries, k), index.kind).toEqual([[], [], []]);
      await index.dispose?.();
    }
    expect(exactSearchJs(data, dim, queries, k)).toEqual([[], [], []]);
  });
});

describe('ExactIndex.searchSync', () => {
  it('uses the chosen kernel: js and simd agree with search(); gemm (asynchronous) is refused, not replaced', async () => {
    const want = exactSearchJs(data, dim, queries, 5).map((h) => h.map((x) => x.row));
    for (const impl of ['js', 'simd', 'auto'] as const) {
      const index = new ExactIndex(data, dim, impl);
      expect(index.searchSync(queries, 5).map((h) => h.map((x) => x.row))).toEqual(want);
    }
    const gemm = new ExactIndex(data, dim, 'gemm');
    expect(() => gemm.searchSync(queries, 5)).toThrow(/asynchronous: use search\(\)/);
    expect((await gemm.search(queries, 5)).map((h) => h.map((x) => x.row))).toEqual(want);
    await gemm.dispose();
  });
});

describe('IVF with int8 residual lists (sq8, the default storage)', () => {
  /** Clustered unit vectors: `c` centres, `per` points each. */
  function clustered(c: number, per: number, d: number, seed: number, noise: number): Float32Array {
    const rand = mulberry32(seed);
    const centres = unitRows(c, d, seed + 1);
    const m = new Float32Array(c * per * d);
    for (let i = 0; i < c * per; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (m[i * d + j] = centres[(i % c) * d + j]! + noise * (rand() - 0.5)) ** 2;
      for (let j = 0; j < d; j++) m[i * d + j]! /= Math.sqrt(s);
    }
    return m;
  }
  const d = 32;
  const points = clustered(30, 40, d, 5, 0.3);
  const qs = clustered(30, 1, d, 6, 0.4);
  const recallOf = (got: { row: number }[][], want: { row: number }[][]) =>
    got.reduce((n, h, q) => n + h.filter((x) => want[q]!.some((w) => w.row === x.row)).length, 0) / (want.length * 10);

  it('is the default, a quarter of the flat lists in memory, and keeps recall@10 high when probing every list', async () => {
    const truth = exactSearchJs(points, d, qs, 10);
    const sq8 = await IvfIndex.build(points, d, { nlist: 12, nprobe: 12, seed: 1 });
    const flat = new IvfIndex(points, sq8.layout, { nprobe: 12, storage: 'flat' });
    expect(sq8.storage).toBe('sq8');
    const listBytes = (i: IvfIndex) => i.bytes - i.layout.centroids.byteLength - i.layout.perm.byteLength - i.layout.offsets.byteLength;
    expect(listBytes(sq8)).toBeLessThan(0.3 * listBytes(flat));
    expect(recallOf(await sq8.search(qs, 10), truth)).toBeGreaterThanOrEqual(0.95);
    expect(recallOf(await flat.search(qs, 10), truth)).toBe(1);
    const hit = (await sq8.search(qs, 10))[0]![0]!;
    const exactScore = truth[0]!.find((h) => h.row === hit.row)?.score ?? truth[0]![0]!.score;
    expect(Math.abs(hit.score - exactScore)).toBeLessThan(0.02);
  });

  it('re-ranking the best candidates with float16 vectors gives the exact order', async () => {
    const truth = exactSearchJs(points, d, qs, 10);
    const ivf = await IvfIndex.build(points, d, { nlist: 12, nprobe: 12, seed: 1, rerank: 60 });
    const got = await ivf.search(qs, 10);
    expect(recallOf(got, truth)).toBe(1);
    got.forEach((h, q) => h.forEach((x, i) => expect(x.score).toBeCloseTo(truth[q]![i]!.score, 2)));
  });
});
