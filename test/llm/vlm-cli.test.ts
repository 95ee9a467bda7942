/**
 * Pipelines `vlm`, `vlm-kat` and `pica-qcap` end to end at the loopback server: `okvqa run` and `okvqa ask` (the built
 * CLI, npm run build first) and `createAnswerer().answer()` on the bundled photos; a server that refuses images stops
 * `okvqa run` once, in the pre-flight, before any question.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnswerer } from '../../src/answerer.js';
import { sha256 } from '../../src/core/hash.js';
import { encodeImage } from '../../src/llm/image-part.js';
import { cleanEnv } from '../helpers/cli.js';
import { FIXTURES, ROOT } from './helpers.js';
import { completionReply, TestLlmServer, textOf } from './server.js';

function okvqa(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin', 'okvqa.js'), ...args], { cwd: ROOT, env: { ...cleanEnv(), ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
const trace = (dir: string) => readFileSync(join(dir, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

const SHARED = join(ROOT, '..', 'shared', 'fixtures', 'images');
// ../shared's photos and the package's demo images (the same coffee and astronaut photos, byte for byte).
const PHOTOS = [
  ...['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'].map((f) => join(SHARED, f)),
  ...['coffee.png', 'astronaut.png'].map((f) => join(ROOT, 'test', 'fixtures', 'images', f)),
];
/** What the scripted VLM answers for a photo: its name (chat replies are chosen by the image received). */
const nameOf = (p: string) => basename(p).replace(/\.\w+$/, '');
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-vlm-cli-'));
const dataPath = join(tmp, 'data.json');
let server: TestLlmServer;

/** The scripted model: chat (the VLM) answers by the image received, so each photo gets its own answer; completions (PICa / KAT's LLM) say "vine". */
async function vlmAnswers(): Promise<Map<string, string>> {
  const bySha = new Map<string, string>();
  for (const p of PHOTOS) bySha.set((await encodeImage(readFileSync(p), p, { maxSide: 768, quality: 90 })).sha256, nameOf(p));
  return bySha;
}

beforeAll(async () => {
  server = await new TestLlmServer().start();
  const bySha = await vlmAnswers();
  server.handler = (body) => {
    if (!Array.isArray(body.messages)) return completionReply(body, { text: ' vine', tokens: [{ token: ' vine', logprob: -0.2 }] });
    const url: string = body.messages[0].content.find((p: { type: string }) => p.type === 'image_url')?.image_url.url ?? '';
    const sha = sha256(Buffer.from(url.replace(/^data:image\/jpeg;base64,/, ''), 'base64'));
    return completionReply(body, { text: `${bySha.get(sha) ?? 'unknown image'}.`, tokens: [{ token: 'answer', logprob: -0.1 }, { token: '.', logprob: -0.01 }] });
  };
  // The three fixture questions' COCO images: bundled photos under COCO file names.
  const dir = join(tmp, 'val2014');
  mkdirSync(dir);
  const ids = (JSON.parse(readFileSync(join(FIXTURES, 'val_questions.json'), 'utf8')).questions as { image_id: number; question_id: number }[]);
  ids.forEach((q, i) => symlinkSync(PHOTOS[i]!, join(dir, `COCO_val2014_${String(q.image_id).padStart(12, '0')}.png`)));
  const f = (n: string) => join(FIXTURES, n);
  const qcaps = join(tmp, 'question_captions.json');
  writeFileSync(qcaps, JSON.stringify(Object.fromEntries(ids.map((q) => [String(q.question_id), `question-aware caption of ${q.question_id}`]))));
  writeFileSync(
    dataPath,
    JSON.stringify({
      dataset: 'okvqa',
      questions: f('val_questions.json'),
      annotations: f('val_annotations.json'),
      images: dir,
      questionCaptions: qcaps,
      examples: { questions: f('train_questions.json'), annotations: f('train_annotations.json'), captions: f('train_captions.json') },
    }),
  );
});
afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const env = (cache: string) => ({ OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'test', OKVQA_VLM_MODEL: 'test-vlm', OKVQA_LLM_MODEL: 'test-davinci', OKVQA_CACHE_PATH: join(tmp, cache) });

