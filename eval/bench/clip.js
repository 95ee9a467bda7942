#!/usr/bin/env node
// Benchmark: CLIP-architecture image embedding throughput (images/s) of our code path (embedImages: the model's own
// pre-processing, batched onnxruntime-node session via transformers.js, projection output, L2 normalisation) versus a
// bare onnxruntime-node `session.run` loop on the same .onnx file and batch size, fed pixel values prepared once.
//
//   npm run build && node eval/bench/clip.js [--json] [--size base|tiny] [--images 32] [--batch 8] [--reps 3]
//
// No real CLIP weights exist offline, so `--size base` (default) generates a RANDOM CLIP vision tower with ViT-B/32
// geometry (12 layers, width 768, 224 px, patch 32, projection 512; ~88M parameters, ~350 MB) into the OS temp dir at
// bench time (reused across runs, never committed). Random weights cost the same to run as trained ones.
// `--size tiny` uses the committed 2-layer test model (measures overhead, not model compute).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { AutoProcessor } from '@huggingface/transformers';
import { resolveConfig } from '../../dist/core/config.js';
import { createRunContext } from '../../dist/run-context.js';
import { embedImages } from '../../dist/models/clip.js';
import { fastPixelValues } from '../../dist/models/clip-pixels.js';
import { readImage } from '../../dist/image/load.js';
import { arg, median, report, root } from './_util.js';

const size = arg('size', 'base');
const nImages = Number(arg('images', '32'));
const batch = Number(arg('batch', '8'));
const reps = Number(arg('reps', '5'));
const json = process.argv.includes('--json');
const log = (m) => console.error(m);

let modelDir;
if (size === 'tiny') {
  modelDir = join(root, 'assets', 'models', 'okvqa-tiny', 'clip');
} else if (size === 'base') {
  modelDir = join(tmpdir(), 'okvqa-bench-clip-vit-b32-random');
  if (!existsSync(join(modelDir, 'onnx', 'vision_model.onnx'))) {
    log(`generating a random ViT-B/32 CLIP vision tower in ${modelDir} (once) …`);
    const r = spawnSync('/usr/bin/python3', [join(root, 'test', 'fixtures', 'models', 'generate.py'), 'clip-bench', modelDir], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('bench: model generation failed (needs /usr/bin/python3 with onnx + numpy)');
  }
} else {
  throw new Error(`--size must be base or tiny, got ${size}`);
}
const onnxFile = join(modelDir, 'onnx', 'vision_model.onnx');

// images: the committed test photos (and the shared fixtures when present), repeated to nImages
const dirs = [join(root, 'test', 'fixtures', 'images'), join(root, '..', 'shared', 'fixtures', 'images')].filter(existsSync);
const files = [...new Set(dirs.flatMap((d) => readdirSync(d).filter((f) => /\.(png|jpe?g)$/i.test(f)).map((f) => join(d, f))))];
const decoded = await Promise.all(files.map((f) => readImage(f)));
const images = Array.from({ length: nImages }, (_, i) => decoded[i % decoded.length].image);
log(`CLIP vision ${size}: ${onnxFile}; ${nImages} images (${files.length} distinct photos), batch ${batch}, ${reps} reps`);

// --- both paths, interleaved rep by rep so that load from other processes hits both alike -------------------------
const config = resolveConfig({ overrides: { models: { offline: true, dtype: 'fp32' }, cache: { mode: 'off' } } });
const ctx = createRunContext({ config });
const runOurs = () => embedImages(images, ctx, { model: modelDir, batchSize: batch, cache: false });
await embedImages(images.slice(0, batch), ctx, { model: modelDir, batchSize: batch, cache: false }); // load + warm-up

const processor = await AutoProcessor.from_pretrained(modelDir, { local_files_only: true });
const { pixel_values } = await processor(images);
const [, c, h, w] = pixel_values.dims;
const per = c * h * w;
const session = await ort.InferenceSession.create(onnxFile);
const feeds = [];
for (let s = 0; s < nImages; s += batch) {
  const n = Math.min(batch, nImages - s);
  feeds.push({ pixel_values: new ort.Tensor('float32', pixel_values.data.subarray(s * per, (s + n) * per), [n, c, h, w]) });
}
await session.run(feeds[0]); // warm-up

const ours = [];
const bare = [];
for (let r = 0; r < reps; r++) {
  let t0 = performance.now();
  const v = await runOurs();
  ours.push(performance.now() - t0);
  if (v.length !== nImages) throw new Error('bench: wrong number of embeddings');
  t0 = performance.now();
  for (const f of feeds) await session.run(f);
  bare.push(performance.now() - t0);
}
await session.release();
await ctx.close();

// pre-processing alone (part of our path, not of the bare loop): ours (fused fast path) and the stock processor
const pre = [];
const preStock = [];
for (let r = 0; r < reps; r++) {
  let t0 = performance.now();
  for (let s = 0; s < nImages; s += batch) {
    if (!(await fastPixelValues(images.slice(s, s + batch), processor.image_processor))) throw new Error('bench: fast path declined');
  }
  pre.push(performance.now() - t0);
  t0 = performance.now();
  for (let s = 0; s < nImages; s += batch) await processor(images.slice(s, s + batch));
  preStock.push(performance.now() - t0);
}

const oursIps = (nImages * 1000) / median(ours);
const bareIps = (nImages * 1000) / median(bare);
const preMs = median(pre) / nImages;
const figures = {
  bench: 'clip',
  model: size === 'base' ? 'random CLIP ViT-B/32 vision tower (generated)' : 'okvqa-tiny/clip (2 layers)',
  images: nImages,
  batch,
  reps,
  oursImagesPerSec: Math.round(oursIps * 100) / 100,
  bareImagesPerSec: Math.round(bareIps * 100) / 100,
  ratio: Math.round((oursIps / bareIps) * 1000) / 1000,
  // The same comparison with our measured pre-processing time taken out: what the stage adds around session.run.
  ratioExcludingPreprocessing: Math.round((median(bare) / (median(ours) - median(pre))) * 1000) / 1000,
  preprocessMsPerImage: Math.round(preMs * 100) / 100,
  stockProcessorMsPerImage: Math.round((median(preStock) / nImages) * 100) / 100,
  cpus: availableParallelism(),
  loadAverage1m: Math.round(loadavg()[0] * 100) / 100,
};
log(
  `embedImages: ${figures.oursImagesPerSec} images/s; bare session.run: ${figures.bareImagesPerSec} images/s; ` +
    `ratio ${figures.ratio}, ${figures.ratioExcludingPreprocessing} without pre-processing (pre-processing ${figures.preprocessMsPerImage} ms/image is inside ours; stock processor ${figures.stockProcessorMsPerImage}); load ${figures.loadAverage1m} on ${figures.cpus} CPUs`,
);
if (json) report(figures);
else console.log(figures);
