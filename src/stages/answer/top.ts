import { z } from 'zod';
import type { Prediction } from '../../core/artifacts.js';
import { defineStage } from '../../core/stage.js';
import { nearestChoice } from '../../eval/predictions.js';

export const answerTop = defineStage({
  id: 'answer.top',
  version: '1',
  description: 'The highest-scoring candidate is the answer; for multiple choice, the best-ranked candidate that is a choice',
  inputs: { sample: { kind: 'sample' }, candidates: { kind: 'candidates' } },
  output: 'answer',
  params: z.strictObject({}),
  cache: false,
  async run({ sample, candidates }, _params, ctx) {
    const top = [...candidates].sort((a, b) => b.score - a.score)[0];
    if (!top) throw new Error('no answer candidates');
    const pred: Prediction = { answer: top.answer, score: top.score, method: 'top' };
    if (sample.choices?.length) {
      const lower = new Map(sample.choices.map((c) => [c.toLowerCase(), c]));
      const ranked = [...candidates].sort((a, b) => b.score - a.score).find((c) => lower.has(c.answer.toLowerCase()));
      pred.multipleChoice = ranked ? lower.get(ranked.answer.toLowerCase())! : nearestChoice(top.answer, sample.choices);
      if (!ranked) ctx.note('multipleChoice', 'no candidate is a choice: nearest choice by word overlap');
    }
    return pred;
  },
});
