/**
 * Distributed runs on a real PostgreSQL server (a throwaway cluster, test/helpers/postgres.ts) with the tiny `kat`
 * pipeline: workers killed with SIGKILL lose nothing, a second process is served from the shared cache, a database
 * stopped mid-run is waited for. Each result is compared with a single-process run on SQLite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, okvqa, repoRoot } from '../helpers/cli.js';
import { havePostgres, startPostgres, type TestPostgres } from '../helpers/postgres.js';

const KAT = join(repoRoot, 'test', 'fixtures', 'kat');
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-distributed-'));
const withPg = havePostgres();
let server: TestPostgres | undefined;
let data = '';
let reference = '';
const N_COPIES = 2; // each fixture question twice (other ids and wording)
const N = 3 * N_COPIES;

/** A data.json of N questions over the KAT fixture's 3 images, captions, KB and examples. */
function makeData(): string {
  const q = JSON.parse(readFileSync(join(KAT, 'val_questions.json'), 'utf8')) as { questions: { question_id: number; question: string }[] };
  const a = JSON.parse(readFileSync(join(KAT, 'val_annotations.json'), 'utf8')) as { annotations: { question_id: number }[] };
  const qs = [];
  const as = [];
  for (let i = 0; i < N_COPIES; i++) {
    for (const x of q.questions) qs.push({ ...x, question_id: x.question_id * 10 + i, question: i ? `${x.question} (${i})` : x.question });
    for (const x of a.annotations) as.push({ ...x, question_id: x.question_id * 10 + i });
  }
  writeFileSync(join(tmp, 'questions.json'), JSON.stringify({ questions: qs }));
  writeFileSync(join(tmp, 'annotations.json'), JSON.stringify({ annotations: as }));
  const base = JSON.parse(readFileSync(join(KAT, 'data.json'), 'utf8')) as Record<string, unknown>;
  const abs = (p: string) => join(KAT, p);
  const file = join(tmp, 'data.json');
  writeFileSync(file, JSON.stringify({
    dataset: 'okvqa',
    questions: join(tmp, 'questions.json'),
    annotations: join(tmp, 'annotations.json'),
    captions: abs(base.captions as string),
    images: abs(base.images as string),
    knowledge: abs(base.knowledge as string),
    examples: Object.fromEntries(Object.entries(base.examples as Record<string, string>).map(([k, v]) => [k, abs(v)])),
  }));
  return file;
}

// no LLM server: the tiny profile's embedded GPT-2 answers; everything offline
const env = (extra: Record<string, string> = {}) => ({ ...cleanEnv(), OKVQA_CACHE_PATH: join(tmp, 'local.sqlite'), OPENAI_BASE_URL: '', OPENAI_API_KEY: '', ...extra });

