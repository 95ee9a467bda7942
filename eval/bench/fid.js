#!/usr/bin/env node
// Benchmark: the Fusion-in-Decoder reader, `reader.fid`.
//
//   npm run build && npm run bench -- fid [--size base|tiny] [--questions 2] [--batches 1,2] [--passages 40] [--reps 3]
//                                         [--agree 8] [--agree-passages 10]
//                                         [--model DIR]   (a reader folder, e.g. one `okvqa reader import` wrote)
//
// Ratios are medians over reps of each rep's own ratio (its runs are adjacent in time, so a load spike between reps
// does not skew them); the ratios of the medians are printed too.
// 1. ratio: questions/s of `reader.fid` (the stage: tokenisation, micro-batching, one (B·N, L) encoder call, fusion,
//    greedy decoding with the KV cache, attribution) ÷ a bare onnxruntime-node loop making the same encoder and decoder
//    calls (same batch shapes, same number of decoder steps, same fetched outputs) on tensors made before timing; fp32,
//    for each batch size of --batches, reps interleaved (ours, bare, ours-int8, …), medians. `ratio` is the smallest.
// 2. int8Speedup: questions/s of `reader.fid` with `dtype: q8` (python/okvqa_py/quantize.py's files, written once if the
//    model folder lacks them) ÷ `reader.fid` fp32, same run, same reps, at the largest batch size.
// 3. int8TokenAgreement: greedy tokens of q8 vs fp32 on --agree questions (--agree-passages passages each), on the tiny
//    model and on the --size model: the fraction of token positions that agree (a missing token counts as a
//    disagreement) and the fraction of questions whose answers are identical.
// 4. encoderCache: one question read with 35 explicit + 5 implicit passages, then again with the 5 implicit ones
//    changed, with reader.fid's encoder-state cache (the second read encodes 5 passages) and without (40), q8 and fp32,
//    interleaved over --reps: the second read's time with ÷ without.
// --sections ratio,agreement,cache picks sections (default all).
//
// No trained reader exists offline, so `--size base` (default) generates a RANDOM reader with flan-t5-base geometry
// (d_model 768, 12 + 12 layers, 12 heads, d_ff 2048 gated-GELU, vocabulary 32128; ~1 GB) into the OS temp dir once
// (`test/fixtures/models/generate_t5.py bench DIR`; never committed). Random weights cost the same to run as trained
// ones; what int8 does to a trained reader's accuracy is not measured here. Passages are KAT-sized: 40 per question,
// each truncated to 64 tokens. Per-stage times of whole pipelines: `npm run bench -- pipeline`.
// Exits 1 when a section fails (the JSON line is still printed, with the failure under "errors").
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { resolveConfig } from '../../dist/core/config.js';
import { createRunContext } from '../../dist/run-context.js';
import { loadT5Reader, readerSource } from '../../dist/reader/t5.js';
import { FID_KAT, fidGenerate, tokenizePassages } from '../../dist/reader/fid.js';
import { fidParams, readerFid } from '../../dist/stages/reader/fid.js';
import { arg, median, report, root } from './_util.js';

const size = arg('size', 'base');
const nQuestions = Number(arg('questions', '2'));
const batches = arg('batches', arg('batch', '1,2')).split(',').map(Number);
const nPassages = Number(arg('passages', '40'));
const reps = Number(arg('reps', '3'));
const nAgree = Number(arg('agree', '8'));
const agreePassages = Number(arg('agree-passages', '10'));
const log = (m) => console.error(m);
const errors = [];
const sections = arg('sections', 'ratio,agreement,cache').split(',');

