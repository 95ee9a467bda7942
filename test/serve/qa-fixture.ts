/** The QA app's test setup: a pipeline with regions, retrieval, rationales and a test reader, over the loopback LLM. */
import { join } from 'node:path';
import { z } from 'zod';
import { createAnswerer, type Answerer } from '../../src/answerer.js';
import type { Prediction } from '../../src/core/artifacts.js';
import { defineStage } from '../../src/core/stage.js';
import { createRegistry } from '../../src/stages/index.js';
import { repoRoot } from '../helpers/cli.js';
import { completionReply, type TestLlmServer } from '../llm/server.js';

export const QA_PIPELINE = join(repoRoot, 'test', 'fixtures', 'report', 'qa-app.yaml');

/** Test double of a reader: answers with the best candidate; attribution = share of each passage's overlap with it. */
export const testOverlapReader = defineStage({
  id: 'reader.test-overlap',
  version: '1',
  description: 'test: best candidate as the answer; attribution from word overlap of each passage with it',
  inputs: { candidates: { kind: 'candidates' }, passages: { kind: 'passages' } },
  output: 'answer',
  params: z.object({}),
  async run({ candidates, passages }) {
    const best = [...candidates].sort((a, b) => b.score - a.score)[0];
    const words = new Set((best?.answer ?? '').toLowerCase().split(/\W+/).filter(Boolean));
    const raw = passages.map((p) => 1 + p.text.toLowerCase().split(/\W+/).filter((w) => words.has(w)).length);
    const sum = raw.reduce((a, b) => a + b, 0) || 1;
    const p: Prediction & { attribution: number[] } = { answer: best?.answer ?? '', score: best?.score ?? 0, method: 'test-overlap', attribution: raw.map((x) => x / sum) };
    return p;
  },
});

/** Scripted model: PICa prompts answer "coffee", rationale prompts give a reason. */
export function scriptLlm(server: TestLlmServer): void {
  server.handler = (body) => {
    const p: string = body.prompt ?? '';
    if (p.endsWith('This is because')) return completionReply(body, { text: ' a cup of coffee is on the saucer.' });
    return completionReply(body, { text: ' coffee', tokens: [{ token: ' coffee', logprob: -0.25 }] });
  };
}

export function qaAnswerer(server: TestLlmServer, cachePath: string): Answerer {
  return createAnswerer({
    pipeline: QA_PIPELINE,
    registry: createRegistry([testOverlapReader]),
    profile: 'tiny',
    config: { models: { offline: true }, llm: { baseURL: server.baseURL, apiKey: 'test', model: 'test-davinci', maxRetries: 0 }, cache: { path: cachePath } },
  });
}
