#!/usr/bin/env node
/**
 * kNN benchmark at KAT's scale: n unit vectors (default 423,520 x 512 float32) and 200 queries, on two seeded synthetic
 * sets — `clustered` (a mixture of a few thousand tight clusters on the sphere, like entity-description embeddings;
 * queries are noisier draws around the same centres) and `uniform` (random directions, the worst case).
 *
 * For each index: build time, ms/query single and batched by 32, recall@10 against exact search, memory, size on disk.
 * Indexes: exact-simd (usearch exactSearch), exact-gemm (ONNX Runtime Gemm → TopK), exact-js (plain JS blocked scan, timed on a few queries), ivf (the shipped
 * approximate default), hnsw (usearch HNSW), sqlite-vec (vec0 virtual table: brute force inside SQLite, timed on 20
 * queries; not in the default list).
 *
 *   npm run build && node eval/bench/knn.js --n 423520 --dim 512 --queries 200 --json
 *   options: --sets clustered,uniform  --indexes exact-simd,exact-js,ivf,hnsw  --clusters 3000  --seed 7
 *            --nprobe 16 --nlist N --sweep (also ivf at nprobe 4,8,32,64) --rerank R (ivf-rerank's candidates)
 *            --compare faiss: writes the clustered vectors and queries to a file once and runs faiss IndexFlatIP,
 *            IndexIVFFlat and IndexIVFScalarQuantizer (QT_8bit) with the same nlist/nprobe on them through
 *            /usr/bin/python3 (Debian python3-faiss; eval/bench/knn_faiss.py), printed beside ours
 *   IVF variants share one trained layout: `ivf` (the default storage, int8 residual lists), `ivf-flat` (float32 lists,
 *   the previous default), `ivf-rerank` (int8 lists + float16 vectors, best R candidates re-scored).
 *   default indexes: exact-simd,exact-gemm,ivf,ivf-flat,ivf-rerank (a few minutes); the full comparison adds
 *   exact-js,hnsw,sqlite-vec (HNSW's build at this scale takes many minutes on 2 cores).
 * The last stdout line (with --json) is JSON: {"ms_per_query", "recall_at_10", …} for the default on `clustered`,
 * plus every measurement under "results".
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import {
  DEFAULT_APPROXIMATE,
  ExactIndex,
  HnswIndex,
  IvfIndex,
  encodeIvfLayout,
  trainIvf,
} from '../../dist/knowledge/search.js';
import { DEFAULT_IVF_STORAGE } from '../../dist/knowledge/vector/ivf.js';
import { mulberry32 as rng } from '../../dist/core/random.js';

const { values: opt } = parseArgs({
  options: {
    n: { type: 'string', default: '423520' },
    dim: { type: 'string', default: '512' },
    queries: { type: 'string', default: '200' },
    k: { type: 'string', default: '10' },
    batch: { type: 'string', default: '32' },
    clusters: { type: 'string', default: '3000' },
    seed: { type: 'string', default: '7' },
    sets: { type: 'string', default: 'clustered,uniform' },
    indexes: { type: 'string', default: 'exact-simd,exact-gemm,ivf,ivf-flat,ivf-rerank' },
    rerank: { type: 'string', default: '100' },
    compare: { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    nprobe: { type: 'string' },
    nlist: { type: 'string' },
    sweep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

const N = Number(opt.n);
const D = Number(opt.dim);
const NQ = Number(opt.queries);
const K = Number(opt.k);
const B = Number(opt.batch);
const log = (msg) => process.stderr.write(`[knn] ${msg}\n`);
const mb = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;

function gaussian(rand) {
  let u = 0;
  while (u === 0) u = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function normalize(m, dim) {
  for (let o = 0; o < m.length; o += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += m[o + j] * m[o + j];
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < dim; j++) m[o + j] *= inv;
  }
}

/** Random unit directions. */
function uniformSet(n, dim, rand) {
  const m = new Float32Array(n * dim);
  for (let i = 0; i < m.length; i++) m[i] = gaussian(rand);
  normalize(m, dim);
  return m;
}

