import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cache } from '../../src/core/cache.js';
import { Resources } from '../../src/core/resources.js';
import { completeCached } from '../../src/llm/service.js';
import { makeCtx } from './helpers.js';
import { completionReply, TestLlmServer } from './server.js';

const server = new TestLlmServer();
beforeAll(() => server.start());
afterAll(() => server.stop());

describe('identical LLM requests shared between questions', () => {
  it('one question being cancelled does not fail another waiting on the same request', async () => {
    server.handler = (body) => ({ ...completionReply(body, { text: ' tennis' }), delayMs: 150 });
    const cache = new Cache(':memory:');
    const resources = new Resources();
    const config = { llm: { backend: 'openai' as const, baseURL: server.baseURL, model: 'test-davinci', timeoutMs: 5000, maxRetries: 0 } };
    const a = makeCtx({ config, cache, resources, questionId: 'a' });
    const b = makeCtx({ config, cache, resources, questionId: 'b' });
    const cancelA = new AbortController();
    const ctxA = { ...a, signal: cancelA.signal };
    const req = { prompt: 'Q: What sport?\nA:', maxTokens: 5, temperature: 0, logprobs: true };
    const pa = completeCached(ctxA, req);
    const pb = completeCached(b, req); // joins a's request in flight
    // cancel a once its request is on the wire (b is waiting on that same request)
    while (server.completionCalls.length === 0) await new Promise((r) => setTimeout(r, 5));
    cancelA.abort(new Error('question a failed elsewhere'));
    await expect(pa).rejects.toThrow(/question a failed elsewhere/);
    const rb = await pb;
    expect(rb.response.text).toBe(' tennis');
    expect(server.completionCalls.length).toBe(2); // a's cancelled request, then b's own
  });
});
