import { z } from 'zod';
import type { Prediction } from '../../core/artifacts.js';
import { defineStage } from '../../core/stage.js';
import { nearestChoice } from '../../eval/predictions.js';
import { chooseAnswer } from '../../llm/pica.js';

export const ensembleLogprob = defineStage({
  id: 'ensemble.logprob',
  version: '1',
  description: 'PICa multi-query ensemble: the answer with the highest summed log-probability; majority vote without logprobs',
  inputs: { sample: { kind: 'sample' }, prompts: { kind: 'prompts' } },
  output: 'answer',
  params: z.object({}),
  cache: false,
  async run({ sample, prompts }, _params, ctx) {
    const choice = chooseAnswer(prompts);
    if (choice.method === 'vote') {
      ctx.note('fallback', 'majority vote: the backend gave no log-probabilities');
    }
    ctx.note('chosen', { prompt: choice.index, method: choice.method });
    const pred: Prediction = { answer: choice.answer, score: choice.score, method: choice.method };
    // A-OKVQA multiple choice: the choice the answer names, else the nearest by word overlap.
    if (sample.choices?.length) {
      const mc = nearestChoice(choice.answer, sample.choices);
      if (mc !== undefined) pred.multipleChoice = mc;
    }
    return pred;
  },
});
