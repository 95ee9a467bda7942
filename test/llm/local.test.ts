import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Cache } from '../../src/core/cache.js';
import { loadCaptions } from '../../src/data/captions.js';
import { LocalClient } from '../../src/llm/local.js';
import { getLlm, resolveLlmIdentity, TINY_LLM_ID } from '../../src/llm/service.js';
import { ensembleLogprob } from '../../src/stages/ensemble/logprob.js';
import { examplesRandom } from '../../src/stages/examples/random.js';
import { promptPica, promptParams } from '../../src/stages/prompt/pica.js';
import { FIXTURES, fixtureSamples, makeCtx, ROOT } from './helpers.js';

const MODEL_DIR = join(ROOT, 'assets', 'models', TINY_LLM_ID);
const expected = JSON.parse(readFileSync(join(MODEL_DIR, 'expected.json'), 'utf8')) as {
  cases: { prompt: string; tokens: { id: number; logprob: number }[] }[];
};
const tiny = { llm: { backend: 'local' as const }, models: { profile: 'tiny' as const } };

describe('embedded backend (transformers.js text generation, tiny generated GPT-2)', () => {
  it('auto backend without a server resolves to the local model', () => {
    const ctx = makeCtx({ config: { models: { profile: 'tiny' } } });
    expect(resolveLlmIdentity(ctx.config)).toEqual({ backend: 'local', model: TINY_LLM_ID, chat: false });
  });

  it('greedy tokens and per-token logprobs match the numpy reference (KV-cache generation loop)', async () => {
    const ctx = makeCtx({ config: tiny });
    const llm = await getLlm(ctx);
    expect(llm.client).toBeInstanceOf(LocalClient);
    for (const c of expected.cases) {
      const r = await llm.client.complete({ model: TINY_LLM_ID, prompt: c.prompt, maxTokens: 8, temperature: 0, logprobs: true });
      const text = String.fromCharCode(...c.tokens.map((t) => t.id));
      expect(r.text).toBe(text);
      expect(r.tokens!.map((t) => t.token).join('')).toBe(text);
      r.tokens!.forEach((t, i) => expect(t.logprob).toBeCloseTo(c.tokens[i]!.logprob, 4));
      expect(r.usage).toEqual({ promptTokens: Buffer.byteLength(c.prompt), completionTokens: 8 });
    }
    await ctx.resources.disposeAll();
  });

  it('stops at a stop sequence and scores only the tokens before it', async () => {
    const ctx = makeCtx({ config: tiny });
    const llm = await getLlm(ctx);
    const c = expected.cases[0]!;
    const full = String.fromCharCode(...c.tokens.map((t) => t.id));
    const stop = full[3]!; // a character the greedy continuation produces
    const cut = full.indexOf(stop);
    const r = await llm.client.complete({ model: TINY_LLM_ID, prompt: c.prompt, maxTokens: 8, temperature: 0, logprobs: true, stop: ['<never>', stop] });
    expect(r.text).toBe(full.slice(0, cut));
    expect(r.tokens).toHaveLength(cut);
    r.tokens!.forEach((t, i) => expect(t.logprob).toBeCloseTo(c.tokens[i]!.logprob, 4));
    expect(r.finishReason).toBe('stop');
    await ctx.resources.disposeAll();
  });

  it('runs PICa prompts end to end with logprobs, cached on rerun', async () => {
    const cache = new Cache(':memory:');
    const sample = fixtureSamples()[0]!;
    const captions = loadCaptions(join(FIXTURES, 'val_captions.tsv')).get(String(sample.imageId))!;
    const run = async () => {
      const ctx = makeCtx({ config: tiny, cache });
      const examples = await examplesRandom.run({ sample }, examplesRandom.params.parse({ shots: 2, ensemble: 2 }), ctx);
      const prompts = await promptPica.run({ sample, captions, tags: undefined, examples }, promptParams.parse({ shots: 2, ensemble: 2 }), ctx);
      const answer = await ensembleLogprob.run({ sample, prompts }, {}, ctx);
      await ctx.resources.disposeAll();
      return { ctx, prompts, answer };
    };
    const a = await run();
    expect(a.prompts).toHaveLength(2);
    for (const p of a.prompts) {
      expect(p.model).toBe(TINY_LLM_ID);
      expect(p.logprob).not.toBeNull();
      expect(p.logprob!).toBeLessThanOrEqual(0);
      expect(p.completion).not.toContain('\n');
    }
    expect(a.answer.method).toBe('logprob');
    expect(a.ctx.usageTotal.calls).toBe(2);
    const b = await run();
    expect(b.ctx.usageTotal).toMatchObject({ calls: 0, cachedCalls: 2 });
    expect(b.answer).toEqual(a.answer);
  });
});

describe('embedded backend model resolution', () => {
  it('defaults to a small instruct model by hub id; tiny profile always uses the generated model', () => {
    expect(resolveLlmIdentity(makeCtx().config)).toMatchObject({ backend: 'local', model: 'onnx-community/Qwen2.5-0.5B-Instruct' });
    expect(resolveLlmIdentity(makeCtx({ config: { llm: { model: 'org/x' } } }).config).model).toBe('org/x');
    expect(resolveLlmIdentity(makeCtx({ config: { llm: { model: 'gpt-3.5-turbo-instruct', backend: 'local' }, models: { profile: 'tiny' } } }).config).model).toBe(TINY_LLM_ID);
    expect(resolveLlmIdentity(makeCtx({ config: { llm: { baseURL: 'http://127.0.0.1:1/v1' } } }).config)).toEqual({ backend: 'openai', model: 'davinci-002', chat: false });
  });
});
