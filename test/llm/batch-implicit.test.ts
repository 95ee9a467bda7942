import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Cache } from '../../src/core/cache.js';
import type { ConfigInput } from '../../src/core/config.js';
import { loadCaptions } from '../../src/data/captions.js';
import { collectBatches, pollBatches, readState, submitBatches, waitAndCollect } from '../../src/llm/batch.js';
import { createOpenAISdk } from '../../src/llm/openai.js';
import { Gate } from '../../src/llm/gate.js';
import { batchDir } from '../../src/llm/service.js';
import { ensembleLogprob } from '../../src/stages/ensemble/logprob.js';
import { examplesRandom } from '../../src/stages/examples/random.js';
import { implicitPassages, implicitRationale } from '../../src/stages/implicit/rationale.js';
import { promptPica, promptParams } from '../../src/stages/prompt/pica.js';
import { completionReply, TestLlmServer } from './server.js';
import { FIXTURES, fixtureSamples, makeCtx, type TestCtx } from './helpers.js';

let server: TestLlmServer;
const samples = fixtureSamples();
const sample = samples[0]!;
const captions = loadCaptions(join(FIXTURES, 'val_captions.tsv'));

beforeAll(async () => {
  server = await new TestLlmServer().start();
});
afterAll(async () => {
  await server.stop();
});
beforeEach(() => {
  server.requests.length = 0;
  server.handler = (body) => {
    const p: string = body.prompt ?? body.messages?.[0]?.content;
    if (p.endsWith('This is because')) return completionReply(body, { text: ' it grows in bathrooms.\nmore' });
    return completionReply(body, { text: p.length % 2 ? ' fern' : ' Orchid.', tokens: [{ token: 'x', logprob: p.length % 2 ? -0.3 : -0.2 }] });
  };
});

function cfg(backend: 'openai' | 'batch', extra: Record<string, unknown> = {}): ConfigInput {
  return { llm: { backend, baseURL: server.baseURL, model: 'test-davinci', timeoutMs: 2000, maxRetries: 0, ...extra } };
}

async function pica(ctx: TestCtx) {
  const examples = await examplesRandom.run({ sample }, examplesRandom.params.parse({}), ctx);
  const prompts = await promptPica.run(
    { sample, captions: captions.get(String(sample.imageId))!, tags: undefined, examples },
    promptParams.parse({}),
    ctx,
  );
  return { prompts, answer: await ensembleLogprob.run({ sample, prompts }, {}, ctx) };
}

describe('OpenAI Batch API backend', () => {
  it('queues requests, submits, polls, ingests into the cache; a rerun answers without live calls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'okvqa-batch-'));
    const cachePath = join(dir, 'cache.sqlite');
    const cache = new Cache(cachePath);
    const ctx = makeCtx({ config: cfg('batch'), cache });
    await expect(pica(ctx)).rejects.toThrow(/queued for the OpenAI Batch API/);
    // a second run of the same question does not queue duplicates
    await expect(pica(makeCtx({ config: cfg('batch'), cache }))).rejects.toThrow(/queued/);
    const bdir = batchDir(ctx.config, cache);
    expect(bdir).toBe(join(dir, 'llm-batches'));
    const pending = readFileSync(join(bdir, 'pending.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(pending).toHaveLength(5);
    expect(pending[0]).toMatchObject({ method: 'POST', url: '/v1/completions', body: { model: 'test-davinci', max_tokens: 5, temperature: 0, logprobs: 1, stop: ['\n', '<|endoftext|>'] } });
    expect(server.completionCalls).toHaveLength(0);

    const sdk = createOpenAISdk({ baseURL: server.baseURL, timeoutMs: 2000, maxRetries: 0 });
    const created = await submitBatches(sdk, bdir);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ endpoint: '/v1/completions', requests: 5, ingested: false });
    expect(existsSync(join(bdir, 'pending.jsonl'))).toBe(false);
    // resumable: state on disk; polling once leaves it in progress, nothing ingested yet
    expect((await pollBatches(sdk, bdir))[0]!.status).toBe('in_progress');
    expect((await collectBatches(sdk, bdir, cache)).stored).toBe(0);
    const res = await waitAndCollect(sdk, bdir, cache, { intervalMs: 5, timeoutMs: 5000 });
    expect(res).toMatchObject({ done: true, stored: 5, failed: [] });
    expect(readState(bdir).batches[0]!.ingested).toBe(true);
    expect(server.completionCalls).toHaveLength(0);

    // now the live backend is never called: every request is a cache hit
    server.handler = () => ({ status: 500, json: { error: { message: 'must not be called' } } });
    const ctx2 = makeCtx({ config: cfg('openai'), cache });
    const { answer } = await pica(ctx2);
    expect(server.completionCalls).toHaveLength(0);
    expect(ctx2.usageTotal).toMatchObject({ calls: 0, cachedCalls: 5 });
    expect(['fern', 'orchid']).toContain(answer.answer);
    cache.close();
  });
});

describe('implicit knowledge (KAT-style rationales)', () => {
  it('asks "{question} {candidate}. This is because" per candidate; passages "candidate: … evidence: …"', async () => {
    const ctx = makeCtx({ config: cfg('openai') });
    const { prompts } = await pica(ctx);
    const cands = await implicitRationale.run({ sample, prompts }, implicitRationale.params.parse({}), ctx);
    const answers = [...new Set(prompts.map((p) => p.answer))];
    expect(cands.map((c) => c.answer).sort()).toEqual(answers.sort());
    const ratCalls = server.completionCalls.filter((c) => c.body.prompt.endsWith('This is because'));
    expect(ratCalls.map((c) => c.body.prompt).sort()).toEqual(answers.map((a) => `Name the type of plant this is? ${a}. This is because`).sort());
    for (const c of ratCalls) expect(c.body).toMatchObject({ max_tokens: 40, temperature: 0, stop: ['\n', '<|endoftext|>'] });
    // candidates best logprob first; evidence is the completion (trimmed, before the newline the server appended)
    expect(cands[0]!.logprob).toBeGreaterThanOrEqual(cands.at(-1)!.logprob!);
    for (const c of cands) {
      expect(c.evidence).toBe('it grows in bathrooms.');
      expect(c.score).toBeCloseTo(Math.exp(c.logprob!));
    }
    const passages = await implicitPassages.run({ candidates: cands }, {}, ctx);
    expect(passages[0]!.text).toBe(`candidate: ${cands[0]!.answer} evidence: ${cands[0]!.evidence}`);
  });
});

describe('gate', () => {
  it('never runs more than `concurrency` requests at once', async () => {
    const gate = new Gate({ concurrency: 2 });
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        gate.run(1, async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
  });
  it('holds requests beyond the tokens-per-minute budget until the window frees them', async () => {
    let now = 0;
    const gate = new Gate({ concurrency: 4, tokensPerMinute: 100 }, () => now, 100);
    const order: number[] = [];
    const p = [60, 30, 50].map((t, i) => gate.run(t, async () => void order.push(i)));
    await Promise.race([Promise.all(p), new Promise((r) => setTimeout(r, 30))]);
    expect(order).toEqual([0, 1]);
    now = 101;
    await Promise.all(p);
    expect(order).toEqual([0, 1, 2]);
  });
});