describe('okvqa run / ask with a vision-language model', () => {
  it('okvqa run vlm answers every question from its photo; the trace records prompt and image, never its bytes; a rerun makes no call', async () => {
    server.requests.length = 0;
    const out = join(tmp, 'run-vlm');
    const r = await okvqa(['run', 'vlm', '--data', dataPath, '--out', out, '--no-progress'], env('vlm.sqlite'));
    expect(r.stderr).toContain('vlm: 3 answered, 0 failed');
    expect(r.code).toBe(0);
    expect(server.completionCalls).toHaveLength(4); // the pre-flight probe + one per question
    const t = trace(out);
    const ids = (JSON.parse(readFileSync(join(FIXTURES, 'val_questions.json'), 'utf8')).questions as { question_id: number }[]).map((q) => String(q.question_id));
    for (const q of t) {
      expect(q.prediction).toMatchObject({ answer: nameOf(PHOTOS[ids.indexOf(q.questionId)]!), method: 'vlm' });
      expect(q.nodes.answer.notes.prompt.prompt).toMatch(/^Question: .+\nAnswer the question about the image/);
      expect(q.nodes.answer.notes.prompt.image).toMatchObject({ width: expect.any(Number), height: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    }
    expect(readFileSync(join(out, 'trace.jsonl'), 'utf8')).not.toContain('base64');
    const again = await okvqa(['run', 'vlm', '--data', dataPath, '--out', join(tmp, 'run-vlm-2'), '--no-progress'], env('vlm.sqlite'));
    expect(again.code).toBe(0);
    expect(server.completionCalls).toHaveLength(5); // only the probe again
    // Replay: no server configured at all (the model named, as it is part of the key), the same predictions, not one request.
    const replayed = await okvqa(['run', 'vlm', '--data', dataPath, '--out', join(tmp, 'run-vlm-replay'), '--no-progress', '--cache', 'replay'], { OKVQA_CACHE_PATH: join(tmp, 'vlm.sqlite'), OKVQA_VLM_MODEL: 'test-vlm' });
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(readFileSync(join(tmp, 'run-vlm-replay', 'predictions.json'), 'utf8')).toBe(readFileSync(join(out, 'predictions.json'), 'utf8'));
    expect(server.completionCalls).toHaveLength(5);
  }, 90_000);

  it('a server whose model takes no images: one pre-flight error naming it, exit 2, no question sent', async () => {
    server.requests.length = 0;
    server.rejectImages = true;
    try {
      const r = await okvqa(['run', 'vlm', '--data', dataPath, '--out', join(tmp, 'refused'), '--no-progress'], env('refused.sqlite'));
      expect(r.code).toBe(2);
      expect(r.stderr.match(/image input not supported/g)).toHaveLength(1);
      expect(r.stderr).toMatch(/error: node "answer" \(reader\.vlm\): vlm\.model: .*refused a one-image test request to model test-vlm/);
      expect(r.stderr).toMatch(/refusing to start/);
      expect(server.completionCalls).toHaveLength(1);
    } finally {
      server.rejectImages = false;
    }
  }, 60_000);

  it('okvqa ask --pipeline vlm answers about a photo given as a file', async () => {
    const r = await okvqa(['ask', PHOTOS[3]!, 'What is this?', '--pipeline', 'vlm', '--json'], env('ask.sqlite'));
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ pipeline: 'vlm', ok: true, answer: 'rocket' });
  }, 60_000);

  it('okvqa run pica-qcap puts each question\'s own question-aware caption in PICa\'s prompt', async () => {
    server.requests.length = 0;
    const out = join(tmp, 'qcap');
    const r = await okvqa(['run', 'pica-qcap', '--data', dataPath, '--out', out, '--no-progress'], env('qcap.sqlite'));
    expect(r.stderr).toContain('pica-qcap: 3 answered, 0 failed');
    const questions = new Map((JSON.parse(readFileSync(join(FIXTURES, 'val_questions.json'), 'utf8')).questions as { question_id: number; question: string }[]).map((q) => [String(q.question_id), q.question]));
    for (const q of trace(out)) {
      expect(q.nodes.captions.output).toEqual([{ text: `question-aware caption of ${q.questionId}`, source: 'question-file' }]);
      expect(q.nodes.prompts.output[0].prompt.slice(-200)).toMatch(new RegExp(`\\nContext: question-aware caption of ${q.questionId}\\n===\\nQ: ${questions.get(q.questionId)!.replace('?', '\\?')}\\nA:$`));
      expect(q.prediction.answer).toBe('vine');
    }
  }, 60_000);
});

