import { z } from 'zod';
import type { PromptResult } from '../../core/artifacts.js';
import { sha256 } from '../../core/hash.js';
import { defineStage } from '../../core/stage.js';
import { examplesForPrompt, imageContext, PICA_REQUEST, processAnswer, scoreTokens } from '../../llm/pica.js';
import { allOrAbort, completeCached, llmFingerprint } from '../../llm/service.js';
import { loadTemplate, renderTemplate } from '../../llm/template.js';

export const promptParams = z.object({
  /** Template name in prompts/ (pica, revive) or a path. */
  template: z.string().default('pica'),
  shots: z.number().int().positive().default(16),
  ensemble: z.number().int().positive().default(5),
  maxTokens: z.number().int().positive().default(PICA_REQUEST.maxTokens),
  temperature: z.number().min(0).default(PICA_REQUEST.temperature),
  logprobs: z.boolean().default(PICA_REQUEST.logprobs),
  stop: z.array(z.string()).default([...PICA_REQUEST.stop]),
  /** How tags join the caption: `{caption}. {tags}` (pica) or `{caption} + {tags}` (revive). */
  contextStyle: z.enum(['pica', 'revive']).default('pica'),
  /** Keep each tag label once (regional tags repeat across regions); off for PICa, whose VinVL tags are listed as given.
   *  Optional without a default so existing cache keys of PICa nodes stay valid. */
  uniqueTags: z.boolean().optional(),
});

/**
 * PICa prompts: `ensemble` prompts, prompt k with examples k*shots … k*shots+shots-1, each sent with PICa's request
 * (max_tokens 5, temperature 0, logprobs, stop ["\n", "<|endoftext|>"]). Every prompt and completion is in the output.
 */
export const promptPica = defineStage({
  id: 'prompt.pica',
  version: '1',
  description: 'PICa few-shot prompts (caption [+ tags] context, n_shot examples each, n_ensemble prompts), completed by the LLM',
  inputs: {
    sample: { kind: 'sample' },
    captions: { kind: 'captions' },
    tags: { kind: 'tags', optional: true },
    examples: { kind: 'examples' },
  },
  output: 'prompts',
  params: promptParams,
  fingerprint: (p, ctx) => `template=${sha256(loadTemplate(ctx.paths, p.template))};${llmFingerprint(ctx)}`,
  async run({ sample, captions, tags, examples }, params, ctx) {
    const need = params.shots * params.ensemble;
    if (examples.length < need) {
      throw new Error(`prompt.pica needs ${need} examples (${params.shots} shots x ${params.ensemble} prompts), got ${examples.length}`);
    }
    const template = loadTemplate(ctx.paths, params.template);
    const tagList = params.uniqueTags && tags ? tags.filter((t, i) => tags.findIndex((u) => u.label === t.label) === i) : tags;
    const context = imageContext(captions, tagList, params.contextStyle);
    const prompts = Array.from({ length: params.ensemble }, (_, k) => {
      const exs = examplesForPrompt(examples, k, params.shots);
      const prompt = renderTemplate(template, {
        examples: exs.map((e) => ({ context: e.context, question: e.question, answer: e.answer })),
        context,
        question: sample.question,
      });
      return { k, exs, prompt };
    });
    const results = await allOrAbort(ctx, prompts, async ({ k, exs, prompt }, sub): Promise<PromptResult> => {
      const { response, cached } = await completeCached(sub, {
        prompt,
        maxTokens: params.maxTokens,
        temperature: params.temperature,
        logprobs: params.logprobs,
        stop: params.stop,
      });
      const r: PromptResult = {
        index: k,
        prompt,
        completion: response.text,
        answer: processAnswer(response.text),
        logprob: scoreTokens(response.tokens),
        exampleIds: exs.map((e) => e.questionId),
        model: response.model,
        cached,
      };
      if (response.tokens) r.tokens = response.tokens;
      return r;
    });
    if (results.some((r) => r.logprob === null)) ctx.note('logprobs', 'backend returned no log-probabilities');
    return results;
  },
});
