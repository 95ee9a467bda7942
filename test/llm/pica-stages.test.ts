import { mkdtempSync, readFileSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Example, Sample } from '../../src/core/artifacts.js';
import { Cache } from '../../src/core/cache.js';
import type { ConfigInput } from '../../src/core/config.js';
import { Resources } from '../../src/core/resources.js';
import { loadCaptions, loadTags } from '../../src/data/captions.js';
import { ensembleLogprob } from '../../src/stages/ensemble/logprob.js';
import { examplesRandom } from '../../src/stages/examples/random.js';
import { examplesAnswerAware, examplesClipSim, examplesQuestionSim } from '../../src/stages/examples/similar.js';
import { getExamplePool } from '../../src/stages/examples/pool.js';
import { processAnswer } from '../../src/llm/pica.js';
import { promptPica, promptParams } from '../../src/stages/prompt/pica.js';
import { completionReply, TestLlmServer } from './server.js';
import { FIXTURES, fixtureSamples, makeCtx, ROOT, type TestCtx } from './helpers.js';

const GOLDEN = join(FIXTURES, '..', 'golden');
let server: TestLlmServer;
const samples = fixtureSamples();
const sample = samples[0]!; // 3397615 "Name the type of plant this is?"
const captions = loadCaptions(join(FIXTURES, 'val_captions.tsv'));
const tags = loadTags(join(FIXTURES, 'val_tags.tsv'));
const capsOf = (s: Sample) => captions.get(String(s.imageId))!;
const tagsOf = (s: Sample) => tags.get(String(s.imageId))!;

beforeAll(async () => {
  server = await new TestLlmServer().start();
});
afterAll(async () => {
  await server.stop();
});
beforeEach(() => {
  server.requests.length = 0;
  server.handler = (body) => completionReply(body, { text: ' fern', tokens: [{ token: ' fern', logprob: -0.1 }] });
});

function llmConfig(extra: Partial<NonNullable<ConfigInput['llm']>> = {}): ConfigInput {
  return { llm: { backend: 'openai', baseURL: server.baseURL, model: 'test-davinci', timeoutMs: 2000, maxRetries: 2, ...extra } };
}

async function examplesFor(ctx: TestCtx, s: Sample): Promise<Example[]> {
  return examplesRandom.run({ sample: s }, examplesRandom.params.parse({}), { ...ctx, questionId: s.questionId });
}

async function runPica(ctx: TestCtx, s: Sample, params: Record<string, unknown> = {}, withTags = true) {
  const examples = await examplesFor(ctx, s);
  const prompts = await promptPica.run(
    { sample: s, captions: capsOf(s), tags: withTags ? tagsOf(s) : undefined, examples },
    promptParams.parse(params),
    { ...ctx, questionId: s.questionId },
  );
  const answer = await ensembleLogprob.run({ sample: s, prompts }, {}, ctx);
  return { examples, prompts, answer };
}

/** PICa's prompt, built the way gpt3_api_okvqa.py builds it (string concatenation, no template). */
function picaReference(exs: Example[], context: string, question: string): string {
  let prompt = 'Please answer the question according to the above context.\n===\n';
  for (const e of exs) {
    prompt += `Context: ${e.context}\n===\n`;
    prompt += `Q: ${e.question}\nA: ${e.answer}\n\n===\n`;
  }
  prompt += `Context: ${context}\n===\n`;
  prompt += `Q: ${question}\nA:`;
  return prompt;
}

describe('example selection', () => {
  it('examples.random: 16 x 5 distinct examples, reproducible per seed and question', async () => {
    const ctx = makeCtx();
    const a = await examplesFor(ctx, sample);
    const b = await examplesFor(makeCtx(), sample);
    const other = await examplesFor(ctx, samples[1]!);
    const reseeded = await examplesFor(makeCtx({ config: { seed: 7 } }), sample);
    expect(a).toHaveLength(80);
    expect(new Set(a.map((e) => e.questionId)).size).toBe(80);
    expect(b).toEqual(a);
    expect(other.map((e) => e.questionId)).not.toEqual(a.map((e) => e.questionId));
    expect(reseeded.map((e) => e.questionId)).not.toEqual(a.map((e) => e.questionId));
    // PICa's example answer is the first annotated answer (answer_dict[key][0]).
    for (const e of a) expect(e.answer).toBe(e.answers[0]);
  });

  it('examples.question-sim (tfidf): the 80 most similar, most similar first', async () => {
    const ctx = makeCtx();
    const params = examplesQuestionSim.params.parse({ encoder: 'tfidf' });
    const exs = await examplesQuestionSim.run({ sample }, params, ctx);
    expect(exs).toHaveLength(80);
    expect(new Set(exs.map((e) => e.questionId)).size).toBe(80);
    const sims = exs.map((e) => e.similarity!);
    expect([...sims].sort((x, y) => y - x)).toEqual(sims);
    expect(sims[0]).toBeGreaterThan(0);
    expect(exs[0]!.question.toLowerCase()).toMatch(/plant|type|name/);
  });

  it('fails clearly without a pool or without pool captions', async () => {
    const ctx = makeCtx({ data: { dataset: 'okvqa' } });
    await expect(examplesFor(ctx, sample)).rejects.toThrow(/need a pool/);
    const data = { ...makeCtx().data };
    data.examples = { ...data.examples!, captions: undefined } as any;
    delete (data.examples as any).captions;
    await expect(examplesFor(makeCtx({ data }), sample)).rejects.toThrow(/need captions/);
  });
});

