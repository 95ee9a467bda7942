import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Passage, Region, Sample } from '../../src/core/artifacts.js';
import { createRegistry } from '../../src/stages/index.js';
import { readerLlm } from '../../src/stages/reader/llm.js';
import { makeCtx } from '../llm/helpers.js';
import { completionReply, TestLlmServer } from '../llm/server.js';

let server: TestLlmServer;
beforeAll(async () => {
  server = await new TestLlmServer().start();
});
afterAll(async () => {
  await server.stop();
});

const sample: Sample = { dataset: 'okvqa', questionId: 'q1', imageId: 1, question: 'What color is the cup?' };
const passages: Passage[] = [
  { text: 'title: cup context: cup is a drinking vessel', score: 1, source: 'kb' },
  { text: 'candidate: white evidence: the cup is white', score: 0.5, source: 'implicit' },
];

describe('reader.llm', () => {
  it('puts every passage (and regions as text) in one prompt and returns the cleaned completion', async () => {
    const prompts: string[] = [];
    server.handler = (body) => {
      prompts.push(body.prompt);
      return completionReply(body, { text: ' The White.\nmore', tokens: [{ token: ' The', logprob: -0.25 }, { token: ' White', logprob: -0.5 }, { token: '.', logprob: -0.25 }] });
    };
    expect(createRegistry().get('reader.llm')).toBe(readerLlm);
    const ctx = makeCtx({ config: { llm: { baseURL: server.baseURL, model: 'm', maxRetries: 0 } } });
    const regions: Region[] = [
      { id: 0, box: { xmin: 0, ymin: 0, xmax: 200, ymax: 100 }, source: 'image' },
      { id: 1, box: { xmin: 20, ymin: 10, xmax: 120, ymax: 90 }, source: 'detector', label: 'cup' },
    ];
    const p = readerLlm.params.parse({});
    const pred = await readerLlm.run({ sample, passages, regions, tags: [{ label: 'mug', conf: 0.9, region: 1 }] }, p, ctx);
    expect(pred).toMatchObject({ answer: 'white', method: 'llm', logprob: -1 });
    expect(pred.score).toBeCloseTo(Math.exp(-1), 12);
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toBe(
      'Answer the question with a short answer (one to three words). The passages below may help.\n===\n' +
        '1. title: cup context: cup is a drinking vessel\n2. candidate: white evidence: the cup is white\n' +
        '3. region: image box: 0 0 1 1\n4. region: cup tags: mug box: 0.1 0.1 0.6 0.9\n===\n' +
        'Question: What color is the cup?\nAnswer:',
    );
    // cached: the same inputs make no second request; another template text is another key
    const again = await readerLlm.run({ sample, passages, regions, tags: [{ label: 'mug', conf: 0.9, region: 1 }] }, p, ctx);
    expect(again.answer).toBe('white');
    expect(prompts).toHaveLength(1);
    await readerLlm.run({ sample, passages, regions: undefined, tags: undefined }, readerLlm.params.parse({ maxPassages: 1 }), ctx);
    expect(prompts).toHaveLength(2);
    expect(prompts[1]).toContain('1. title: cup');
    expect(prompts[1]).not.toContain('2. ');
    await ctx.resources.disposeAll();
  });
});
