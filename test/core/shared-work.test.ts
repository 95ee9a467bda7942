/** Shared work is every question's: work computed once for two questions shows in both traces (issue 10). */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Cache } from '../../src/core/cache.js';
import { compilePipeline } from '../../src/core/graph.js';
import type { PipelineSpec } from '../../src/core/pipeline-spec.js';
import { StageRegistry } from '../../src/core/registry.js';
import { PipelineExecutor } from '../../src/core/runner.js';
import { defineStage } from '../../src/core/stage.js';
import type { Sample } from '../../src/core/artifacts.js';
import { testContext } from '../helpers/context.js';

const runs: string[] = [];

/** The question's text as a caption (not cached): two questions with the same text give identical input downstream. */
const textOf = defineStage({
  id: 'caption.text',
  version: '1',
  description: 'the question text',
  inputs: { sample: { kind: 'sample' } },
  output: 'captions',
  params: z.strictObject({}),
  cache: false,
  async run({ sample }) {
    return [{ text: sample.question, source: 'test' }];
  },
});

/** Slow, noted, "LLM-using" work that depends only on the captions. */
const slow = defineStage({
  id: 'candidates.slow',
  version: '1',
  description: 'slow work with notes and usage',
  inputs: { captions: { kind: 'captions' } },
  output: 'candidates',
  params: z.strictObject({}),
  async run({ captions }, _p, ctx) {
    runs.push(ctx.questionId);
    await new Promise((r) => setTimeout(r, 60));
    ctx.note('words', captions[0]!.text.split(' ').length);
    ctx.usage({ calls: 2, promptTokens: 30, completionTokens: 4 });
    return [{ answer: captions[0]!.text.split(' ')[0]!, score: 1 }];
  },
});

const answer = defineStage({
  id: 'answer.first',
  version: '1',
  description: 'first candidate',
  inputs: { candidates: { kind: 'candidates' } },
  output: 'answer',
  params: z.strictObject({}),
  cache: false,
  async run({ candidates }) {
    return { answer: candidates[0]!.answer };
  },
});

const spec: PipelineSpec = {
  name: 't', file: 't.yaml', output: 'answer', config: {}, origin: {}, files: ['t.yaml'],
  nodes: { captions: { use: 'caption.text' }, candidates: { use: 'candidates.slow' }, answer: { use: 'answer.first' } },
};

const sample = (id: string): Sample => ({ dataset: 'okvqa', questionId: id, imageId: 1, question: 'what sport is this' });

describe('work shared between questions', () => {
  it('computed once; both traces show its output, notes and usage, the joiner marked shared', async () => {
    const executor = new PipelineExecutor(compilePipeline(spec, new StageRegistry([textOf, slow, answer])), testContext({ cache: new Cache(':memory:') }));
    const [a, b] = await Promise.all([executor.run(sample('a')), executor.run(sample('b'))]);
    expect(runs).toEqual(['a']);
    const ta = a.nodes.candidates!;
    const tb = b.nodes.candidates!;
    expect(tb.output).toEqual(ta.output);
    expect(ta.notes).toEqual({ words: 4 });
    expect(tb.notes).toEqual({ words: 4 });
    const usage = { calls: 2, cachedCalls: 0, promptTokens: 30, completionTokens: 4 };
    expect(ta.usage).toEqual(usage);
    expect(tb.usage).toEqual(usage);
    expect(ta.shared).toBeUndefined();
    expect(tb.shared).toBe(true);
    // The run's totals count the work once: the question that computed it carries the usage.
    expect(a.usage).toEqual(usage);
    expect(b.usage.calls).toBe(0);
  });
});
