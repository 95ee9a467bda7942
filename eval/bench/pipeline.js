#!/usr/bin/env node
// Benchmark: a whole pipeline's time per question, node by node, on real-shaped random models, and what a full OK-VQA
// val run (5,046 questions) would take on this machine at that rate.
//
//   npm run build && npm run bench -- pipeline kat --size base --questions 20 [--reader-dtype q8|fp32] [--concurrency N]
//
// Models, question set and LLM: see _setup.js (--size base: CLIP B/16, OWL-ViT B/32, flan-t5-base geometry, random
// weights, generated once under the OS temp dir; the LLM a loopback server answering at once, so LLM latency is NOT in
// these figures). The reader runs with --reader-dtype (default q8 at base, the int8 files; fp32 at tiny). Each question
// has its own image file (no image-level work shared). The models are loaded by one warm-up question first (reported
// as loadMs, not counted); then the questions run as `okvqa run` runs them (concurrency = config, default 8, so the
// reader batches). msPerQuestion = wall time / questions; stages = each node's mean time per question (nodes run
// concurrently, so they sum to more than msPerQuestion). cpuMsPerQuestion: this process's CPU time (all threads) per
// question; projectedValHoursFromCpu = that ÷ cores × 5,046: the projection for this machine with no other jobs on it
// (approximately). Exits 1 when the pre-flight fails or a question fails.
import { availableParallelism, loadavg } from 'node:os';
import { createAnswerer } from '../../dist/answerer.js';
import { loadDataFile, loadSamples } from '../../dist/data/data-file.js';
import { formatProblem } from '../../dist/core/preflight.js';
import { arg, report } from './_util.js';
import { baseModels, benchConfig, benchData, linkTinyCaptioner, startLlm } from './_setup.js';

const pipelineName = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'kat';
const size = arg('size', 'base');
const n = Number(arg('questions', '20'));
const readerDtype = arg('reader-dtype', size === 'tiny' ? 'fp32' : 'q8');
const concurrency = arg('concurrency');
const VAL_QUESTIONS = 5046;
const log = (m) => console.error(m);

const modelsDir = size === 'base' ? baseModels() : undefined;
if (modelsDir) linkTinyCaptioner(modelsDir);
const llm = await startLlm();
const data = benchData(n + 1, modelsDir);
const { config, sets } = benchConfig(size, llm, modelsDir, readerDtype);
if (concurrency) config.concurrency = Number(concurrency);
const qa = createAnswerer({ pipeline: pipelineName, data: data.file, config, sets, log: { debug() {}, info() {}, warn: (m) => log(`warning: ${m}`) } });
const samples = loadSamples(loadDataFile(data.file));
let status = 0;
const errors = [];
let figures = {};
try {
  const pre = await qa.check(samples);
  for (const p of [...pre.errors, ...pre.warnings]) log(formatProblem(p));
  if (pre.errors.length) throw new Error(`pre-flight: ${pre.errors.length} error(s)`);
  let t0 = performance.now();
  const first = await qa.answer(samples[0]);
  const loadMs = performance.now() - t0;
  if (!first.ok) throw new Error(`warm-up question failed: ${first.error?.node}: ${first.error?.message}`);
  log(`${pipelineName} (${size}, reader ${readerDtype}): models loaded and one question answered in ${(loadMs / 1000).toFixed(1)} s; timing ${n} questions (load ${loadavg()[0].toFixed(1)}) …`);
  t0 = performance.now();
  const c0 = process.cpuUsage();
  const rs = await qa.answerMany(samples.slice(1));
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpuMsPerQuestion = (c.user + c.system) / 1000 / rs.length;
  const failed = rs.filter((r) => !r.ok);
  for (const r of failed) errors.push({ question: r.questionId, node: r.error?.node, error: r.error?.message });
  const sum = {};
  for (const r of rs) for (const t of r.timings) sum[t.node] = (sum[t.node] ?? 0) + t.ms;
  const stages = Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, Math.round(v / rs.length)]));
  const msPerQuestion = wall / rs.length;
  figures = {
    msPerQuestion: Math.round(msPerQuestion),
    projectedValHours: Number(((msPerQuestion * VAL_QUESTIONS) / 3.6e6).toFixed(2)),
    stages,
    cpuMsPerQuestion: Math.round(cpuMsPerQuestion),
    projectedValHoursFromCpu: Number(((cpuMsPerQuestion / availableParallelism()) * VAL_QUESTIONS / 3.6e6).toFixed(2)),
    loadMs: Math.round(loadMs),
    llmCalls: llm.calls(),
  };
  log(`${rs.length} questions in ${(wall / 1000).toFixed(1)} s: ${figures.msPerQuestion} ms a question → OK-VQA val (${VAL_QUESTIONS}) ≈ ${figures.projectedValHours} h here`);
  for (const [k, v] of Object.entries(stages)) log(`  ${k.padEnd(14)} ${String(v).padStart(8)} ms / question`);
  if (failed.length) throw new Error(`${failed.length} of ${rs.length} questions failed`);
} catch (err) {
  status = 1;
  errors.push({ section: 'pipeline', error: err.message });
  log(`pipeline bench: ${err.message}`);
} finally {
  await qa.close();
  await llm.close();
  data.cleanup();
}
report({
  bench: 'pipeline',
  pipeline: pipelineName,
  size,
  questions: n,
  readerDtype,
  ...figures,
  concurrency: config.concurrency ?? 'default',
  cpus: availableParallelism(),
  loadavg: loadavg().map((x) => Number(x.toFixed(2))),
  ...(errors.length ? { errors } : {}),
});
process.exit(status);
