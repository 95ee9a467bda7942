import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packagePaths } from '../../src/core/paths.js';
import { KnowledgeBase } from '../../src/knowledge/kb.js';
import { knnModelBytes } from '../../src/knowledge/vector/gemm.js';
import {
  decodeIvfLayout,
  encodeIvfLayout,
  ExactIndex,
  exactSearchJs,
  HnswIndex,
  IvfIndex,
} from '../../src/knowledge/search.js';
import { mulberry32 as rng } from '../../src/core/random.js';
import { buildWikidata } from '../../src/knowledge/wikidata.js';

const dir = mkdtempSync(join(tmpdir(), 'okvqa-search-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

// Five hand-made unit vectors in 4-d.
const ROWS = [
  unit([1, 0, 0, 0]),
  unit([0, 1, 0, 0]),
  unit([0, 0, 1, 0]),
  unit([1, 1, 0, 0]),
  unit([0, 0, 1, 1]),
];
const matrix = Float32Array.from(ROWS.flat());

/** Clustered random data: `c` centres, `per` points each, with small noise. */
function clustered(c: number, per: number, dim: number, seed = 3) {
  const rand = rng(seed);
  const centres = Array.from({ length: c }, () => unit(Array.from({ length: dim }, () => rand() - 0.5)));
  const data = new Float32Array(c * per * dim);
  for (let i = 0; i < c * per; i++) {
    const v = unit(centres[i % c]!.map((x) => x + 0.05 * (rand() - 0.5)));
    data.set(v, i * dim);
  }
  return data;
}

describe('vector search', () => {
  it('exact search (JS, SIMD, GEMM) returns the expected rows and cosine scores on hand-made vectors', async () => {
    const q = Float32Array.from([...unit([1, 0.2, 0, 0]), ...unit([0, 0, 0.9, 1])]);
    for (const hits of [
      exactSearchJs(matrix, 4, q, 2),
      await new ExactIndex(matrix, 4, 'simd').search(q, 2),
      await new ExactIndex(matrix, 4, 'gemm').search(q, 2),
      await new ExactIndex(matrix, 4, 'auto').search(q, 2),
    ]) {
      expect(hits.map((h) => h.map((x) => x.row))).toEqual([
        [0, 3],
        [4, 2],
      ]);
      expect(hits[0]![0]!.score).toBeCloseTo(1 / Math.hypot(1, 0.2), 5);
    }
  });

  it('queries may be views into a larger buffer (usearch ignores byteOffset: guarded)', async () => {
    const big = Float32Array.from([...unit([0, 1, 0, 0]), ...unit([0, 0, 1, 0.1])]);
    const view = big.subarray(4, 8);
    expect((await new ExactIndex(matrix, 4, 'simd').search(view, 1))[0]![0]!.row).toBe(2);
    expect((await new ExactIndex(matrix.subarray(4), 4, 'simd').search(view, 1))[0]![0]!.row).toBe(1); // rows 1..4
  });

  it('k larger than the collection returns everything, best first', async () => {
    const hits = (await new ExactIndex(matrix, 4).search(Float32Array.from(ROWS[1]!), 50))[0]!;
    expect(hits.map((h) => h.row)).toHaveLength(5);
    expect(hits[0]!.row).toBe(1);
    expect(hits[1]!.row).toBe(3);
  });

  it('IVF probing every list equals exact search; with few probes it keeps high recall on clustered data', async () => {
    const dim = 16;
    const data = clustered(40, 25, dim);
    const queries = clustered(40, 1, dim, 9);
    const exactIndex = new ExactIndex(data, dim);
    const exact = await exactIndex.search(queries, 5);
    // GEMM (batched) and SIMD (one query at a time) exact search agree.
    const one = await exactIndex.search(queries.slice(0, dim), 5);
    expect(one[0]!.map((h) => h.row)).toEqual(exact[0]!.map((h) => h.row));
    expect(one[0]![0]!.score).toBeCloseTo(exact[0]![0]!.score, 5);
    await exactIndex.dispose();
    const ivf = await IvfIndex.build(data, dim, { nlist: 32, nprobe: 32, seed: 2, storage: 'flat' });
    expect(ivf.layout.offsets.at(-1)).toBe(1000);
    expect(new Set(ivf.layout.perm).size).toBe(1000);
    expect((await ivf.search(queries, 5)).map((h) => h.map((x) => x.row))).toEqual(exact.map((h) => h.map((x) => x.row)));
    ivf.nprobe = 4;
    const approx = await ivf.search(queries, 5);
    let hit = 0;
    approx.forEach((h, q) => {
      const want = new Set(exact[q]!.map((x) => x.row));
      hit += h.filter((x) => want.has(x.row)).length;
    });
    expect(hit / (5 * 40)).toBeGreaterThan(0.9);
    // The stored layout reproduces the same index.
    const again = new IvfIndex(data, decodeIvfLayout(encodeIvfLayout(ivf.layout)), { nprobe: 4, storage: 'flat' });
    expect(await again.search(queries, 5)).toEqual(approx);
  });

  it('the Gemm → TopK ONNX graph is a valid ONNX model (opset 13) written without a model file', () => {
    const b = Buffer.from(knnModelBytes());
    expect(b.length).toBe(254);
    for (const s of ['Gemm', 'transB', 'TopK', 'largest', 'indices']) expect(b.includes(s)).toBe(true);
  });

  it('HNSW finds the hand-made nearest neighbours', async () => {
    const h = HnswIndex.build(matrix, 4);
    expect((await h.search(Float32Array.from(unit([0.1, 1, 0, 0])), 2))[0]!.map((x) => x.row)).toEqual([1, 3]);
    const path = join(dir, 'h.usearch');
    h.save(path);
    expect((await HnswIndex.load(path, 4).search(Float32Array.from(ROWS[4]!), 1))[0]![0]!.row).toBe(4);
  });

  it('knowledge base: vectors keyed by (entity, model); exact and approximate search return the expected entities', async () => {
    const path = join(dir, 'kb.sqlite');
    await buildWikidata({
      dump: join(packagePaths().root, 'test', 'fixtures', 'wikidata', 'sample-entities.json'),
      out: path,
      categories: 'all',
    });
    const kb = KnowledgeBase.open(path);
    const dog = kb.store.get('Q144')!;
    const beer = kb.store.get('Q44')!;
    const wine = kb.store.get('Q282')!;
    const rest = kb.store.db.prepare("SELECT rowid FROM entities WHERE id NOT IN ('Q144','Q44','Q282')").all() as {
      rowid: number;
    }[];
    const rand = rng(5);
    kb.store.putVectors('m', [dog.rowid, beer.rowid, wine.rowid], [unit([1, 0, 0, 0, 0, 0]), unit([0, 1, 0.3, 0, 0, 0]), unit([0, 1, 0.5, 0, 0, 0])]);
    kb.store.putVectors(
      'm',
      rest.map((r) => r.rowid),
      rest.map(() => unit([0, 0, 0, rand(), rand(), rand()])),
    );
    kb.store.putVectors('other', [dog.rowid], [[0, 1]]);
    expect(kb.store.stats().embedded).toEqual({ m: 49, other: 1 });
    for (const mode of ['exact', 'approximate'] as const) {
      const [a, b] = await kb.searchVectors([unit([1, 0.05, 0, 0, 0, 0]), unit([0, 1, 0.35, 0, 0, 0])], { model: 'm', k: 2, mode });
      expect(a![0]!.entity.id).toBe('Q144');
      expect(b!.map((h) => h.entity.id)).toEqual(['Q44', 'Q282']);
    }
    // The approximate index was stored and is reused by a fresh handle.
    const stored = kb.store.db.prepare('SELECT model, kind, vectors FROM indexes').all();
    expect(stored).toEqual([{ model: 'm', kind: 'ivf', vectors: 49 }]);
    await kb.close();
    const ro = KnowledgeBase.open(path, { readonly: true });
    expect((await ro.searchVectors([unit([1, 0, 0, 0, 0, 0])], { model: 'm', k: 1, mode: 'approximate' }))[0]![0]!.entity.id).toBe('Q144');
    await expect(ro.searchVectors([[1, 0, 0]], { model: 'm', k: 1 })).rejects.toThrow(/dimension 3/);
    await expect(ro.searchVectors([[1, 0]], { model: 'nope', k: 1 })).rejects.toThrow(/no vectors for embedding model "nope"/);
    await ro.close();
  });
});
