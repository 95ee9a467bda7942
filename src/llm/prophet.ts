/**
 * Prophet (Shao et al., CVPR 2023), stage 2, following MILVLG/prophet `prophet/stage2/prompt.py` (`Runner.sample_make`,
 * `get_context`, `gpt3_infer`, the vote in `run`), `configs/prompt.yml` and `evaluation/ans_punct.py` (`prep_ans`).
 * Written from reading that code; the golden test (test/prophet/) compares with prompts and votes its code produced.
 */
import type { Candidate, Example, PromptResult } from '../core/artifacts.js';
import { processDigitArticle, processPunctuation, pyStrip } from '../eval/normalize.js';
import type { TokenLogprob } from './types.js';

/** `configs/prompt.yml`. */
export const PROPHET = Object.freeze({
  head:
    'Please answer the question according to the context and candidate answers. Each candidate answer is associated with ' +
    'a confidence score within a bracket. The true answer may not be included in the candidate answers.\n\n',
  linePrefix: '===\n',
  examples: 20,
  candidates: 10,
  prompts: 5,
  maxTokens: 8,
  temperature: 0,
  stop: ['\n', '<|endoftext|>'] as readonly string[],
  /** `--seed` default of prophet/__init__.py (Cfgs seeds Python's `random` with it). */
  seed: 99,
});

/**
 * `prep_ans` (evaluation/ans_punct.py, from mcan-vqa): the VQA evaluator's punctuation then digit/article/contraction
 * normalisation — the same functions and the same contraction table as `vqaEval.py`, which src/eval/normalize.ts
 * reproduces — then every remaining comma removed.
 */
export function prepAns(answer: string): string {
  return processDigitArticle(processPunctuation(answer)).replaceAll(',', '');
}

/**
 * Python's `f'{x:.2f}'`: correctly rounded on the exact binary value with ties to even. JS `toFixed` is exact too but
 * breaks exact ties upwards (0.125 → "0.13", Python "0.12"); an exact tie shows as …5000… in the exact expansion.
 */
export function pyFormat2(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const exact = Math.abs(x).toFixed(60); // more digits than any double's exact expansion needs here
  const dot = exact.indexOf('.');
  let digits = Math.abs(x).toFixed(2);
  if (/^50*$/.test(exact.slice(dot + 3))) {
    // an exact tie: round half to even on the second decimal
    const truncated = exact.slice(0, dot + 3);
    digits = Number(truncated[truncated.length - 1]) % 2 === 0 ? truncated : (Number(truncated) + 0.01).toFixed(2);
  }
  return sign + digits;
}

/** A candidate as the prompt shows it: `answer(0.83)`. */
export interface ProphetCandidate {
  answer: string;
  confidence: number;
}

/** Prophet's candidates from a `candidates` artifact (its `score` is the confidence), in the artifact's order. */
export function toProphetCandidates(candidates: readonly Candidate[]): ProphetCandidate[] {
  return candidates.map((c) => ({ answer: c.answer, confidence: c.score }));
}

/** Qid2Data: the caption stripped, with a period added when it does not end with one. */
export function prophetCaption(caption: string): string {
  const c = pyStrip(caption);
  if (c === '') throw new Error('empty caption: Prophet needs one caption per image');
  return c.endsWith('.') ? c : `${c}.`;
}

/** `Runner.sample_make`: one example (with its answer) or the query (answer undefined: the prompt ends at `Answer:`). */
export function sampleMake(question: string, caption: string, candidates: readonly ProphetCandidate[], answer?: string, k: number = PROPHET.candidates, linePrefix: string = PROPHET.linePrefix): string {
  const cands = candidates.slice(0, k).map((c) => `${c.answer}(${pyFormat2(c.confidence)})`).join(', ');
  let text = `${linePrefix}Context: ${caption}\n`;
  text += `${linePrefix}Question: ${question}\n`;
  text += `${linePrefix}Candidates: ${cands}\n`;
  text += `${linePrefix}Answer:`;
  if (answer !== undefined) text += ` ${answer}`;
  return text;
}

/** An in-context example as `get_context` reads it: question, caption (context), its own candidates, most frequent answer. */
export type ProphetExample = Pick<Example, 'question' | 'context' | 'answer'> & { candidates?: Example['candidates'] };

/** `Runner.get_context`: the head, then every example made by `sample_make` followed by a blank line. */
export function getContext(examples: readonly ProphetExample[], opts: { head?: string; k?: number; linePrefix?: string } = {}): string {
  let text = opts.head ?? PROPHET.head;
  for (const e of examples) {
    const cands = (e.candidates ?? []).map((c) => ({ answer: c.answer, confidence: c.score }));
    text += sampleMake(e.question, e.context, cands, e.answer, opts.k, opts.linePrefix);
    text += '\n\n';
  }
  return text;
}

/**
 * `gpt3_infer`'s confidence: exp of the summed token log-probabilities up to the first token that is exactly "\n" or
 * "<|endoftext|>"; null when the backend gave no log-probabilities.
 */
export function prophetConfidence(tokens: readonly TokenLogprob[] | null): number | null {
  const sum = prophetLogprob(tokens);
  return sum === null ? null : Math.exp(sum);
}

/** The summed log-probability behind `prophetConfidence` (Python's `sum`: left to right, as CPython ≤ 3.11 adds floats). */
export function prophetLogprob(tokens: readonly TokenLogprob[] | null): number | null {
  if (!tokens) return null;
  let sum = 0;
  for (const t of tokens) {
    if (t.token === '\n' || t.token === '<|endoftext|>') break;
    sum += t.logprob;
  }
  return sum;
}

/**
 * The most frequent answer as Qid2Data picks it (`ok_score` / `aok_score`): answers counted, sorted by count (stable: first seen
 * first among equals), the first; when that is the empty string, the second.
 */
export function mostAnswer(answers: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
  const order = [...counts.entries()].sort((x, y) => y[1] - x[1]).map(([a]) => a);
  if (order.length === 0) throw new Error('no answers to pick the most frequent from');
  const first = order[0]!;
  if (first !== '') return first;
  if (order.length < 2) throw new Error('the only answer is the empty string');
  return order[1]!;
}

export interface ProphetVote {
  answer: string;
  /** Summed confidence of the winner (0 for the fallback). */
  score: number;
  method: 'vote' | 'top-candidate';
  /** Every normalised answer with its summed confidence, in first-seen order. */
  pool: [string, number][];
}

/**
 * The vote of `Runner.run`: each non-empty normalised answer gets the sum of its prompts' confidences; the largest sum
 * wins (Python's stable sort: the first seen among equal sums); with no non-empty answer, the top candidate.
 */
export function prophetVote(prompts: readonly Pick<PromptResult, 'answer' | 'logprob'>[], topCandidate: string | undefined): ProphetVote {
  const pool = new Map<string, number>();
  for (const p of prompts) {
    if (p.answer === '') continue;
    const conf = p.logprob === null || p.logprob === undefined ? 0 : Math.exp(p.logprob);
    pool.set(p.answer, (pool.get(p.answer) ?? 0) + conf);
  }
  const entries = [...pool.entries()];
  if (entries.length === 0) {
    if (topCandidate === undefined) throw new Error('no answer from any prompt and no candidate to fall back on');
    return { answer: topCandidate, score: 0, method: 'top-candidate', pool: entries };
  }
  const [answer, score] = [...entries].sort((a, b) => b[1] - a[1])[0]!;
  return { answer, score, method: 'vote', pool: entries };
}
