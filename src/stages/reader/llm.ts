/**
 * `reader.llm`: the swap for `reader.fid` — the same passages (and regions read as text) given to the LLM backend in one
 * prompt (`prompts/reader.txt`, hashed into the cache key), the completion cleaned as PICa cleans answers.
 */
import { z } from 'zod';
import type { Prediction } from '../../core/artifacts.js';
import { sha256 } from '../../core/hash.js';
import { defineStage } from '../../core/stage.js';
import { processAnswer, scoreTokens } from '../../llm/pica.js';
import { completeCached, llmFingerprint } from '../../llm/service.js';
import { loadTemplate, renderTemplate } from '../../llm/template.js';
import { imageSizeOf, READER_INPUTS, regionPassage, withChoice } from './fid.js';

export const readerLlm = defineStage({
  id: 'reader.llm',
  version: '1',
  description: 'LLM reader: the passages (and regions as text) in one prompt, the completion is the answer',
  inputs: READER_INPUTS,
  output: 'answer',
  params: z.strictObject({
    template: z.string().default('reader'),
    /** Passages put in the prompt (the first N; default all). */
    maxPassages: z.number().int().positive().optional(),
    /** Read the regions as `region: … tags: … box: …` lines after the passages. */
    regions: z.boolean().default(true),
    maxTokens: z.number().int().positive().default(10),
    temperature: z.number().min(0).default(0),
    stop: z.array(z.string()).default(['\n', '<|endoftext|>']),
  }),
  fingerprint: (p, ctx) => `template=${sha256(loadTemplate(ctx.paths, p.template))};${llmFingerprint(ctx)}`,
  async run({ sample, passages, regions, tags }, p, ctx): Promise<Prediction> {
    const used = p.maxPassages ? passages.slice(0, p.maxPassages) : passages;
    const texts = used.map((x) => x.text);
    if (p.regions && regions?.length) {
      const size = imageSizeOf(regions);
      texts.push(...regions.map((r) => regionPassage(r, tags ?? [], size)));
    }
    const prompt = renderTemplate(loadTemplate(ctx.paths, p.template), {
      question: sample.question,
      passages: texts.map((text, i) => ({ index: i + 1, text })),
    });
    const { response, cached } = await completeCached(ctx, {
      prompt,
      maxTokens: p.maxTokens,
      temperature: p.temperature,
      logprobs: true,
      stop: p.stop,
    });
    const logprob = scoreTokens(response.tokens);
    ctx.note('prompt', { prompt, completion: response.text, logprob, cached, passages: texts.length });
    const pred: Prediction = { answer: processAnswer(response.text.trim()), method: 'llm' };
    withChoice(pred, sample.choices, ctx);
    if (logprob !== null) {
      pred.logprob = logprob;
      pred.score = Math.exp(logprob);
    }
    return pred;
  },
});
