// Benchmark: distributed runs and the shared cache on PostgreSQL (a throwaway loopback cluster, as the tests start).
//  1. cost of one cache hit (µs, p50/p95 over sequential getOrCompute hits of ~2 KB values): SQLite file vs PostgreSQL;
//  2. questions/s of the tiny `kat` pipeline (cold cache) with 1, 2 and 4 workers on the PostgreSQL queue + cache,
//     against one process on SQLite; whole wall time, model loading included; each worker answers one question at a time.
// Modes alternate (sqlite, pg) and the load average is reported: the machine may be shared.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { arg, median, report, root } from './_util.js';

const { Cache } = await import(join(root, 'dist', 'core', 'cache.js'));
const pg = (await import('pg')).default;

const copies = Number(arg('copies', '4')); // × the fixture's 3 questions
const hits = Number(arg('hits', '2000'));
const workerCounts = (arg('workers', '1,2,4')).split(',').map(Number);
const dir = mkdtempSync(join(tmpdir(), 'okvqa-bench-distributed-'));
chmodSync(dir, 0o777);

function pgBin() {
  const base = '/usr/lib/postgresql';
  const m = existsSync(base) ? readdirSync(base).filter((d) => /^\d+$/.test(d)).sort((a, b) => b - a) : [];
  if (!m.length) throw new Error('bench distributed: PostgreSQL is not installed (apt-get install postgresql)');
  return join(base, m[0], 'bin');
}
const bin = pgBin();
const asRoot = process.getuid?.() === 0;
const pgRun = (exe, args) => execFileSync(asRoot ? 'runuser' : join(bin, exe), asRoot ? ['-u', 'postgres', '--', join(bin, exe), ...args] : args, { cwd: dir, stdio: 'pipe' });
const port = await new Promise((res) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
pgRun('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'okvqa', '--no-sync', '-E', 'UTF8', '--locale=C']);
pgRun('pg_ctl', ['-D', join(dir, 'data'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`, '-l', join(dir, 'log'), '-w', 'start']);
const url = (db = 'postgres') => `postgres://okvqa@127.0.0.1:${port}/${db}`;
let dbs = 0;
async function freshDb() {
  const c = new pg.Client({ connectionString: url() });
  await c.connect();
  const name = `b${++dbs}`;
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  return url(name);
}

try {
  // 1. cache hits
  const value = { passages: Array.from({ length: 20 }, (_, i) => ({ id: `Q${i}`, text: `title: entity ${i} context: entity ${i} is a thing of some kind`, score: i / 20 })) };
  const keys = Array.from({ length: hits }, (_, i) => Cache.key({ i }));
  const hitCost = async (location) => {
    const c = new Cache(location, 'rw');
    await c.ready();
    for (const k of keys) await c.getOrCompute(k, 'bench', async () => value);
    const us = [];
    for (const k of keys) {
      const t0 = process.hrtime.bigint();
      const r = await c.getOrCompute(k, 'bench', async () => { throw new Error('miss'); });
      us.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (!r.hit) throw new Error('expected a hit');
    }
    await c.close();
    us.sort((a, b) => a - b);
    return { p50: us[Math.floor(us.length / 2)], p95: us[Math.floor(us.length * 0.95)] };
  };
  // --baseline <dist/core/cache.js of another checkout>: the SQLite hit cost of that Cache class too (e.g. before the
  // store interface), measured alternately in this process.
  const baselinePath = arg('baseline', '');
  const Baseline = baselinePath ? (await import(baselinePath)).Cache : undefined;
  const hitCostWith = async (Cls, location) => {
    const c = new Cls(location, 'rw');
    for (const k of keys) await c.getOrCompute(k, 'bench', async () => value);
    const us = [];
    for (const k of keys) {
      const t0 = process.hrtime.bigint();
      await c.getOrCompute(k, 'bench', async () => { throw new Error('miss'); });
      us.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    c.close();
    us.sort((a, b) => a - b);
    return us[Math.floor(us.length / 2)];
  };
  const sq = [], pq = [], bq = [];
  for (let round = 0; round < Number(arg('hit-rounds', '4')); round++) {
    sq.push(await hitCost(join(dir, `hits${round}.sqlite`)));
    if (Baseline) bq.push(await hitCostWith(Baseline, join(dir, `base${round}.sqlite`)));
    pq.push(await hitCost(await freshDb()));
  }
  const hit = {
    sqlite_p50_us: +median(sq.map((x) => x.p50)).toFixed(1), sqlite_p95_us: +median(sq.map((x) => x.p95)).toFixed(1),
    pg_p50_us: +median(pq.map((x) => x.p50)).toFixed(1), pg_p95_us: +median(pq.map((x) => x.p95)).toFixed(1),
    ...(Baseline ? { baseline_sqlite_p50_us: +median(bq).toFixed(1) } : {}),
  };
  console.error(`cache hit (${JSON.stringify(value).length} B values, ${hits} hits): SQLite p50 ${hit.sqlite_p50_us} µs (p95 ${hit.sqlite_p95_us}), PostgreSQL loopback p50 ${hit.pg_p50_us} µs (p95 ${hit.pg_p95_us})${Baseline ? `; baseline SQLite Cache p50 ${hit.baseline_sqlite_p50_us} µs` : ''}`);

  // 2. throughput on the tiny kat pipeline
  const KAT = join(root, 'test', 'fixtures', 'kat');
  const q = JSON.parse(readFileSync(join(KAT, 'val_questions.json'), 'utf8'));
  const a = JSON.parse(readFileSync(join(KAT, 'val_annotations.json'), 'utf8'));
  const qs = [], as = [];
  for (let i = 0; i < copies; i++) {
    for (const x of q.questions) qs.push({ ...x, question_id: x.question_id * 100 + i, question: `${x.question} (${i})` });
    for (const x of a.annotations) as.push({ ...x, question_id: x.question_id * 100 + i });
  }
  writeFileSync(join(dir, 'q.json'), JSON.stringify({ questions: qs }));
  writeFileSync(join(dir, 'a.json'), JSON.stringify({ annotations: as }));
  const base = JSON.parse(readFileSync(join(KAT, 'data.json'), 'utf8'));
  const data = join(dir, 'data.json');
  writeFileSync(data, JSON.stringify({ dataset: 'okvqa', questions: join(dir, 'q.json'), annotations: join(dir, 'a.json'), captions: join(KAT, base.captions), images: join(KAT, base.images), knowledge: join(KAT, base.knowledge), examples: Object.fromEntries(Object.entries(base.examples).map(([k, v]) => [k, join(KAT, v)])) }));
  const env = { ...process.env, OPENAI_BASE_URL: '', OPENAI_API_KEY: '' };
  for (const k of Object.keys(env)) if (/^OKVQA_/.test(k)) delete env[k];
  // Steady-state rate: the run's progress lines ("i/N questions", one per question at N ≤ 19) timestamped as they come,
  // (last − first done) / (time between them): model loading and process start-up left out.
  let ticks = [];
  const okvqa = (args, extra = {}) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'okvqa.js'), ...args], { env: { ...env, ...extra }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      if (args[0] === 'run') for (const m of String(d).matchAll(/^(\d+)\/\d+ questions/gm)) ticks.push([performance.now(), Number(m[1])]);
    });
    return new Promise((res, rej) => child.on('exit', (code) => (code === 0 ? res(err) : rej(new Error(`okvqa ${args[0]} exited ${code}: ${err}`)))));
  };
  const steady = () => {
    if (ticks.length < 2) return (ticks = []), NaN;
    const [t0, d0] = ticks[0];
    const [t1, d1] = ticks[ticks.length - 1];
    ticks = [];
    return t1 > t0 ? ((d1 - d0) * 1000) / (t1 - t0) : NaN;
  };
  const common = ['kat', '--data', data, '--profile', 'tiny', '--no-check', '--concurrency', '1']; // progress on: not a TTY, so one line per question
  let outs = 0;
  const single = async () => {
    const t0 = performance.now();
    await okvqa(['run', ...common, '--out', join(dir, `o${++outs}`)], { OKVQA_CACHE_PATH: join(dir, `c${outs}.sqlite`) });
    return [(performance.now() - t0) / 1000, steady()];
  };
  const distributed = async (n) => {
    const queue = await freshDb();
    const t0 = performance.now();
    const coord = okvqa(['run', ...common, '--out', join(dir, `o${++outs}`), '--queue', queue]);
    const workers = Array.from({ length: n }, () => okvqa(['worker', '--queue', queue, '--once', '--concurrency', '1']));
    await coord;
    const s = (performance.now() - t0) / 1000;
    await Promise.all(workers);
    return [s, steady()];
  };
  const loadBefore = loadavg()[0];
  const secs = { sqlite: [] };
  const rates = { sqlite: [] };
  for (const n of workerCounts) (secs[`pg_${n}`] = []), (rates[`pg_${n}`] = []);
  for (let round = 0; round < Number(arg('rounds', '1')); round++) {
    const [s, r] = await single();
    secs.sqlite.push(s), rates.sqlite.push(r);
    for (const n of workerCounts) {
      const [s2, r2] = await distributed(n);
      secs[`pg_${n}`].push(s2), rates[`pg_${n}`].push(r2);
    }
  }
  const qps = Object.fromEntries(Object.entries(secs).map(([k, v]) => [k, +(qs.length / median(v)).toFixed(3)]));
  const steadyQps = Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, +median(v).toFixed(3)]));
  const loadAfter = loadavg()[0];
  const ratio2 = steadyQps.pg_2 && steadyQps.pg_1 ? +(steadyQps.pg_2 / steadyQps.pg_1).toFixed(2) : undefined;
  console.error(`tiny kat, ${qs.length} questions, cold cache, q/s steady (wall incl. start-up and model loading): one process on SQLite ${steadyQps.sqlite} (${qps.sqlite}); ` +
    workerCounts.map((n) => `${n} worker(s) on PostgreSQL ${steadyQps[`pg_${n}`]} (${qps[`pg_${n}`]})`).join(', ') + (ratio2 ? `; steady 2 workers / 1 = ${ratio2}×` : '') +
    ` (load average ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)} on ${cpus().length} cores)`);
  report({ bench: 'distributed', questions: qs.length, cores: cpus().length, load_before: +loadBefore.toFixed(2), load_after: +loadAfter.toFixed(2), cache_hit: hit, qps_steady: steadyQps, qps_wall: qps, ratio_2_over_1_steady: ratio2 });
} finally {
  try { pgRun('pg_ctl', ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']); } catch { /* already down */ }
  rmSync(dir, { recursive: true, force: true });
}