/**
 * A mixture of `c` clusters: centres uniform on the sphere, cluster sizes log-normal, each cluster with its own spread
 * (per-dimension noise σ ∈ [0.02, 0.04] → cosine to the centre ≈ 0.75–0.9). Queries use 1.5× the spread.
 */
function clusteredSet(n, nq, dim, c, rand) {
  const centres = uniformSet(c, dim, rand);
  const sigma = Float32Array.from({ length: c }, () => 0.02 + 0.02 * rand());
  const weights = Float64Array.from({ length: c }, () => Math.exp(gaussian(rand)));
  const cum = new Float64Array(c);
  let acc = 0;
  for (let i = 0; i < c; i++) cum[i] = acc += weights[i];
  const pick = () => {
    const x = rand() * acc;
    let lo = 0;
    let hi = c - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const draw = (count, scale) => {
    const m = new Float32Array(count * dim);
    for (let i = 0; i < count; i++) {
      const ci = pick();
      const s = sigma[ci] * scale;
      for (let j = 0; j < dim; j++) m[i * dim + j] = centres[ci * dim + j] + s * gaussian(rand);
    }
    normalize(m, dim);
    return m;
  };
  return { data: draw(n, 1), queries: draw(nq, 1.5) };
}

async function timeSearch(index, queries, k, batch, limit = NQ) {
  const nq = Math.min(limit, queries.length / D);
  const results = [];
  let t = performance.now();
  for (let q = 0; q < nq; q++) results.push((await index.search(queries.subarray(q * D, (q + 1) * D), k))[0]);
  const single = (performance.now() - t) / nq;
  let batched = null;
  if (batch > 1) {
    const bq = Math.min(limit, queries.length / D);
    t = performance.now();
    for (let q = 0; q < bq; q += batch) await index.search(queries.subarray(q * D, Math.min(bq, q + batch) * D), k);
    batched = (performance.now() - t) / bq;
  }
  return { single, batched, results };
}

function recall(results, truth, k) {
  let hit = 0;
  let total = 0;
  results.forEach((res, q) => {
    const want = new Set(truth[q].slice(0, k).map((h) => h.row));
    total += want.size;
    for (const h of res.slice(0, k)) if (want.has(h.row)) hit++;
  });
  return total ? hit / total : 1;
}

const layoutOf = new Map();
let faiss = null;
const round = (x, d = 3) => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);
const indexes = opt.indexes.split(',');
const results = [];
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-knn-'));
log(`n=${N} dim=${D} queries=${NQ} k=${K} batch=${B} cores=${cpus().length} mem=${mb(totalmem())} MiB`);

