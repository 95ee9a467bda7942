/**
 * `prompt.prophet`: Prophet's prompts (`Runner.sample_make` / `get_context`): T prompts, prompt t holding examples
 * t·N … t·N+N−1 after the head, then the query with the question's top-K candidates, each completed with Prophet's
 * request (max_tokens 8, temperature 0, logprobs, stop ["\n", "<|endoftext|>"]). The completion is stripped and
 * normalised with `prep_ans`; `logprob` is the sum of the answer's token log-probabilities up to a "\n" or
 * "<|endoftext|>" token, so exp(logprob) is Prophet's confidence.
 */
import { z } from 'zod';
import type { PromptResult } from '../../core/artifacts.js';
import { defineStage } from '../../core/stage.js';
import { pyStrip } from '../../eval/normalize.js';
import { getContext, prepAns, PROPHET, prophetCaption, prophetLogprob, sampleMake, toProphetCandidates } from '../../llm/prophet.js';
import { allOrAbort, completeCached, llmFingerprint } from '../../llm/service.js';
import { checkLlm } from '../checks.js';

export const promptProphet = defineStage({
  id: 'prompt.prophet',
  version: '1',
  description: "Prophet's heuristics-enhanced prompts (caption, question, candidates with confidences; answer-aware examples), completed by the LLM",
  inputs: {
    sample: { kind: 'sample' },
    captions: { kind: 'captions' },
    candidates: { kind: 'candidates' },
    examples: { kind: 'examples' },
  },
  output: 'prompts',
  params: z.strictObject({
    /** configs/prompt.yml: N_EXAMPLES, T_INFER, K_CANDIDATES, MAX_TOKENS, TEMPERATURE, PROMPT_HEAD, LINE_PREFIX. */
    examples: z.number().int().positive().default(PROPHET.examples),
    prompts: z.number().int().positive().default(PROPHET.prompts),
    candidates: z.number().int().positive().default(PROPHET.candidates),
    maxTokens: z.number().int().positive().default(PROPHET.maxTokens),
    temperature: z.number().min(0).default(PROPHET.temperature),
    stop: z.array(z.string()).default([...PROPHET.stop]),
    head: z.string().default(PROPHET.head),
    linePrefix: z.string().default(PROPHET.linePrefix),
  }),
  fingerprint: (_p, ctx) => llmFingerprint(ctx),
  check: (_p, ctx) => checkLlm(ctx),
  async run({ sample, captions, candidates, examples }, p, ctx) {
    const caption = captions[0]?.text;
    if (caption === undefined) throw new Error('no caption for this image: Prophet needs one caption per question');
    if (candidates.length === 0) throw new Error('no answer candidates: Prophet needs candidates with confidences');
    const need = p.examples * p.prompts;
    if (examples.length < need) ctx.note('examples', `${examples.length} examples for ${p.prompts} prompts of ${p.examples}: later prompts get fewer`);
    const query = sampleMake(sample.question, prophetCaption(caption), toProphetCandidates(candidates), undefined, p.candidates, p.linePrefix);
    const prompts = Array.from({ length: p.prompts }, (_, t) => {
      const exs = examples.slice(p.examples * t, p.examples * t + p.examples);
      return { t, exs, prompt: getContext(exs, { head: p.head, k: p.candidates, linePrefix: p.linePrefix }) + query };
    });
    let fromCache = 0;
    const results = await allOrAbort(ctx, prompts, async ({ t, exs, prompt }, sub): Promise<PromptResult> => {
      const { response, cached } = await completeCached(sub, { prompt, maxTokens: p.maxTokens, temperature: p.temperature, logprobs: true, stop: p.stop });
      if (cached) fromCache++;
      const logprob = prophetLogprob(response.tokens);
      const r: PromptResult = {
        index: t,
        prompt,
        completion: response.text,
        answer: prepAns(pyStrip(response.text)),
        logprob,
        exampleIds: exs.map((e) => e.questionId),
        model: response.model,
      };
      if (response.tokens) r.tokens = response.tokens;
      return r;
    });
    ctx.note('cachedCompletions', fromCache);
    if (results.some((r) => r.logprob === null)) ctx.note('logprobs', 'backend returned no log-probabilities: those answers count 0 in the vote');
    return results;
  },
});