describe('prompt.pica against an OpenAI-compatible server', () => {
  it('sends PICa prompts byte-exact (golden file) with PICa request params', async () => {
    const ctx = makeCtx({ config: llmConfig() });
    const { examples, prompts, answer } = await runPica(ctx, sample);
    expect(prompts).toHaveLength(5);
    const calls = server.completionCalls;
    expect(calls).toHaveLength(5);
    for (const c of calls) {
      expect(c.path).toBe('/v1/completions');
      expect(c.body).toEqual({ model: 'test-davinci', prompt: c.body.prompt, max_tokens: 5, temperature: 0, logprobs: 1, stop: ['\n', '<|endoftext|>'] });
    }
    // prompt k uses examples k*16 … k*16+15
    const context = 'a bathroom with a glass shower door next to a toilet.. toilet, wall, tub, ceiling, indoor';
    for (let k = 0; k < 5; k++) {
      expect(prompts[k]!.prompt).toBe(picaReference(examples.slice(k * 16, k * 16 + 16), context, sample.question));
      expect(prompts[k]!.exampleIds).toEqual(examples.slice(k * 16, k * 16 + 16).map((e) => e.questionId));
    }
    expect(new Set(prompts.map((p) => p.prompt)).size).toBe(5);
    const golden = join(GOLDEN, 'pica-3397615-prompt0.txt');
    if (process.env.UPDATE_GOLDEN) {
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(golden, prompts[0]!.prompt);
    }
    expect(existsSync(golden)).toBe(true);
    expect(prompts[0]!.prompt).toBe(readFileSync(golden, 'utf8'));
    expect(calls.map((c) => c.body.prompt).sort()).toEqual(prompts.map((p) => p.prompt).sort());
    expect(answer).toEqual({ answer: 'fern', score: -0.1, method: 'logprob' });
    expect(ctx.usageTotal).toMatchObject({ calls: 5, cachedCalls: 0, promptTokens: 500, completionTokens: 5 });
  });

  it('caption-only context without tags', async () => {
    const ctx = makeCtx({ config: llmConfig() });
    const { prompts } = await runPica(ctx, sample, {}, false);
    expect(prompts[0]!.prompt.endsWith('Context: a bathroom with a glass shower door next to a toilet.\n===\nQ: Name the type of plant this is?\nA:')).toBe(true);
  });

  it('the answer with the highest summed logprob wins; without logprobs, majority vote (noted)', async () => {
    const ctx = makeCtx({ config: llmConfig() });
    const examples = await examplesFor(ctx, sample);
    const script = [
      { text: ' Dog', lp: [-3] },
      { text: ' the cat.', lp: [-0.5, -0.5, -0.1] },
      { text: ' cat', lp: [-2] },
      { text: ' bird', lp: [-0.4, -0.1] },
      { text: ' cat', lp: [-1] },
    ];
    const kOf = (prompt: string) => {
      for (let k = 0; k < 5; k++) if (prompt.includes(picaReference(examples.slice(k * 16, k * 16 + 16), '', '').split('Context: \n')[0]!)) return k;
      throw new Error('unknown prompt');
    };
    let withLogprobs = true;
    server.handler = (body) => {
      const s = script[kOf(body.prompt)]!;
      return completionReply(body, { text: s.text, tokens: withLogprobs ? s.lp.map((logprob, i) => ({ token: `t${i}`, logprob })) : null });
    };
    const r1 = await runPica(ctx, sample);
    expect(r1.prompts.map((p) => p.answer)).toEqual(['dog', 'cat', 'cat', 'bird', 'cat']);
    expect(r1.prompts.map((p) => p.logprob)).toEqual([-3, -1.1, -2, -0.5, -1]);
    expect(r1.answer).toEqual({ answer: 'bird', score: -0.5, method: 'logprob' });

    withLogprobs = false;
    const ctx2 = makeCtx({ config: llmConfig() });
    const r2 = await runPica(ctx2, sample);
    expect(r2.prompts.every((p) => p.logprob === null)).toBe(true);
    expect(r2.answer).toEqual({ answer: 'cat', score: 3 / 5, method: 'vote' });
    expect(String(ctx2.notes.fallback)).toMatch(/majority vote/);
  });

  it('chat completions with llm.chat', async () => {
    const ctx = makeCtx({ config: llmConfig({ chat: true }) });
    server.handler = (body) => completionReply(body, { text: 'Fern', tokens: [{ token: 'Fern', logprob: -0.2 }] });
    const { prompts, answer } = await runPica(ctx, sample);
    const c = server.completionCalls[0]!;
    expect(c.path).toBe('/v1/chat/completions');
    expect(c.body.messages).toEqual([{ role: 'user', content: expect.stringMatching(/^Please answer the question/) }]);
    expect(c.body.logprobs).toBe(true);
    expect(c.body.max_tokens).toBe(5);
    expect(prompts[0]!.logprob).toBe(-0.2);
    expect(answer.answer).toBe('fern');
  });

  it('caches every call: a rerun with a fresh run context makes zero requests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'okvqa-llm-'));
    const cachePath = join(dir, 'cache.sqlite');
    const c1 = new Cache(cachePath);
    const first = await runPica(makeCtx({ config: llmConfig(), cache: c1 }), sample);
    c1.close();
    expect(server.completionCalls).toHaveLength(5);
    server.requests.length = 0;
    const c2 = new Cache(cachePath);
    const ctx2 = makeCtx({ config: llmConfig(), cache: c2, resources: new Resources() });
    const second = await runPica(ctx2, sample);
    expect(server.completionCalls).toHaveLength(0);
    expect(second.answer).toEqual(first.answer);
    // The artifact is the same whether its completions came from the server or the cache (no run-time flag inside it,
    // so nodes downstream keep their cache keys); the cache hits are in the trace notes instead.
    expect(second.prompts).toEqual(first.prompts);
    expect(second.prompts.some((p) => 'cached' in p)).toBe(false);
    expect(ctx2.notes.cachedCompletions).toBe(5);
    expect(ctx2.usageTotal).toMatchObject({ calls: 0, cachedCalls: 5 });
    // replay mode: hits work, a miss is an error
    const c3 = new Cache(cachePath, 'replay');
    await expect(runPica(makeCtx({ config: llmConfig(), cache: c3 }), sample)).resolves.toBeTruthy();
    await expect(runPica(makeCtx({ config: llmConfig(), cache: c3 }), samples[1]!)).rejects.toThrow(/cache miss in replay mode/);
    expect(server.completionCalls).toHaveLength(0);
    c2.close();
    c3.close();
  });
});

