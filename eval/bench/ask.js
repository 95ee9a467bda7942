#!/usr/bin/env node
// Benchmark: time to answer one question about a photo, `okvqa ask <photo> "<q>" --pipeline revive`, on real-shaped
// random models (see _setup.js: OWL-ViT B/32, CLIP B/16, flan-t5-base geometry with its int8 reader files; the LLM a
// loopback server answering at once, so LLM latency is NOT included).
//
//   npm run build && npm run bench -- ask [--pipeline revive] [--size base|tiny] [--reps 3] [--cold-reps N] [--reader-dtype q8|fp32]
//
// coldMs: a whole `okvqa ask` process (Node start-up, imports, model loads, the answer; cache off, so the tag
//         vocabulary's text embeddings are computed too), median of --cold-reps (default --reps).
// warmMs: one answer by an answerer whose models are loaded (what `okvqa serve` or a library app pays per question),
//         each rep on a new image file (no image-level work shared), cache off; median of --reps; stages = each node's
//         time in the median rep. Goal (issue 18): warm ≤ 3 s here with the int8 reader.
// warmCpuMs: the CPU time the process spent per warm answer (all threads; median): on a machine shared with other jobs
//         it is the cost of the answer, and ÷ the cores is the wall time it would take with the machine to itself,
//         when every stage uses every core (approximately: some stages are single-threaded).
// The photo is not in the question set's captions, so the captioner runs (the tiny one: no real-shaped generator).
// Exits 1 when a section fails (the JSON line is still printed, with the failure under "errors").
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAnswerer } from '../../dist/answerer.js';
import { arg, median, report, root } from './_util.js';
import { baseModels, benchConfig, benchData, linkTinyCaptioner, startLlm } from './_setup.js';

const pipelineName = arg('pipeline', 'revive');
const size = arg('size', 'base');
const reps = Number(arg('reps', '3'));
const coldReps = Number(arg('cold-reps', String(reps)));
const readerDtype = arg('reader-dtype', size === 'tiny' ? 'fp32' : 'q8');
const question = 'What is in the cup?';
const log = (m) => console.error(m);
const errors = [];

const modelsDir = size === 'base' ? baseModels() : undefined;
if (modelsDir) linkTinyCaptioner(modelsDir);
const llm = await startLlm();
const data = benchData(1, modelsDir);
const { config, sets } = benchConfig(size, llm, modelsDir, readerDtype);
const photos = mkdtempSync(join(tmpdir(), 'okvqa-bench-ask-'));
const coffee = readFileSync(join(root, 'test', 'fixtures', 'images', 'coffee.png'));
const photoOf = (i) => {
  const f = join(photos, `photo-${i}.png`);
  writeFileSync(f, Buffer.concat([coffee, Buffer.from(`bench ${i}`)])); // distinct bytes: nothing cached or shared
  return f;
};

// --- cold: whole processes -------------------------------------------------------------------------------------------
const cold = [];
const cliArgs = (photo) => [
  join(root, 'bin', 'okvqa.js'), 'ask', photo, question, '--pipeline', pipelineName, '--data', data.file, '--json',
  ...(size === 'tiny' ? ['--profile', 'tiny'] : ['--set', `models.localDir=${modelsDir}`]), '--offline',
  '--set', 'cache.mode=off', '--set', 'llm.backend=openai', '--set', `llm.baseURL=${llm.baseURL}`, '--set', 'llm.apiKey=bench',
  '--set', 'llm.model=bench-llm', ...sets.flatMap((s) => ['--set', s]),
];
try {
  for (let r = 0; r < coldReps; r++) {
    const t0 = performance.now();
    // asynchronously: the loopback LLM server lives in this process and must keep answering
    const p = await promisify(execFile)(process.execPath, cliArgs(photoOf(`cold-${r}`)), {
      encoding: 'utf8',
      env: { ...process.env, OKVQA_CACHE_PATH: join(photos, 'cache.sqlite') },
      maxBuffer: 1 << 26,
    }).catch((e) => {
      throw new Error(`okvqa ask exited ${e.code}: ${String(e.stderr).trim().split('\n').slice(-3).join(' | ')}`);
    });
    cold.push(performance.now() - t0);
    const res = JSON.parse(p.stdout);
    if (!res.ok) throw new Error(`okvqa ask: no answer (${res.error?.node}: ${res.error?.message})`);
    log(`cold ${r + 1}: ${(cold[r] / 1000).toFixed(1)} s (load ${loadavg()[0].toFixed(1)})`);
  }
} catch (err) {
  errors.push({ section: 'cold', error: err.message });
  log(`ask bench, cold: ${err.message}`);
}

// --- warm: one answerer, models loaded ------------------------------------------------------------------------------
let warm = [];
const cpu = []; // CPU time of this process (all its threads) per warm answer: what the answer costs, whatever the load
let stages = {};
const qa = createAnswerer({ pipeline: pipelineName, data: data.file, config, sets, log: { debug() {}, info() {}, warn: (m) => log(`warning: ${m}`) } });
try {
  const first = await qa.answer({ image: photoOf('load'), question });
  if (!first.ok) throw new Error(`no answer: ${first.error?.node}: ${first.error?.message}`);
  const runs = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const res = await qa.answer({ image: photoOf(`warm-${r}`), question });
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    if (!res.ok) throw new Error(`no answer: ${res.error?.node}: ${res.error?.message}`);
    runs.push({ ms, stages: Object.fromEntries(res.timings.map((t) => [t.node, Math.round(t.ms)])) });
    log(`warm ${r + 1}: ${(ms / 1000).toFixed(2)} s — ${res.timings.map((t) => `${t.node} ${t.ms.toFixed(0)}`).join(', ')}`);
  }
  warm = runs.map((x) => x.ms);
  stages = runs.find((x) => x.ms === median(warm)).stages;
} catch (err) {
  errors.push({ section: 'warm', error: err.message });
  log(`ask bench, warm: ${err.message}`);
} finally {
  await qa.close();
  await llm.close();
  data.cleanup();
  rmSync(photos, { recursive: true, force: true });
}

report({
  bench: 'ask',
  pipeline: pipelineName,
  size,
  readerDtype,
  warmMs: warm.length ? Math.round(median(warm)) : null,
  warmGoalMs: 3000,
  coldMs: cold.length === coldReps ? Math.round(median(cold)) : null,
  stages,
  warmRunsMs: warm.map(Math.round),
  warmCpuMs: cpu.length ? Math.round(median(cpu)) : null,
  warmCpuRunsMs: cpu.map(Math.round),
  coldRunsMs: cold.map(Math.round),
  reps,
  cpus: availableParallelism(),
  loadavg: loadavg().map((x) => Number(x.toFixed(2))),
  ...(errors.length ? { errors } : {}),
});
process.exit(errors.length ? 1 : 0);
