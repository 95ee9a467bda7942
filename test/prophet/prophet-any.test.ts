/**
 * `prophet-any`: Prophet's prompt and vote on an image with no COCO id, through createAnswerer (tiny models, loopback
 * LLM): caption from the captioning model, candidates from candidates.prior, examples by CLIP question + image
 * similarity, each example with its released candidates (or its answers' when the file has none).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnswerer, type Answerer } from '../../src/answerer.js';
import type { PromptResult } from '../../src/core/artifacts.js';
import { completionReply, TestLlmServer } from '../llm/server.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'test/fixtures/prophet');
const COFFEE = join(ROOT, 'test/fixtures/images/coffee.png');
const ASTRONAUT = join(ROOT, 'test/fixtures/images/astronaut.png');
const dir = mkdtempSync(join(tmpdir(), 'okvqa-prophet-any-'));

let server: TestLlmServer;
let qa: Answerer;

beforeAll(async () => {
  server = await new TestLlmServer().start();
  server.handler = (body) => completionReply(body, { text: ' The Espresso.', tokens: [{ token: ' The', logprob: -0.2 }, { token: ' Espresso.', logprob: -0.3 }] });
  // the example pool: the fixture's 160 train questions, their images stood in for by the two bundled photos
  const images = join(dir, 'train2014');
  mkdirSync(images);
  const trainQ = JSON.parse(readFileSync(join(FIX, 'train_questions.json'), 'utf8')).questions as { image_id: number }[];
  [...new Set(trainQ.map((q) => q.image_id))].forEach((id, i) =>
    symlinkSync(i % 2 ? ASTRONAUT : COFFEE, join(images, `COCO_train2014_${String(id).padStart(12, '0')}.png`)),
  );
  const f = (n: string) => join(FIX, n);
  writeFileSync(
    join(dir, 'data.json'),
    JSON.stringify({
      dataset: 'okvqa',
      questions: f('val_questions.json'),
      examples: { questions: f('train_questions.json'), annotations: f('train_annotations.json'), captions: f('captions.json'), images },
      prophet: { candidates: f('candidates.json'), examples: f('examples.json'), captions: f('captions.json') },
    }),
  );
  qa = createAnswerer({
    pipeline: 'prophet-any',
    profile: 'tiny',
    data: join(dir, 'data.json'),
    config: {
      models: { offline: true },
      cache: { path: join(dir, 'cache.sqlite') },
      llm: { backend: 'openai', baseURL: server.baseURL, apiKey: 'sk-test', model: 'test-model', timeoutMs: 5000, maxRetries: 0 },
    },
  });
}, 120_000);
afterAll(async () => {
  await qa?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('prophet-any on a bundled photo (tiny models, loopback LLM)', () => {
  it('answers with Prophet prompts built from the fallback stages, and votes', async () => {
    const r = await qa.answer({ image: COFFEE, question: 'What kind of drink is in the cup?' });
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.answer).toBe('espresso'); // prep_ans(" The Espresso.")
    expect(r.prediction?.method).toBe('vote');
    expect(r.prediction?.score).toBeCloseTo(5 * Math.exp(-0.5), 12);
    const prompts = r.nodes.prompts!.output as PromptResult[];
    expect(prompts).toHaveLength(5);
    expect(server.completionCalls).toHaveLength(5);
    const prior = r.nodes.prior!.output as { answer: string; score: number }[];
    expect(prior.length).toBeGreaterThan(0);
    const examples = r.nodes.examples!.output as { questionId: string; candidates: { answer: string }[]; context: string }[];
    expect(examples).toHaveLength(100);
    const similar = (r.nodes.similar!.output as { questionId: string }[]).map((e) => e.questionId);
    expect(new Set(examples.map((e) => e.questionId))).toEqual(new Set(similar)); // the CLIP-similar 100, shuffled
    expect(examples.map((e) => e.questionId)).not.toEqual(similar);
    const released = JSON.parse(readFileSync(join(FIX, 'candidates.json'), 'utf8')) as Record<string, { answer: string }[]>;
    expect(examples[0]!.candidates.map((c) => c.answer)).toEqual(released[examples[0]!.questionId]!.map((c) => c.answer));
    for (const [t, p] of prompts.entries()) {
      expect(p.prompt.startsWith('Please answer the question according to the context and candidate answers.')).toBe(true);
      expect(p.prompt.split('\n===\nAnswer:').length - 1).toBe(21); // 20 examples + the query
      expect(p.exampleIds).toEqual(examples.slice(t * 20, t * 20 + 20).map((e) => e.questionId));
      // the query: the model's caption, the question, the prior's top candidates with 2-decimal confidences
      expect(p.prompt).toContain('===\nQuestion: What kind of drink is in the cup?\n===\nCandidates: ');
      expect(p.prompt.endsWith(`Candidates: ${prior.slice(0, 10).map((c) => `${c.answer}(${c.score.toFixed(2)})`).join(', ')}\n===\nAnswer:`)).toBe(true);
    }
    expect(r.nodes.captions!.notes?.captionSource).toMatch(/model/);
    expect(r.nodes.candidates!.notes?.candidateSource).toMatch(/fallback/);
    expect(r.nodes.examples!.notes?.exampleSource).toMatch(/fallback/);
  }, 120_000);

  it('a dataset question the released files cover uses them (image-keyed caption, released candidates)', async () => {
    const q = JSON.parse(readFileSync(join(FIX, 'val_questions.json'), 'utf8')).questions[0] as { question_id: number; image_id: number; question: string };
    const r = await qa.answer({ image: COFFEE, question: q.question, imageId: q.image_id, questionId: String(q.question_id) });
    expect(r.error).toBeUndefined();
    const captions = JSON.parse(readFileSync(join(FIX, 'captions.json'), 'utf8')) as Record<string, string>;
    expect((r.nodes.captions!.output as { text: string }[])[0]!.text).toBe(captions[String(q.image_id)]);
    const released = JSON.parse(readFileSync(join(FIX, 'candidates.json'), 'utf8')) as Record<string, { answer: string }[]>;
    expect((r.nodes.candidates!.output as { answer: string }[]).map((c) => c.answer)).toEqual(released[String(q.question_id)]!.map((c) => c.answer));
    const similar = JSON.parse(readFileSync(join(FIX, 'examples.json'), 'utf8')) as Record<string, string[]>;
    const ids = (r.nodes.examples!.output as { questionId: string }[]).map((e) => e.questionId);
    expect(new Set(ids)).toEqual(new Set(similar[String(q.question_id)]!.slice(0, 100)));
  }, 120_000);
});