describe('errors and retries (the SDK is the only retry layer)', () => {
  it('retries 429 honouring Retry-After, and 500', async () => {
    let n = 0;
    server.handler = (body) => {
      n++;
      if (n === 1) return { status: 429, headers: { 'retry-after-ms': '5' }, json: { error: { message: 'slow down' } } };
      if (n === 2) return { status: 500, headers: { 'retry-after-ms': '5' }, json: { error: { message: 'oops' } } };
      return completionReply(body, { text: ' fern' });
    };
    const ctx = makeCtx({ config: llmConfig({ concurrency: 1 }) });
    const { answer } = await runPica(ctx, sample);
    expect(answer.answer).toBe('fern');
    expect(server.completionCalls).toHaveLength(7);
  });

  it('does not retry 400/401 and names the status', async () => {
    for (const status of [400, 401]) {
      server.requests.length = 0;
      server.handler = () => ({ status, json: { error: { message: 'bad request' } } });
      const ctx = makeCtx({ config: llmConfig({ concurrency: 1 }) });
      await expect(runPica(ctx, sample)).rejects.toThrow(new RegExp(`HTTP ${status}`));
      // one request, no retry; the question's other (queued) prompts are cancelled once one fails
      expect(server.completionCalls).toHaveLength(1);
    }
  });

  it('times out, retries a bounded number of times, then fails', async () => {
    server.handler = (body) => ({ ...completionReply(body, { text: ' fern' }), delayMs: 400 });
    const ctx = makeCtx({ config: llmConfig({ timeoutMs: 50, maxRetries: 1, concurrency: 1 }) });
    const examples = await examplesFor(ctx, sample);
    await expect(
      promptPica.run({ sample, captions: capsOf(sample), tags: undefined, examples }, promptParams.parse({ ensemble: 1 }), ctx),
    ).rejects.toThrow(/timed out/i);
    expect(server.completionCalls).toHaveLength(2);
  });

  it('a malformed response fails that question with a clear error; other questions go on', async () => {
    server.handler = (body) =>
      body.prompt.includes('Who leaves a toilet like this?\nA:') ? { json: { id: 'x', choices: [] } } : completionReply(body, { text: ' yes' });
    const results = await Promise.allSettled(samples.map((s) => runPica(makeCtx({ config: llmConfig() }), s)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/malformed LLM response: no "choices"/);
  });
});

describe('CLIP example selection (tiny generated CLIP)', () => {
  const tinyCtx = () => makeCtx({ config: { models: { profile: 'tiny' } } });

  it('examples.question-sim (clip): 80 distinct examples ranked by CLIP text similarity, reproducible', async () => {
    const ctx = tinyCtx();
    const params = examplesQuestionSim.params.parse({ encoder: 'clip' });
    const a = await examplesQuestionSim.run({ sample }, params, ctx);
    expect(a).toHaveLength(80);
    expect(new Set(a.map((e) => e.questionId)).size).toBe(80);
    const sims = a.map((e) => e.similarity!);
    expect([...sims].sort((x, y) => y - x)).toEqual(sims);
    // a question identical to a pool question ranks that question first (cosine 1)
    const pool = (await import('../../src/stages/examples/pool.js')).getExamplePool(ctx);
    const twin = (await pool).items[37]!;
    const b = await examplesQuestionSim.run({ sample: { ...sample, questionId: 'other', question: twin.question } }, params, ctx);
    expect(b[0]!.question).toBe(twin.question);
    expect(b[0]!.similarity).toBeCloseTo(1, 4);
    await ctx.resources.disposeAll();
  });

  it('examples.clip-sim says clearly that the pool images are missing', async () => {
    const ctx = tinyCtx();
    const withImage = { ...sample, imagePath: join(ROOT, 'test/fixtures/images/coffee.png') };
    await expect(examplesClipSim.run({ sample: withImage }, examplesClipSim.params.parse({}), ctx)).rejects.toThrow(
      /needs the images of the example pool: 120 of 120 example questions have no image file — set "examples.images"/,
    );
    await expect(examplesClipSim.run({ sample }, examplesClipSim.params.parse({}), ctx)).rejects.toThrow(/has no image path/);
    await ctx.resources.disposeAll();
  });
});

describe('REVIVE-style prompts', () => {
  it('template revive with `{caption} + {tags}` contexts', async () => {
    const ctx = makeCtx({ config: llmConfig() });
    const { prompts } = await runPica(ctx, sample, { template: 'revive', contextStyle: 'revive', ensemble: 1 });
    const p = prompts[0]!.prompt;
    expect(p.startsWith('Please answer the question according to the above context.\n===\ncontext: ')).toBe(true);
    expect(p.endsWith('\n===\ncontext: a bathroom with a glass shower door next to a toilet. + toilet, wall, tub, ceiling, indoor. question: Name the type of plant this is?\nanswer:')).toBe(true);
    expect(p.split('\n===\n')).toHaveLength(18);
  });
});

describe('answer-aware example selection', () => {
  it('promotes pool examples whose answers match the candidates', async () => {
    const ctx = makeCtx();
    const params = examplesAnswerAware.params.parse({ shots: 4, ensemble: 2 });
    const plain = await examplesAnswerAware.run({ sample, candidates: [] }, params, ctx);
    expect(String(ctx.notes['answer-aware'])).toMatch(/question similarity only/);
    // pick an answer that occurs in the pool but not among the plain top 8
    const pool = await getExamplePool(ctx);
    const target = pool.items.find((it) => !plain.some((e) => e.questionId === it.questionId))!;
    const cand = processAnswer(target.answers[0]!);
    const aware = await examplesAnswerAware.run({ sample, candidates: [{ answer: target.answers[0]!, score: 0.9 }] }, params, ctx);
    expect(aware).toHaveLength(8);
    expect(aware.some((e) => e.questionId === target.questionId)).toBe(true);
    expect(aware[0]!.answers.map(processAnswer)).toContain(cand);
  });
});

describe('ensemble.logprob for A-OKVQA', () => {
  it('adds the multiple-choice pick the answer names (or the nearest choice)', async () => {
    const ctx = makeCtx();
    const prompts = [
      { index: 0, prompt: '', completion: ' red wine', answer: 'red wine', logprob: -0.2 },
      { index: 1, prompt: '', completion: ' beer', answer: 'beer', logprob: -1 },
    ];
    const mc = { ...sample, choices: ['Beer', 'wine', 'water', 'milk'] };
    expect(await ensembleLogprob.run({ sample: mc, prompts }, {}, ctx)).toEqual({ answer: 'red wine', score: -0.2, method: 'logprob', multipleChoice: 'wine' });
    expect((await ensembleLogprob.run({ sample, prompts }, {}, ctx)).multipleChoice).toBeUndefined();
  });
});
