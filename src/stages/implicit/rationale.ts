import { z } from 'zod';
import type { Candidate, PromptResult } from '../../core/artifacts.js';
import { sha256 } from '../../core/hash.js';
import { defineStage } from '../../core/stage.js';
import { scoreTokens } from '../../llm/pica.js';
import { allOrAbort, completeCached, llmFingerprint } from '../../llm/service.js';
import { loadTemplate, renderTemplate } from '../../llm/template.js';

/** Distinct non-empty answers of the PICa prompts, best summed log-probability first (then by vote count). */
export function candidateAnswers(prompts: readonly PromptResult[]): { answer: string; logprob: number | null; votes: number }[] {
  const by = new Map<string, { answer: string; logprob: number | null; votes: number; first: number }>();
  prompts.forEach((p, i) => {
    if (!p.answer) return;
    const c = by.get(p.answer);
    if (!c) by.set(p.answer, { answer: p.answer, logprob: p.logprob ?? null, votes: 1, first: i });
    else {
      c.votes++;
      if (p.logprob !== null && p.logprob !== undefined && (c.logprob === null || p.logprob > c.logprob)) c.logprob = p.logprob;
    }
  });
  return [...by.values()]
    .sort((a, b) => (b.logprob ?? -Infinity) - (a.logprob ?? -Infinity) || b.votes - a.votes || a.first - b.first)
    .map(({ answer, logprob, votes }) => ({ answer, logprob, votes }));
}

/**
 * Implicit knowledge (KAT): for each answer candidate of the PICa prompts, ask `{question} {candidate}. This is because`
 * and keep the completion as the candidate's evidence.
 */
export const implicitRationale = defineStage({
  id: 'implicit.rationale',
  version: '1',
  description: 'Implicit knowledge: LLM answer candidates (from PICa prompts) with a rationale each ("… This is because")',
  inputs: { sample: { kind: 'sample' }, prompts: { kind: 'prompts' } },
  output: 'candidates',
  params: z.object({
    template: z.string().default('rationale'),
    maxCandidates: z.number().int().positive().default(5),
    maxTokens: z.number().int().positive().default(40),
    temperature: z.number().min(0).default(0),
    stop: z.array(z.string()).default(['\n', '<|endoftext|>']),
  }),
  fingerprint: (p, ctx) => `template=${sha256(loadTemplate(ctx.paths, p.template))};${llmFingerprint(ctx)}`,
  async run({ sample, prompts }, params, ctx) {
    const template = loadTemplate(ctx.paths, params.template);
    const cands = candidateAnswers(prompts).slice(0, params.maxCandidates);
    const total = prompts.length || 1;
    return allOrAbort(ctx, cands, async (c, sub): Promise<Candidate> => {
      const prompt = renderTemplate(template, { question: sample.question, candidate: c.answer });
      const { response } = await completeCached(sub, {
        prompt,
        maxTokens: params.maxTokens,
        temperature: params.temperature,
        logprobs: true,
        stop: params.stop,
      });
      const evidence = response.text.trim();
      ctx.note(`rationale:${c.answer}`, { prompt, completion: response.text, logprob: scoreTokens(response.tokens) });
      return {
        answer: c.answer,
        score: c.logprob !== null ? Math.exp(c.logprob) : c.votes / total,
        evidence,
        logprob: c.logprob,
        source: 'implicit',
      };
    });
  },
});

/** `candidate: {answer} evidence: {explanation}` — the passage form a reader (FiD) consumes. */
export function candidatePassageText(c: Candidate): string {
  return `candidate: ${c.answer} evidence: ${c.evidence ?? ''}`;
}

export const implicitPassages = defineStage({
  id: 'implicit.passages',
  version: '1',
  description: 'Implicit-knowledge candidates as reader passages: "candidate: {answer} evidence: {explanation}"',
  inputs: { candidates: { kind: 'candidates' } },
  output: 'passages',
  params: z.object({}),
  cache: false,
  async run({ candidates }) {
    return candidates.map((c, i) => ({
      text: candidatePassageText(c),
      score: c.score,
      source: 'implicit',
      id: `implicit:${i}`,
      title: c.answer,
      body: c.evidence ?? '',
    }));
  },
});