try {
  for (const set of opt.sets.split(',')) {
    const rand = rng(Number(opt.seed) + (set === 'uniform' ? 1000 : 0));
    let t = performance.now();
    const { data, queries } =
      set === 'uniform'
        ? { data: uniformSet(N, D, rand), queries: uniformSet(NQ, D, rand) }
        : clusteredSet(N, NQ, D, Number(opt.clusters), rand);
    log(`${set}: generated in ${((performance.now() - t) / 1000).toFixed(1)} s (${mb(data.byteLength)} MiB)`);

    const exact = new ExactIndex(data, D, 'simd');
    t = performance.now();
    const truth = exact.searchSync(queries, K);
    log(`${set}: ground truth (exact-simd, all ${NQ} queries in one batch) ${((performance.now() - t) / NQ).toFixed(2)} ms/query`);

    const record = (r) => {
      results.push({ set, ...r });
      log(`${set} ${r.index}${r.params ? ' ' + JSON.stringify(r.params) : ''}: build ${r.build_s ?? 0} s, single ${r.ms_per_query} ms/q, batch${B} ${r.ms_per_query_batched} ms/q, recall@${K} ${r.recall_at_10}, index ${r.index_mb} MiB, disk ${r.disk_mb} MiB, rss ${r.rss_mb} MiB`);
    };

    for (const name of indexes) {
      if (name === 'exact-simd') {
        const s = await timeSearch(exact, queries, K, B);
        record({ index: name, build_s: 0, ms_per_query: round(s.single), ms_per_query_batched: round(s.batched), recall_at_10: round(recall(s.results, truth, K), 4), index_mb: 0, disk_mb: 0, rss_mb: mb(process.memoryUsage().rss) });
      } else if (name === 'exact-gemm') {
        const g = new ExactIndex(data, D, 'gemm');
        t = performance.now();
        await g.search(queries.subarray(0, D), K); // creates the ONNX Runtime session
        const build = (performance.now() - t) / 1000;
        const s = await timeSearch(g, queries, K, B);
        await g.dispose();
        record({ index: name, build_s: round(build, 1), ms_per_query: round(s.single), ms_per_query_batched: round(s.batched), recall_at_10: round(recall(s.results, truth, K), 4), index_mb: 0, disk_mb: 0, rss_mb: mb(process.memoryUsage().rss) });
      } else if (name === 'exact-js') {
        const js = new ExactIndex(data, D, 'js');
        const s = await timeSearch(js, queries, K, B, B); // slow: timed on one batch
        record({ index: name, build_s: 0, ms_per_query: round(s.single), ms_per_query_batched: round(s.batched), recall_at_10: round(recall(s.results, truth, K), 4), index_mb: 0, disk_mb: 0, rss_mb: mb(process.memoryUsage().rss), timed_queries: B });
      } else if (name === 'ivf' || name === 'ivf-flat' || name === 'ivf-rerank') {
        if (!layoutOf.has(set)) {
          t = performance.now();
          const ivfOpts = { seed: 1 };
          if (opt.nlist) ivfOpts.nlist = Number(opt.nlist);
          layoutOf.set(set, { layout: await trainIvf(data, D, ivfOpts), train_s: (performance.now() - t) / 1000 });
        }
        const { layout, train_s } = layoutOf.get(set);
        const storage = name === 'ivf-flat' ? 'flat' : name === 'ivf-rerank' ? 'sq8' : DEFAULT_IVF_STORAGE;
        const rerank = name === 'ivf-rerank' ? Number(opt.rerank) : 0;
        t = performance.now();
        const ivf = new IvfIndex(data, layout, { storage, rerank, ...(opt.nprobe ? { nprobe: Number(opt.nprobe) } : {}) });
        const build = train_s + (performance.now() - t) / 1000;
        const file = join(tmp, 'index.ivf');
        writeFileSync(file, encodeIvfLayout(ivf.layout));
        const disk = statSync(file).size;
        const probes = opt.sweep ? [...new Set([ivf.nprobe, 4, 8, 32, 64])] : [ivf.nprobe];
        for (const nprobe of probes) {
          ivf.nprobe = nprobe;
          const s = await timeSearch(ivf, queries, K, B);
          record({
            index: name,
            params: { nlist: ivf.layout.nlist, nprobe, storage, ...(rerank ? { rerank } : {}) },
            default: name === DEFAULT_APPROXIMATE && nprobe === probes[0],
            build_s: round(build, 1),
            ms_per_query: round(s.single),
            ms_per_query_batched: round(s.batched),
            recall_at_10: round(recall(s.results, truth, K), 4),
            index_mb: mb(ivf.bytes),
            disk_mb: mb(disk),
            disk_note: 'centroids + list boundaries + order; vectors stay in the KB (codes are made from them at load)',
            rss_mb: mb(process.memoryUsage().rss),
          });
        }
      } else if (name === 'hnsw') {
        t = performance.now();
        const h = HnswIndex.build(data, D, {});
        const build = (performance.now() - t) / 1000;
        const file = join(tmp, 'index.usearch');
        h.save(file);
        const disk = statSync(file).size;
        const s = await timeSearch(h, queries, K, B);
        record({ index: name, params: { connectivity: 16, expansion_add: 64, expansion_search: 64 }, default: name === DEFAULT_APPROXIMATE, build_s: round(build, 1), ms_per_query: round(s.single), ms_per_query_batched: round(s.batched), recall_at_10: round(recall(s.results, truth, K), 4), index_mb: mb(disk), disk_mb: mb(disk), rss_mb: mb(process.memoryUsage().rss) });
        rmSync(file, { force: true });
      } else if (name === 'sqlite-vec') {
        const file = join(tmp, 'vec.sqlite');
        const db = new Database(file);
        sqliteVec.load(db);
        t = performance.now();
        db.exec(`CREATE VIRTUAL TABLE v USING vec0(embedding float[${D}] distance_metric=cosine)`);
        const ins = db.prepare('INSERT INTO v(rowid, embedding) VALUES (?, ?)');
        db.transaction(() => {
          for (let i = 0; i < N; i++) ins.run(BigInt(i), Buffer.from(data.buffer, data.byteOffset + i * D * 4, D * 4));
        })();
        const build = (performance.now() - t) / 1000;
        const disk = statSync(file).size;
        const q = db.prepare(`SELECT rowid, distance FROM v WHERE embedding MATCH ? AND k = ${K} ORDER BY distance`);
        const timed = Math.min(20, NQ);
        const res = [];
        t = performance.now();
        for (let i = 0; i < timed; i++) {
          const rows = q.all(Buffer.from(queries.buffer, queries.byteOffset + i * D * 4, D * 4));
          res.push(rows.map((r) => ({ row: Number(r.rowid), score: 1 - r.distance })));
        }
        const single = (performance.now() - t) / timed;
        db.close();
        rmSync(file, { force: true });
        record({ index: name, build_s: round(build, 1), ms_per_query: round(single), ms_per_query_batched: null, recall_at_10: round(recall(res, truth, K), 4), index_mb: mb(disk), disk_mb: mb(disk), rss_mb: mb(process.memoryUsage().rss), timed_queries: timed });
      } else {
        throw new Error(`unknown index "${name}"`);
      }
    }
    if (opt.compare === 'faiss' && set === 'clustered') faiss = runFaiss(data, queries, layoutOf.get(set)?.layout.nlist);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

/** faiss on the very same vectors and queries (written once to files), same nlist/nprobe. */
function runFaiss(data, queries, nlist) {
  if (!existsSync(opt.python)) {
    log(`--compare faiss: ${opt.python} not found, skipped`);
    return null;
  }
  const dataFile = join(tmp, 'data.f32');
  const queryFile = join(tmp, 'queries.f32');
  writeFileSync(dataFile, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  writeFileSync(queryFile, Buffer.from(queries.buffer, queries.byteOffset, queries.byteLength));
  const nl = nlist ?? (opt.nlist ? Number(opt.nlist) : Math.round(4 * Math.sqrt(N)));
  const nprobe = opt.nprobe ? Number(opt.nprobe) : 16;
  log(`faiss: nlist ${nl}, nprobe ${nprobe} (same data file for IndexFlatIP, IndexIVFFlat, IndexIVFScalarQuantizer QT_8bit)`);
  const r = spawnSync(opt.python, [join(import.meta.dirname, "knn_faiss.py"), dataFile, queryFile, String(D), String(K), String(nl), String(nprobe), String(32 * nl)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  rmSync(dataFile, { force: true });
  rmSync(queryFile, { force: true });
  if (r.status !== 0) throw new Error(`faiss comparison failed (exit ${r.status})`);
  const f = JSON.parse(r.stdout.trim().split('\n').pop());
  return {
    flat_ms_per_query_batched: round(f.flat_ms_per_query_batched),
    ivf_flat_ms_per_query: round(f.ivf_flat_ms_per_query),
    ivf_sq8_ms_per_query: round(f.ivf_sq8_ms_per_query),
    ivf_flat_recall_at_10: round(f[`ivf_flat_recall_at_${K}`], 4),
    ivf_sq8_recall_at_10: round(f[`ivf_sq8_recall_at_${K}`], 4),
    nlist: nl,
    nprobe,
  };
}

const def =
  results.find((r) => r.set === 'clustered' && r.default) ?? results.find((r) => r.default) ?? results[0] ?? {};
const summary = {
  n: N,
  dim: D,
  queries: NQ,
  cores: cpus().length,
  default_index: DEFAULT_APPROXIMATE,
  index: def.index,
  params: def.params,
  set: def.set,
  ms_per_query: def.ms_per_query,
  ms_per_query_batched: def.ms_per_query_batched,
  recall_at_10: def.recall_at_10,
  build_s: def.build_s,
  index_mb: def.index_mb,
  ...(faiss ? { faiss } : {}),
  results,
};
if (opt.json) process.stdout.write(JSON.stringify(summary) + '\n');
else console.table(results);
