// Benchmark: engine overhead per question per stage, with no-op stages (no cache, and with an in-memory SQLite cache).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { Cache, PipelineExecutor, StageRegistry, compilePipeline, createRunContext, defineStage, resolveConfig, runBatch } from '../../dist/index.js';
import { arg, report } from './_util.js';

const questions = Number(arg('questions', '2000'));
const depth = Number(arg('stages', '8'));
const noopCaption = defineStage({ id: 'caption.noop', version: '1', description: 'no-op', inputs: { sample: { kind: 'sample' } }, output: 'captions', params: z.object({}), async run() { return [{ text: 'x', source: 'noop' }]; } });
const noopPass = (i) => defineStage({ id: `captions.pass${i}`, version: '1', description: 'no-op', inputs: { captions: { kind: 'captions' } }, output: 'captions', params: z.object({}), async run({ captions }) { return captions; } });
const noopAnswer = defineStage({ id: 'answer.noop', version: '1', description: 'no-op', inputs: { captions: { kind: 'captions' } }, output: 'answer', params: z.object({}), async run({ captions }) { return { answer: captions[0].text }; } });
const passes = Array.from({ length: depth - 2 }, (_, i) => noopPass(i));
const registry = new StageRegistry([noopCaption, ...passes, noopAnswer]);
const nodes = { c0: { use: 'caption.noop' } };
passes.forEach((p, i) => (nodes[`c${i + 1}`] = { use: p.id, inputs: { captions: `c${i}` } }));
nodes.answer = { use: 'answer.noop', inputs: { captions: `c${depth - 2}` } };
const pipeline = compilePipeline({ name: 'noop', file: 'noop.yaml', output: 'answer', config: {}, origin: {}, files: [], nodes }, registry);
const samples = Array.from({ length: questions }, (_, i) => ({ dataset: 'okvqa', questionId: String(i), imageId: i, question: `question ${i}?` }));

async function measure(mode) {
  const config = resolveConfig({ overrides: { cache: { mode } } });
  const ctx = createRunContext({ config, cache: new Cache(mode === 'off' ? ':memory:' : ':memory:', mode) });
  const ex = new PipelineExecutor(pipeline, ctx);
  for (const s of samples.slice(0, 200)) await ex.run(s); // warm-up
  const t0 = performance.now();
  for (const s of samples) await ex.run(s);
  const ms = performance.now() - t0;
  return (ms * 1000) / questions / depth;
}
const usOff = await measure('off');
const usRw = await measure('rw');
// Whole batch path: p-queue, trace.jsonl streaming, predictions/manifest writing.
const out = mkdtempSync(join(tmpdir(), 'okvqa-bench-runner-'));
const ctx = createRunContext({ config: resolveConfig({ overrides: { cache: { mode: 'off' } } }), cache: new Cache(':memory:', 'off') });
const t0 = performance.now();
await runBatch({ pipeline, samples, ctx, outDir: out, concurrency: 8 });
const batchUs = ((performance.now() - t0) * 1000) / questions / depth;
console.error(`runner overhead: ${usOff.toFixed(1)} µs/question/stage (cache off), ${usRw.toFixed(1)} µs (cache rw, in-memory SQLite, miss+write), ${batchUs.toFixed(1)} µs in runBatch with trace streaming; ${questions} questions x ${depth} stages`);
report({ bench: 'runner', questions, stages: depth, us_per_question_stage_cache_off: +usOff.toFixed(2), us_per_question_stage_cache_rw: +usRw.toFixed(2), us_per_question_stage_batch: +batchUs.toFixed(2) });
