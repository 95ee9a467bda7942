import { z } from 'zod';
import { defineStage } from '../../src/core/stage.js';

/** Small stages for engine tests. */
export const toyCaption = defineStage({
  id: 'caption.toy',
  version: '1',
  description: 'caption = the question reversed',
  inputs: { sample: { kind: 'sample' } },
  output: 'captions',
  params: z.strictObject({ suffix: z.string().default('') }),
  async run({ sample }, p) {
    return [{ text: sample.question.split('').reverse().join('') + p.suffix, source: 'toy' }];
  },
});

export const toyCandidates = defineStage({
  id: 'candidates.toy',
  version: '1',
  description: 'one candidate per caption word; fails on questions containing "FAIL"',
  inputs: { sample: { kind: 'sample' }, captions: { kind: 'captions' } },
  output: 'candidates',
  params: z.strictObject({ n: z.number().int().positive().default(2) }),
  async run({ sample, captions }, p) {
    if (sample.question.includes('FAIL')) throw new Error('toy failure');
    return captions.flatMap((c) => c.text.split(' ')).slice(0, p.n).map((answer, i) => ({ answer, score: 1 / (i + 1) }));
  },
});

export const toyAnswer = defineStage({
  id: 'answer.toy',
  version: '1',
  description: 'top candidate',
  inputs: { candidates: { kind: 'candidates' } },
  output: 'answer',
  params: z.strictObject({}),
  async run({ candidates }) {
    return { answer: candidates[0]?.answer ?? '' };
  },
});

export const toyTags = defineStage({
  id: 'tags.toy',
  version: '1',
  description: 'no tags',
  inputs: { sample: { kind: 'sample' } },
  output: 'tags',
  params: z.strictObject({}),
  async run() {
    return [];
  },
});

export const toyStages = [toyCaption, toyCandidates, toyAnswer, toyTags];