const tinyDir = join(root, 'assets', 'models', 'okvqa-tiny', 't5');
function generateBase() {
  const dir = join(tmpdir(), 'okvqa-bench-t5-base-random');
  if (!existsSync(join(dir, 'onnx', 'decoder_model_merged.onnx'))) {
    log(`generating a random flan-t5-base-shaped reader in ${dir} (once, ~1 GB) …`);
    const r = spawnSync('/usr/bin/python3', [join(root, 'test', 'fixtures', 'models', 'generate_t5.py'), 'bench', dir], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('bench: model generation failed (needs /usr/bin/python3 with onnx + numpy)');
  }
  return dir;
}
/** Writes the q8 files with python/okvqa_py/quantize.py when the folder lacks them. */
function ensureQuantized(dir) {
  if (existsSync(join(dir, 'onnx', 'decoder_model_merged_quantized.onnx')) && existsSync(join(dir, 'onnx', 'encoder_model_quantized.onnx'))) return;
  log(`quantizing ${dir} to int8 (python -m okvqa_py.quantize) …`);
  const r = spawnSync('/usr/bin/python3', ['-m', 'okvqa_py.quantize', join(dir, 'onnx')], {
    stdio: 'inherit',
    env: { ...process.env, PYTHONPATH: join(root, 'python') },
  });
  if (r.status !== 0) throw new Error('bench: int8 quantization failed (needs /usr/bin/python3 with onnx + numpy)');
}

const modelArg = arg('model', '');
let modelDir;
if (modelArg) {
  modelDir = resolve(modelArg);
} else if (size === 'tiny') {
  modelDir = join(mkdtempSync(join(tmpdir(), 'okvqa-bench-t5-tiny-')), 't5'); // a copy: the fixture folder stays as committed
  cpSync(tinyDir, modelDir, { recursive: true });
} else if (size === 'base') {
  modelDir = generateBase();
} else {
  throw new Error(`--size must be base or tiny, got ${size}`);
}
ensureQuantized(modelDir);

// --- inputs: KAT-shaped questions, each passage long enough to be truncated to 64 tokens ----------------------------
const filler = 'the cup is a small open container used for drinking hot tea or coffee and it is often made of white glass metal or paper';
const sampleOf = (i) => ({ dataset: 'okvqa', questionId: `b${i}`, imageId: i, question: `what kind of drink is in the cup number ${i}?` });
const samples = Array.from({ length: nQuestions }, (_, i) => sampleOf(i));
const passagesOf = (i, n = nPassages) =>
  Array.from({ length: n }, (_, j) => ({ text: `title: item ${j} context: item ${j} of question ${i} is a thing. ${filler} ${filler}`, score: 1, source: 'bench' }));

const config = resolveConfig({ overrides: { models: { offline: true, dtype: 'fp32' }, cache: { mode: 'off' } } });
const ctx = createRunContext({ config });
const stageCtx = (qid) => ({ ...ctx, questionId: qid, node: 'reader', note() {}, usage() {} });
const runOurs = (params) =>
  Promise.all(samples.map((s, i) => readerFid.run({ sample: s, passages: passagesOf(i), regions: undefined, tags: undefined }, params, stageCtx(s.questionId))));

// --- the bare loop: its own sessions on the same files, tensors made up front -------------------------------------
const reader = await loadT5Reader(ctx, readerSource(ctx, modelDir));
const g = reader.geometry;
log(`reader ${modelArg ? modelDir : size}: d_model ${g.dModel}, ${g.numDecoderLayers} decoder layers, vocab ${g.vocabSize}; ${nQuestions} questions × ${nPassages} passages, batches ${batches.join(', ')}, ${reps} reps`);
const ids = samples.map((s, i) => tokenizePassages(reader, { question: s.question, passages: passagesOf(i).map((p) => p.text) }, FID_KAT));
const L = Math.max(...ids.flat().map((p) => p.length));
log(`tokens per passage: ${L} (all passages ${ids.flat().every((p) => p.length === L) ? 'equal' : 'NOT equal'})`);
// from the file's bytes, as transformers.js opens reader.fid's sessions (not from the path)
const encoder = await ort.InferenceSession.create(readFileSync(join(modelDir, 'onnx', 'encoder_model.onnx')));
const decoder = await ort.InferenceSession.create(readFileSync(join(modelDir, 'onnx', 'decoder_model_merged.onnx')));
const crossNames = reader.crossAttention ? reader.crossAttention.names : [];
const steps = FID_KAT.maxLength - 1;
const noCache = new ort.Tensor('bool', new Uint8Array([0]), [1]);
const useCache = new ort.Tensor('bool', new Uint8Array([1]), [1]);
const pastNames = decoder.inputNames.filter((n) => n.startsWith('past_key_values.'));
const decPresent = pastNames.filter((n) => n.includes('.decoder.')).map((n) => n.replace('past_key_values.', 'present.'));
const encPresent = pastNames.filter((n) => n.includes('.encoder.')).map((n) => n.replace('past_key_values.', 'present.'));
function bareBatches(batch) {
  const out = [];
  for (let s = 0; s < nQuestions; s += batch) {
    const qs = ids.slice(s, s + batch);
    const rows = qs.flat();
    const B = qs.length;
    const input = new BigInt64Array(rows.length * L);
    const mask = new BigInt64Array(rows.length * L);
    rows.forEach((r, i) => r.forEach((t, j) => { input[i * L + j] = BigInt(t); mask[i * L + j] = 1n; }));
    const N = qs[0].length;
    out.push({
      B,
      F: N * L,
      enc: { input_ids: new ort.Tensor('int64', input, [rows.length, L]), attention_mask: new ort.Tensor('int64', mask, [rows.length, L]) },
      encMask: new ort.Tensor('int64', mask, [B, N * L]),
      token: new ort.Tensor('int64', new BigInt64Array(B), [B, 1]),
      empty: new ort.Tensor('float32', new Float32Array(0), [B, g.numHeads, 0, g.dKv]),
    });
  }
  return out;
}
async function runBare(prepared) {
  for (const b of prepared) {
    const enc = await encoder.run(b.enc);
    const hidden = new ort.Tensor('float32', enc.last_hidden_state.data, [b.B, b.F, g.dModel]);
    const past = {};
    for (const n of pastNames) past[n] = b.empty;
    for (let step = 0; step < steps; step++) {
      const fetches = ['logits', ...decPresent, ...(step === 0 ? [...encPresent, ...crossNames] : [])];
      const out = await decoder.run(
        { input_ids: b.token, encoder_attention_mask: b.encMask, encoder_hidden_states: hidden, use_cache_branch: step ? useCache : noCache, ...past },
        fetches,
      );
      for (const p of fetches) if (p.startsWith('present.')) past[p.replace('present.', 'past_key_values.')] = out[p];
    }
  }
}

// --- 1 + 2: per batch size, ours fp32 / bare fp32 / ours q8 interleaved ------------------------------------------
const perBatch = {};
for (const batch of sections.includes('ratio') ? batches : []) {
  // encoder cache off: every rep reads the same questions, which the cache would serve without encoding
  const p32 = fidParams.parse({ model: modelDir, batchSize: batch, batchWindowMs: 20, encoderCacheMb: 0 });
  const p8 = fidParams.parse({ model: modelDir, batchSize: batch, batchWindowMs: 20, dtype: 'q8', encoderCacheMb: 0 });
  const prepared = bareBatches(batch);
  await runOurs(p32); // warm-up (loads, first-run allocations)
  await runBare(prepared);
  await runOurs(p8);
  const t = { ours: [], bare: [], q8: [] };
  for (let r = 0; r < reps; r++) {
    let t0 = performance.now();
    const preds = await runOurs(p32);
    t.ours.push(performance.now() - t0);
    t0 = performance.now();
    await runBare(prepared);
    t.bare.push(performance.now() - t0);
    t0 = performance.now();
    await runOurs(p8);
    t.q8.push(performance.now() - t0);
    if (preds.length !== nQuestions) throw new Error('bench: wrong number of answers');
    log(`batch ${batch}, rep ${r + 1}: reader.fid ${(t.ours[r] / 1000).toFixed(2)} s, bare ${(t.bare[r] / 1000).toFixed(2)} s, reader.fid q8 ${(t.q8[r] / 1000).toFixed(2)} s (load ${loadavg()[0].toFixed(1)})`);
  }
  const qps = (xs) => nQuestions / (median(xs) / 1000);
  // ratios of each rep's adjacent runs (the machine's load drifts between reps), then their median
  const pairRatio = (num, den) => median(num.map((x, i) => den[i] / x));
  perBatch[batch] = {
    oursMs: t.ours.map(Math.round),
    bareMs: t.bare.map(Math.round),
    q8Ms: t.q8.map(Math.round),
    qpsOurs: Number(qps(t.ours).toFixed(4)),
    qpsBare: Number(qps(t.bare).toFixed(4)),
    qpsQ8: Number(qps(t.q8).toFixed(4)),
    ratio: Number(pairRatio(t.ours, t.bare).toFixed(3)),
    int8Speedup: Number(pairRatio(t.q8, t.ours).toFixed(3)),
    ratioOfMedians: Number((qps(t.ours) / qps(t.bare)).toFixed(3)),
    int8SpeedupOfMedians: Number((qps(t.q8) / qps(t.ours)).toFixed(3)),
  };
  log(`batch ${batch}: ratio ${perBatch[batch].ratio} (goal ≥ 0.95), int8 speed-up ${perBatch[batch].int8Speedup} (goal ≥ 2)`);
}
await encoder.release();
await decoder.release();

// --- 3: greedy-token agreement of q8 with fp32 ---------------------------------------------------------------------
async function agreement(dir) {
  const r32 = await loadT5Reader(ctx, readerSource(ctx, dir));
  const r8 = await loadT5Reader(ctx, readerSource(ctx, dir, 'q8'));
  const qs = Array.from({ length: nAgree }, (_, i) => ({
    question: sampleOf(i).question.replace('drink', ['drink', 'sport', 'animal', 'food'][i % 4]),
    passages: passagesOf(i, agreePassages).map((p) => p.text),
  }));
  let same = 0;
  let total = 0;
  let exact = 0;
  for (let i = 0; i < qs.length; i += 2) {
    const part = qs.slice(i, i + 2);
    const [a, b] = [await fidGenerate(r32, part, FID_KAT), await fidGenerate(r8, part, FID_KAT)];
    a.forEach((x, j) => {
      const y = b[j].tokens;
      const n = Math.max(x.tokens.length, y.length);
      for (let k = 0; k < n; k++) if (x.tokens[k] === y[k]) same++;
      total += n;
      if (x.tokens.length === y.length && x.tokens.every((t, k) => t === y[k])) exact++;
    });
  }
  return { tokens: Number((same / total).toFixed(3)), answers: Number((exact / qs.length).toFixed(3)), questions: qs.length, passages: agreePassages };
}
const int8TokenAgreement = {};
if (sections.includes('agreement')) try {
  let tinyCopy = modelDir;
  if (size !== 'tiny') {
    tinyCopy = join(mkdtempSync(join(tmpdir(), 'okvqa-bench-t5-tiny-')), 't5');
    cpSync(tinyDir, tinyCopy, { recursive: true });
    ensureQuantized(tinyCopy);
  }
  int8TokenAgreement.tiny = await agreement(tinyCopy);
  if (size !== 'tiny') {
    int8TokenAgreement[size] = await agreement(modelDir);
    rmSync(join(tinyCopy, '..'), { recursive: true, force: true });
  }
  log(`int8 greedy-token agreement with fp32: ${JSON.stringify(int8TokenAgreement)}`);
} catch (err) {
  errors.push({ section: 'int8TokenAgreement', error: err.message });
  log(`int8TokenAgreement failed: ${err.stack}`);
}
// --- 4: encoder-state cache when only the implicit passages change ------------------------------------------------------
let encoderCache = null;
if (sections.includes('cache')) {
  try {
    const { EncoderStateCache } = await import('../../dist/reader/encoder-cache.js');
    encoderCache = {};
    for (const dtype of ['q8', 'fp32']) {
      const r = await loadT5Reader(ctx, readerSource(ctx, modelDir, dtype));
      const explicit = passagesOf(0, 35).map((p) => p.text);
      const implicit = (k) => Array.from({ length: 5 }, (_, j) => `candidate: answer ${k}-${j} evidence: because it is ${filler}`);
      const q = (k) => ({ question: sampleOf(0).question, passages: [...explicit, ...implicit(k)] });
      await fidGenerate(r, [q(-1)], FID_KAT); // warm-up
      const withCache = [];
      const without = [];
      for (let rep = 0; rep < reps; rep++) {
        const cache = new EncoderStateCache(256 * 1024 * 1024);
        await fidGenerate(r, [q(rep * 2)], FID_KAT, cache); // first read fills the cache
        let t0 = performance.now();
        const [a] = await fidGenerate(r, [q(rep * 2 + 1)], FID_KAT, cache);
        withCache.push(performance.now() - t0);
        if (a.batchCachedPassages !== 35 || a.batchEncodedPassages !== 5) throw new Error(`expected 35 cached + 5 encoded, got ${a.batchCachedPassages} + ${a.batchEncodedPassages}`);
        t0 = performance.now();
        await fidGenerate(r, [q(rep * 2 + 1)], FID_KAT);
        without.push(performance.now() - t0);
      }
      encoderCache[dtype] = {
        withMs: withCache.map(Math.round),
        withoutMs: without.map(Math.round),
        speedup: Number((median(without) / median(withCache)).toFixed(2)),
      };
      log(`encoder cache (${dtype}): second read with 5 of 40 passages changed ${median(withCache).toFixed(0)} ms with the cache, ${median(without).toFixed(0)} ms without (${encoderCache[dtype].speedup}×)`);
    }
  } catch (err) {
    errors.push({ section: 'encoderCache', error: err.message });
    log(`encoderCache failed: ${err.stack}`);
  }
}
await ctx.close();
if (size === 'tiny') rmSync(join(modelDir, '..'), { recursive: true, force: true });

const largest = perBatch[Math.max(...batches)] ?? {};
const ratios = Object.values(perBatch).map((b) => b.ratio);
report({
  bench: 'fid',
  size,
  ...(modelArg ? { model: modelDir } : {}),
  questions: nQuestions,
  passages: nPassages,
  tokensPerPassage: L,
  decoderSteps: steps,
  reps,
  ratio: ratios.length ? Math.min(...ratios) : null,
  ratioGoal: 0.95,
  int8Speedup: largest.int8Speedup ?? null,
  int8SpeedupGoal: 2,
  int8TokenAgreement,
  batches: perBatch,
  encoderCache,
  cpus: availableParallelism(),
  loadavg: loadavg().map((x) => Number(x.toFixed(2))),
  ...(errors.length ? { errors } : {}),
});
if (errors.length) process.exit(1);
