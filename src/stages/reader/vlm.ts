/**
 * `reader.vlm`: a vision-language model reads the image and the question — optionally with passages (KAT's explicit
 * and implicit knowledge), answer candidates (with their rationales or confidences) and a caption — and gives a short
 * answer (`prompts/vlm-reader.txt`). Score = exp(summed token log-probabilities) when the server gives them. A-OKVQA
 * multiple choice: the choices are listed in the prompt and the answer is matched to one (exact, else nearest).
 */
import { z } from 'zod';
import type { Candidate, Prediction } from '../../core/artifacts.js';
import { defineStage } from '../../core/stage.js';
import { processAnswer, scoreTokens } from '../../llm/pica.js';
import { loadTemplate, renderTemplate } from '../../llm/template.js';
import { completeVlmCached } from '../../llm/vlm.js';
import { checkVlm } from '../vlm-check.js';
import { captionSection, firstLine, questionImage, vlmStageFingerprint, when } from '../vlm-prompt.js';
import { withChoice } from './fid.js';

type Detail = 'auto' | 'confidence' | 'evidence' | 'none';

/** How a candidate is shown: ` (0.83)` with its confidence, `: {rationale}` with its evidence, both, or bare. */
export function candidateLines(cands: readonly Candidate[], detail: Detail): { how: string; items: { answer: string; detail: string }[] } {
  const evidence = detail === 'evidence' || (detail === 'auto' && cands.some((c) => c.evidence));
  const confidence = detail === 'confidence' || (detail === 'auto' && !evidence);
  const how = evidence ? ' with the reason for each' : confidence ? ' with their confidence' : '';
  return {
    how,
    items: cands.map((c) => ({
      answer: c.answer,
      detail: `${confidence ? ` (${c.score.toFixed(2)})` : ''}${evidence && c.evidence ? `: ${c.evidence.trim()}` : ''}`,
    })),
  };
}

export const readerVlm = defineStage({
  id: 'reader.vlm',
  version: '1',
  description: 'Vision-language reader: the image, the question and (optionally) passages, candidates and a caption in one chat message; the reply is the answer',
  inputs: {
    sample: { kind: 'sample', image: true },
    passages: { kind: 'passages', optional: true },
    candidates: { kind: 'candidates', optional: true },
    captions: { kind: 'captions', optional: true },
  },
  output: 'answer',
  params: z.strictObject({
    template: z.string().default('vlm-reader'),
    /** Passages put in the prompt (the first N; default all). */
    maxPassages: z.number().int().positive().optional(),
    /** Candidates put in the prompt (the first N; default all). */
    maxCandidates: z.number().int().positive().optional(),
    /** How candidates are shown: with their rationale (evidence), confidence, or bare; auto = evidence when they have it. */
    candidateDetail: z.enum(['auto', 'confidence', 'evidence', 'none']).default('auto'),
    /** A-OKVQA: list the choices in the prompt (true), or ask open-ended and pick the nearest choice (false). */
    listChoices: z.boolean().default(true),
    maxTokens: z.number().int().positive().default(10),
    temperature: z.number().min(0).default(0),
    logprobs: z.boolean().default(true),
    stop: z.array(z.string()).default(['\n']),
  }),
  fingerprint: (p, ctx) => vlmStageFingerprint(p.template, ctx),
  check: (_p, ctx) => checkVlm(ctx),
  async run({ sample, passages, candidates, captions }, p, ctx): Promise<Prediction> {
    const used = passages ? (p.maxPassages ? passages.slice(0, p.maxPassages) : passages) : [];
    const cands = candidates ? (p.maxCandidates ? candidates.slice(0, p.maxCandidates) : candidates) : [];
    const shown = candidateLines(cands, p.candidateDetail);
    const choices = p.listChoices && sample.choices?.length ? sample.choices : [];
    const text = renderTemplate(loadTemplate(ctx.paths, p.template), {
      question: sample.question,
      caption: captionSection(captions),
      knowledge: when(used.length > 0),
      passages: used.map((x, i) => ({ index: i + 1, text: x.text })),
      candidateHead: when(cands.length > 0).map(() => ({ how: shown.how })),
      candidates: shown.items,
      choiceHead: when(choices.length > 0),
      choices: choices.map((c) => ({ text: c })),
      open: when(choices.length === 0),
      mc: when(choices.length > 0),
    });
    const { response, cached, image } = await completeVlmCached(ctx, {
      imagePath: questionImage(sample, ctx),
      text,
      maxTokens: p.maxTokens,
      temperature: p.temperature,
      logprobs: p.logprobs,
      stop: p.stop,
    });
    const logprob = p.logprobs ? scoreTokens(response.tokens) : null;
    ctx.note('prompt', { prompt: text, image, completion: response.text, logprob, cached, passages: used.length, candidates: cands.length });
    const pred: Prediction = { answer: processAnswer(firstLine(response.text)), method: 'vlm' };
    withChoice(pred, sample.choices, ctx);
    if (logprob !== null) {
      pred.logprob = logprob;
      pred.score = Math.exp(logprob);
    }
    return pred;
  },
});