interface Proc {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}
function start(args: string[], extra: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'okvqa.js'), ...args], { cwd: repoRoot, env: env(extra), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { child, done };
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, values)).rows;
  } finally {
    await c.end();
  }
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const traceOf = (dir: string) => readFileSync(join(dir, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { questionId: string; worker?: string; ok: boolean });
const predictions = (dir: string) => readFileSync(join(dir, 'predictions.json'), 'utf8');
const runArgs = (out: string, queue: string) => ['run', 'kat', '--data', data, '--out', out, '--profile', 'tiny', '--no-progress', '--queue', queue, '--lease', '2'];
const workerArgs = (queue: string) => ['worker', '--queue', queue, '--once'];

beforeAll(async () => {
  if (!withPg) return;
  data = makeData();
  server = await startPostgres();
  reference = join(tmp, 'reference');
  const r = okvqa(['run', 'kat', '--data', data, '--out', reference, '--profile', 'tiny', '--no-progress'], { OKVQA_CACHE_PATH: join(tmp, 'ref.sqlite'), OPENAI_BASE_URL: '', OPENAI_API_KEY: '' });
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(() => {
  server?.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!withPg)('distributed runs on PostgreSQL (tiny kat)', () => {
  it('three workers, one killed with SIGKILL mid-run: predictions as a single process, every question once in the trace; a second process is served from the shared cache', async () => {
    const url = await server!.createDatabase('kill');
    const out = join(tmp, 'kill');
    const coordinator = start(runArgs(out, url));
    const victim = start([...workerArgs(url), '--concurrency', '2']);
    // Kill it once it has recorded a question and holds another under its lease.
    await until('the victim to answer a question while holding another', async () => {
      const [done] = await query<{ n: string }>(url, "SELECT count(*) AS n FROM okvqa_results WHERE worker LIKE '%:' || $1", [String(victim.child.pid)]).catch(() => [{ n: '0' }]);
      const [active] = await query<{ n: string }>(url, "SELECT count(*) AS n FROM pgboss.job WHERE state = 'active'").catch(() => [{ n: '0' }]);
      return Number(done?.n) >= 1 && Number(active?.n) >= 1;
    }, 90_000);
    victim.child.kill('SIGKILL');
    const others = [start(workerArgs(url)), start(workerArgs(url))];
    const c = await coordinator.done;
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain(`kat: ${N} answered, 0 failed`);
    for (const w of others) expect((await w.done).code).toBe(0);
    expect((await victim.done).signal).toBe('SIGKILL');

    expect(predictions(out)).toBe(predictions(reference));
    const t = traceOf(out);
    expect(t.map((r) => r.questionId).sort()).toEqual(traceOf(reference).map((r) => r.questionId).sort());
    expect(new Set(t.map((r) => r.questionId)).size).toBe(N);
    expect(t.some((r) => r.worker?.endsWith(`:${victim.child.pid}`))).toBe(true);
    expect(new Set(t.map((r) => r.worker)).size).toBeGreaterThanOrEqual(2);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ status: 'complete', answered: N, failed: 0, distributed: { queue: url } });
    expect(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(join(reference, 'metrics.json'), 'utf8')));

    // Another process on an empty local cache, one process, the cache on the same database: every entry is a hit.
    const again = join(tmp, 'again');
    const r = okvqa(['run', 'kat', '--data', data, '--out', again, '--profile', 'tiny', '--no-progress', '--cache-url', url], { OKVQA_CACHE_PATH: join(tmp, 'empty.sqlite'), OPENAI_BASE_URL: '', OPENAI_API_KEY: '' });
    expect(r.code, r.stderr).toBe(0);
    expect(predictions(again)).toBe(predictions(reference));
    const m2 = JSON.parse(readFileSync(join(again, 'manifest.json'), 'utf8'));
    expect(m2.cache).toMatchObject({ path: url, misses: 0, writes: 0 });
    expect(m2.cache.hits).toBeGreaterThan(0);

    // A replay bundle from the shared cache, imported into an SQLite file: every entry the run used.
    const bundle = join(tmp, 'again.tgz');
    const x = okvqa(['cache', 'export', again, '--out', bundle, '--cache-url', url]);
    expect(x.code, x.stderr).toBe(0);
    expect(x.stderr).not.toContain('warning');
    const entries = Number(/(\d+) cache entries/.exec(x.stderr)?.[1]);
    expect(entries).toBeGreaterThan(0);
    const im = okvqa(['cache', 'import', bundle, '--cache-path', join(tmp, 'imported.sqlite')]);
    expect(im.code, im.stderr).toBe(0);
    expect(im.stderr).toContain(`imported ${entries} cache entries`);
  }, 150_000);

  it('a worker whose config differs is refused with what differs; an interrupted distributed run resumes', async () => {
    const url = await server!.createDatabase('resume');
    const out = join(tmp, 'resume');
    const coordinator = start(runArgs(out, url));
    const first = start(workerArgs(url));
    await until('the run to be queued', async () => (await query(url, "SELECT 1 FROM okvqa_runs WHERE status = 'running'").catch(() => [])).length > 0);
    const w = okvqa([...workerArgs(url), '--set', 'nodes.answer.params.maxLength=3'], { OPENAI_BASE_URL: '', OPENAI_API_KEY: '' });
    expect(w.code).not.toBe(0);
    expect(w.stderr).toMatch(/differ from the run's[\s\S]*What differs:[\s\S]*node "answer"/);
    await until('the coordinator to record a first result', async () => existsSync(join(out, 'trace.jsonl')) && readFileSync(join(out, 'trace.jsonl'), 'utf8').trim() !== '', 90_000);
    coordinator.child.kill('SIGINT');
    const c = await coordinator.done;
    expect(c.stderr).toContain('interrupted: rerun with --resume');
    expect((await first.done).code).toBe(0); // the run is no longer running: the worker stops
    const before = traceOf(out).length;
    expect(before).toBeGreaterThanOrEqual(1);
    expect(before).toBeLessThan(N);

    const resumed = start([...runArgs(out, url), '--resume']);
    const second = start(workerArgs(url));
    const r = await resumed.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`kat: ${N} answered, 0 failed, ${before} from the earlier run`);
    expect((await second.done).code).toBe(0);
    expect(predictions(out)).toBe(predictions(reference));
    const t = traceOf(out);
    expect(t).toHaveLength(N);
    expect(new Set(t.map((x) => x.questionId)).size).toBe(N);
  }, 150_000);

  it('the database stopped mid-run: workers and coordinator wait, the run completes once it is back', async () => {
    const url = await server!.createDatabase('outage');
    const out = join(tmp, 'outage');
    const coordinator = start(runArgs(out, url));
    const workers = [start(workerArgs(url)), start(workerArgs(url))];
    await until('a first result', async () => Number((await query<{ n: string }>(url, 'SELECT count(*) AS n FROM okvqa_results').catch(() => [{ n: '0' }]))[0]?.n) >= 1, 90_000);
    server!.stop();
    await new Promise((r) => setTimeout(r, 3000));
    server!.start();
    const c = await coordinator.done;
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain(`kat: ${N} answered, 0 failed`);
    const ws = await Promise.all(workers.map((w) => w.done));
    for (const w of ws) expect(w.code, w.stderr).toBe(0);
    expect([c.stderr, ...ws.map((w) => w.stderr)].join('\n')).toMatch(/database unreachable/);
    expect(predictions(out)).toBe(predictions(reference));
    expect(new Set(traceOf(out).map((r) => r.questionId)).size).toBe(N);
    expect(traceOf(out)).toHaveLength(N);
  }, 150_000);
});