describe('A-OKVQA with a vision-language model', () => {
  it('okvqa run vlm lists the choices; predictions carry the direct answer and the multiple-choice pick, scored by the official metric', async () => {
    const val = (JSON.parse(readFileSync(join(ROOT, '..', 'shared', 'data', 'aokvqa', 'aokvqa_v1p0_val.json'), 'utf8')) as { image_id: number; question_id: string; choices: string[]; correct_choice_idx: number }[]).slice(0, 2);
    const dir = join(tmp, 'aok');
    mkdirSync(join(dir, 'images'), { recursive: true });
    writeFileSync(join(dir, 'val.json'), JSON.stringify(val));
    val.forEach((q, i) => symlinkSync(PHOTOS[i]!, join(dir, 'images', `${String(q.image_id).padStart(12, '0')}.jpg`)));
    writeFileSync(join(dir, 'data.json'), JSON.stringify({ dataset: 'aokvqa', questions: 'val.json', images: 'images' }));
    const saved = server.handler;
    // The scripted VLM picks the correct choice, written in capitals with a period.
    server.handler = (body) => {
      if (body.max_tokens === 1) return completionReply(body, { text: 'grey' });
      const q = val.find((x) => textOf(body).includes(x.choices.map((c) => `- ${c}`).join('\n')))!;
      return completionReply(body, { text: `${q.choices[q.correct_choice_idx]!.toUpperCase()}.`, tokens: null });
    };
    try {
      const out = join(tmp, 'aok-run');
      const r = await okvqa(['run', 'vlm', '--data', join(dir, 'data.json'), '--out', out, '--no-progress'], env('aok.sqlite'));
      expect(r.stderr).toContain('vlm: 2 answered, 0 failed');
      const preds = JSON.parse(readFileSync(join(out, 'predictions.json'), 'utf8'));
      for (const q of val) {
        const right = q.choices[q.correct_choice_idx]!;
        expect(preds[q.question_id]).toEqual({ direct_answer: right.toLowerCase().replace(/[.,]/g, ''), multiple_choice: right });
      }
      const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
      expect(metrics).toMatchObject({ dataset: 'aokvqa', n: 2, multipleChoice: 100, nMultipleChoice: 2 });
    } finally {
      server.handler = saved;
    }
  }, 60_000);
});

describe('createAnswerer().answer() with vlm and vlm-kat on the bundled photos', () => {
  it('vlm answers each photo (path or Buffer) with its own answer', async () => {
    server.requests.length = 0;
    const qa = createAnswerer({ pipeline: 'vlm', config: { llm: { baseURL: server.baseURL, apiKey: 'test' }, vlm: { model: 'test-vlm' }, cache: { mode: 'off' } } });
    try {
      const rs = await qa.answerMany(PHOTOS.map((p, i) => ({ image: i % 2 ? readFileSync(p) : p, question: 'What is shown?' })));
      expect(rs.map((r) => r.error?.message)).toEqual(PHOTOS.map(() => undefined));
      expect(rs.map((r) => r.answer)).toEqual(['astronaut', 'chelsea', 'coffee', 'rocket', 'coffee', 'astronaut']);
      expect(server.completionCalls.every((c) => c.images?.length === 1)).toBe(true);
    } finally {
      await qa.close();
    }
  }, 60_000);

  it("vlm-kat: KAT's explicit and implicit passages (tiny models, the bundled KB) read by the VLM with the photo", async () => {
    server.requests.length = 0;
    const qa = createAnswerer({
      pipeline: 'vlm-kat',
      profile: 'tiny',
      data: join(ROOT, 'test', 'fixtures', 'kat', 'data.json'),
      config: { llm: { baseURL: server.baseURL, apiKey: 'test', model: 'test-davinci' }, vlm: { model: 'test-vlm' }, cache: { mode: 'off' } },
    });
    try {
      const r = await qa.answer({ image: PHOTOS[1]!, question: 'What animal is this?' });
      expect(r.error?.message).toBeUndefined();
      expect(r.answer).toBe('chelsea');
      expect(r.passages).toHaveLength(41);
      expect(r.passages[40]!.text).toBe('candidate: vine evidence: vine');
      const chat = server.completionCalls.filter((c) => c.path === '/v1/chat/completions');
      expect(chat).toHaveLength(1);
      const text = textOf(chat[0]!.body);
      expect(text.startsWith('Knowledge that may help:\n1. title: ')).toBe(true);
      expect(text).toContain('\n41. candidate: vine evidence: vine\nQuestion: What animal is this?\n');
      expect(server.completionCalls.filter((c) => c.path === '/v1/completions').length).toBe(2); // PICa prompt + rationale
    } finally {
      await qa.close();
    }
  }, 120_000);
});
