/**
 * `answer.prophet`: Prophet's vote (`Runner.run`): each prompt's normalised answer, when not empty, adds its confidence
 * exp(logprob) to that answer's pool; the largest sum wins (first seen among equal sums, as Python's stable sort); with
 * no answer at all, the top candidate (the first of the candidates input, as `get_topk_candidates(qid, 1)`).
 * A-OKVQA multiple choice (not Prophet's: it maps with GloVe sentence embeddings): the answer itself when it is a
 * choice, else the nearest choice by word overlap.
 */
import { z } from 'zod';
import type { Prediction } from '../../core/artifacts.js';
import { defineStage } from '../../core/stage.js';
import { nearestChoice } from '../../eval/predictions.js';
import { prophetVote } from '../../llm/prophet.js';

export const answerProphet = defineStage({
  id: 'answer.prophet',
  version: '1',
  description: "Prophet's vote: summed confidence per normalised answer, else the top candidate",
  inputs: { sample: { kind: 'sample' }, prompts: { kind: 'prompts' }, candidates: { kind: 'candidates' } },
  output: 'answer',
  params: z.strictObject({}),
  cache: false,
  async run({ sample, prompts, candidates }, _p, ctx) {
    const vote = prophetVote(prompts, candidates[0]?.answer);
    ctx.note('vote', { method: vote.method, pool: vote.pool });
    const pred: Prediction = { answer: vote.answer, score: vote.score, method: vote.method };
    if (sample.choices?.length) {
      const exact = sample.choices.find((c) => c.toLowerCase() === vote.answer.toLowerCase());
      pred.multipleChoice = exact ?? nearestChoice(vote.answer, sample.choices)!;
      if (exact === undefined) ctx.note('multipleChoice', 'the answer is not a choice: nearest choice by word overlap');
    }
    return pred;
  },
});
