// Shared by the ask and pipeline benchmarks: the models (tiny, or real-shaped random ones generated under the OS temp
// dir), a question set of N distinct images, and a loopback OpenAI-compatible LLM server that answers at once.
//
// --size base: models.localDir = <tmp>/okvqa-bench-models holding, in hub layout,
//   Xenova/clip-vit-base-patch16   CLIP ViT-B/16 (vision 768 x 12 at 224 px, text 512 x 12)   generate.py bench-models
//   Xenova/owlvit-base-patch32     OWL-ViT B/32 image tower (768 x 12 at 768 px, 576 boxes)     generate.py bench-models
//   Xenova/flan-t5-base            flan-t5-base geometry (+ its int8 files)                     generate_t5.py bench
// and the fixture knowledge base re-embedded with that CLIP (`okvqa kb embed`). The captioner stays the tiny one (no
// real-shaped generator; KAT's and REVIVE's data carry caption files, so only `ask` runs it). Random weights cost what
// trained ones cost; nothing here is committed.
// --size tiny: the committed tiny models (a quick self-test of the bench).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './_util.js';

const log = (m) => console.error(m);
const PY = '/usr/bin/python3';

function run(cmd, args, env = {}) {
  // the child's stdout goes to stderr: a bench's stdout is its one JSON line
  const r = spawnSync(cmd, args, { stdio: ['ignore', 2, 2], env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`bench: ${cmd} ${args.join(' ')} failed (exit ${r.status})`);
}

/** The real-shaped random models (generated once into the OS temp dir) as a models.localDir. */
export function baseModels() {
  const dir = join(tmpdir(), 'okvqa-bench-models');
  if (!existsSync(join(dir, 'Xenova', 'owlvit-base-patch32', 'onnx', 'model.onnx'))) {
    log(`generating real-shaped random CLIP B/16 and OWL-ViT B/32 into ${dir} (once) …`);
    run(PY, [join(root, 'test', 'fixtures', 'models', 'generate.py'), 'bench-models', dir]);
  }
  const t5 = join(tmpdir(), 'okvqa-bench-t5-base-random');
  if (!existsSync(join(t5, 'onnx', 'decoder_model_merged.onnx'))) {
    log(`generating a random flan-t5-base-shaped reader in ${t5} (once, ~1 GB) …`);
    run(PY, [join(root, 'test', 'fixtures', 'models', 'generate_t5.py'), 'bench', t5]);
  }
  if (!existsSync(join(t5, 'onnx', 'decoder_model_merged_quantized.onnx'))) {
    log(`quantizing ${t5} to int8 …`);
    run(PY, ['-m', 'okvqa_py.quantize', join(t5, 'onnx')], { PYTHONPATH: join(root, 'python') });
  }
  const link = join(dir, 'Xenova', 'flan-t5-base');
  if (!existsSync(link)) symlinkSync(t5, link);
  return dir;
}

/** A loopback OpenAI-compatible server that answers every completion at once (with log-probabilities). */
export async function startLlm() {
  let calls = 0;
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    calls++;
    const text = /because/i.test(String(body.prompt ?? '')) ? ' it is hot and brown.' : ' tea';
    const toks = text.trim().split(' ').map((t, i) => ({ token: i ? ` ${t}` : text.startsWith(' ') ? ` ${t}` : t, logprob: -0.1 * (i + 1) }));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({
      id: 'cmpl-bench', object: 'text_completion', created: 0, model: body.model,
      choices: [{ index: 0, text, finish_reason: 'stop',
        logprobs: body.logprobs ? { tokens: toks.map((t) => t.token), token_logprobs: toks.map((t) => t.logprob), top_logprobs: null, text_offset: [] } : null }],
      usage: { prompt_tokens: 100, completion_tokens: toks.length, total_tokens: 100 + toks.length },
    }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    baseURL: `http://127.0.0.1:${server.address().port}/v1`,
    calls: () => calls,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/**
 * A question set of `n` questions on `n` distinct image files (the fixture's photos, each copy made distinct by bytes
 * after the PNG's end, so no image-level work is shared), with the fixture's captions, example pool and knowledge base
 * (re-embedded with the bench CLIP for --size base). Returns the data.json path and a cleanup.
 */
export function benchData(n, modelsDir) {
  const fx = join(root, 'test', 'fixtures', 'kat');
  const dir = mkdtempSync(join(tmpdir(), 'okvqa-bench-data-'));
  mkdirSync(join(dir, 'images'));
  const src = JSON.parse(readFileSync(join(fx, 'val_questions.json'), 'utf8')).questions;
  const anns = JSON.parse(readFileSync(join(fx, 'val_annotations.json'), 'utf8')).annotations;
  const caps = readFileSync(join(fx, 'val_captions.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
  const questions = [];
  const annotations = [];
  const captions = [];
  for (let i = 0; i < n; i++) {
    const q = src[i % src.length];
    const a = anns.find((x) => x.question_id === q.question_id);
    const id = 900000 + i;
    const png = readFileSync(join(fx, 'images', `COCO_val2014_${String(q.image_id).padStart(12, '0')}.png`));
    writeFileSync(join(dir, 'images', `COCO_val2014_${String(id).padStart(12, '0')}.png`), Buffer.concat([png, Buffer.from(`bench copy ${i}`)]));
    questions.push({ ...q, image_id: id, question_id: id * 10 });
    annotations.push({ ...a, image_id: id, question_id: id * 10 });
    const c = caps.find((x) => Number(x[0]) === q.image_id) ?? caps[0];
    captions.push(`${id}\t${c[1]}`);
  }
  const info = { info: {}, license: {}, data_subtype: 'val2014' };
  writeFileSync(join(dir, 'val_questions.json'), JSON.stringify({ ...info, questions }));
  writeFileSync(join(dir, 'val_annotations.json'), JSON.stringify({ ...info, annotations }));
  writeFileSync(join(dir, 'val_captions.tsv'), `${captions.join('\n')}\n`);
  let kb = join(fx, 'kb.sqlite');
  if (modelsDir) {
    kb = join(dir, 'kb.sqlite');
    copyFileSync(join(fx, 'kb.sqlite'), kb);
    log('embedding the fixture knowledge base with the bench CLIP B/16 …');
    run(process.execPath, [join(root, 'bin', 'okvqa.js'), 'kb', 'embed', '--kb', kb, '--model', 'Xenova/clip-vit-base-patch16', '--quiet', '--offline', '--set', `models.localDir=${modelsDir}`]);
  }
  const llmFx = join(root, 'test', 'llm', 'fixtures');
  const data = {
    dataset: 'okvqa',
    questions: 'val_questions.json',
    annotations: 'val_annotations.json',
    captions: 'val_captions.tsv',
    images: 'images',
    knowledge: kb,
    examples: {
      questions: join(llmFx, 'train_questions.json'),
      annotations: join(llmFx, 'train_annotations.json'),
      captions: join(llmFx, 'train_captions.json'),
    },
  };
  writeFileSync(join(dir, 'data.json'), JSON.stringify(data, null, 1));
  return { file: join(dir, 'data.json'), dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Config overrides and node sets for a bench answerer (models by size, the loopback LLM, cache off). */
export function benchConfig(size, llm, modelsDir, readerDtype) {
  const config = {
    cache: { mode: 'off' },
    llm: { backend: 'openai', baseURL: llm.baseURL, apiKey: 'bench', model: 'bench-llm' },
    models: size === 'tiny' ? { profile: 'tiny', offline: true } : { profile: 'default', offline: true, localDir: modelsDir },
  };
  // the bench's questions repeat the fixture's few photos (pixels) and questions: reader.fid's encoder cache would serve
  // their passages from earlier questions, which a real question set would not, so it is off
  const sets = [...(readerDtype && readerDtype !== 'fp32' ? [`nodes.answer.params.dtype=${readerDtype}`] : []), 'nodes.answer.params.encoderCacheMb=0'];
  return { config, sets };
}

/** Captioner for --size base: the tiny one under the hub id (no real-shaped captioner generator). */
export function linkTinyCaptioner(modelsDir) {
  const link = join(modelsDir, 'Xenova', 'vit-gpt2-image-captioning');
  if (!existsSync(link)) symlinkSync(join(root, 'assets', 'models', 'okvqa-tiny', 'captioner'), link);
}
