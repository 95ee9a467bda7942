import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/core/random.js';
import { exactSearchJs } from '../../src/knowledge/vector/exact-js.js';
import { ExactIndex } from '../../src/knowledge/vector/exact.js';
import { HnswIndex } from '../../src/knowledge/vector/hnsw.js';
import { IvfIndex } from '../../src/knowledge/vector/ivf.js';
import { TopK } from '../../src/knowledge/vector/top-k.js';

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
    const indexes = [
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
