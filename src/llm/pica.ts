/**
 * PICa (Yang et al., AAAI 2022), following microsoft/PICa `gpt3_api_okvqa.py`.
 */
import type { Caption, Example, PromptResult, Tag } from '../core/artifacts.js';
import type { TokenLogprob } from './types.js';

/** PICa's request: max_tokens 5, temperature 0, logprobs=1, stop ["\n", "<|endoftext|>"]. */
export const PICA_REQUEST = Object.freeze({ maxTokens: 5, temperature: 0, logprobs: true, stop: ['\n', '<|endoftext|>'] });

/** `process_answer`: drop `.` and `,`, lowercase, split on single spaces, drop a/an/the/to and empty words. */
export function processAnswer(answer: string): string {
  const cleaned = answer.replaceAll('.', '').replaceAll(',', '').toLowerCase();
  const drop = new Set(['a', 'an', 'the', 'to', '']);
  return cleaned
    .split(' ')
    .filter((w) => !drop.has(w))
    .join(' ');
}

/** Sum of token log-probabilities up to (not including) the first token that is exactly "\n"; null without tokens. */
export function scoreTokens(tokens: readonly TokenLogprob[] | null): number | null {
  if (!tokens) return null;
  let sum = 0;
  for (const t of tokens) {
    if (t.token === '\n') break;
    sum += t.logprob;
  }
  return sum;
}

/**
 * The image context PICa puts in a prompt: the caption, and with tags `{caption}. {tag1, tag2, …}`
 * (REVIVE style: `{caption} + {tag1, tag2, …}`).
 */
export function imageContext(captions: readonly Caption[], tags: readonly Tag[] | undefined, style: 'pica' | 'revive' = 'pica'): string {
  const caption = captions[0]?.text;
  if (caption === undefined) throw new Error('no caption for this image: PICa needs one caption per question');
  if (!tags || tags.length === 0) return caption;
  const tagText = tags.map((t) => t.label).join(', ');
  return style === 'revive' ? `${caption} + ${tagText}` : `${caption}. ${tagText}`;
}

/** The examples of prompt k: k*shots … k*shots+shots-1. */
export function examplesForPrompt(examples: readonly Example[], k: number, shots: number): Example[] {
  return examples.slice(k * shots, k * shots + shots);
}

export interface EnsembleChoice {
  answer: string;
  score: number;
  method: 'logprob' | 'vote';
  index: number;
}

/**
 * PICa's ensemble: the answer of the prompt with the highest summed log-probability (first one on ties).
 * When any prompt has no log-probabilities: majority vote over the answers (ties: the earliest answer).
 */
export function chooseAnswer(prompts: readonly PromptResult[]): EnsembleChoice {
  if (prompts.length === 0) throw new Error('no prompt results to choose from');
  if (prompts.every((p) => p.logprob !== null && p.logprob !== undefined)) {
    let best = 0;
    for (let i = 1; i < prompts.length; i++) if (prompts[i]!.logprob! > prompts[best]!.logprob!) best = i;
    const p = prompts[best]!;
    return { answer: p.answer, score: p.logprob!, method: 'logprob', index: best };
  }
  const counts = new Map<string, { n: number; first: number }>();
  prompts.forEach((p, i) => {
    const c = counts.get(p.answer);
    if (c) c.n++;
    else counts.set(p.answer, { n: 1, first: i });
  });
  let winner: [string, { n: number; first: number }] | undefined;
  for (const e of counts) if (!winner || e[1].n > winner[1].n) winner = e;
  return { answer: winner![0], score: winner![1].n / prompts.length, method: 'vote', index: winner![1].first };
}
