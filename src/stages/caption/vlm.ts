/**
 * `caption.vlm`: a question-aware caption from a vision-language model, as PromptCap (Hu et al., ICCV 2023) describes
 * it — one sentence that holds what the question needs to be answered (`prompts/vlm-caption.txt`);
 * `template: vlm-caption-generic` gives a plain caption. The output feeds PICa/Prophet prompts like any caption.
 */
import { z } from 'zod';
import type { Caption } from '../../core/artifacts.js';
import { defineStage } from '../../core/stage.js';
import { loadTemplate, renderTemplate } from '../../llm/template.js';
import { completeVlmCached } from '../../llm/vlm.js';
import { checkVlm } from '../vlm-check.js';
import { questionImage, vlmStageFingerprint } from '../vlm-prompt.js';

export const captionVlm = defineStage({
  id: 'caption.vlm',
  version: '1',
  description: 'Question-aware caption (PromptCap-style) from a vision-language model',
  inputs: { sample: { kind: 'sample', image: true } },
  output: 'captions',
  params: z.strictObject({
    template: z.string().default('vlm-caption'),
    maxTokens: z.number().int().positive().default(60),
    temperature: z.number().min(0).default(0),
  }),
  fingerprint: (p, ctx) => vlmStageFingerprint(p.template, ctx),
  check: (_p, ctx) => checkVlm(ctx),
  async run({ sample }, p, ctx): Promise<Caption[]> {
    const text = renderTemplate(loadTemplate(ctx.paths, p.template), { question: sample.question });
    const { response, cached, image } = await completeVlmCached(ctx, {
      imagePath: questionImage(sample, ctx),
      text,
      maxTokens: p.maxTokens,
      temperature: p.temperature,
      logprobs: false,
    });
    const caption = response.text.replace(/\s+/g, ' ').trim();
    ctx.note('prompt', { prompt: text, image, completion: response.text, cached });
    if (!caption) throw new Error(`the vision-language model ${response.model} gave an empty caption`);
    return [{ text: caption, source: 'vlm' }];
  },
});
