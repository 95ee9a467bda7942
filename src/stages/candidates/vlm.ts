/**
 * `candidates.vlm`: the top-k answers a vision-language model gives for the image and question, each with a confidence
 * (`prompts/vlm-candidates.txt`: one `answer (confidence)` per line) — the candidate list Prophet's prompt takes.
 *
 * Confidences are the model's stated ones (clamped to [0, 1]; divided by their sum when it exceeds 1), or with
 * `confidence: logprob` exp(summed log-probabilities of each answer's tokens). A line without a number gets none; when no line has one, confidences fall back to rank (k, k−1, … normalised to sum 1) and the trace
 * says so. Answers are cleaned as PICa cleans answers and deduplicated (the first, most likely, kept).
 */
import { z } from 'zod';
import type { Candidate } from '../../core/artifacts.js';
import type { TokenLogprob } from '../../llm/types.js';
import { defineStage } from '../../core/stage.js';
import { processAnswer } from '../../llm/pica.js';
import { loadTemplate, renderTemplate } from '../../llm/template.js';
import { completeVlmCached } from '../../llm/vlm.js';
import { checkVlm } from '../vlm-check.js';
import { captionSection, questionImage, vlmStageFingerprint } from '../vlm-prompt.js';

const BULLET = /^\s*(?:[-*•]|\(?\d+[.):]|[a-z][.)])\s+/i;
const CONF = /^(.*?)\s*(?:[([]\s*(?:confidence\s*[:=]?\s*)?(\d*\.?\d+)\s*(%?)\s*[)\]]|(?:\s*[:=]|\s+[-–—])\s*(\d*\.?\d+)\s*(%?))\s*$/i;

export interface CandidateLine {
  answer: string;
  confidence?: number;
  /** Character span [start, end) of the answer in the completion text. */
  span: [number, number];
}

/** Parse `answer (0.83)` lines (bullets, numbering, `answer: 0.83`, `answer - 83%` accepted). */
export function parseCandidateLines(text: string): CandidateLine[] {
  const out: CandidateLine[] = [];
  let offset = 0;
  for (const raw of text.split('\n')) {
    const lineStart = offset;
    offset += raw.length + 1;
    const bullet = BULLET.exec(raw)?.[0].length ?? 0;
    const line = raw.slice(bullet).trim();
    if (!line) continue;
    const at = lineStart + bullet + raw.slice(bullet).indexOf(line);
    const m = CONF.exec(line);
    if (m) {
      const num = Number(m[2] ?? m[4]);
      const pct = (m[3] ?? m[5]) === '%' || num > 1;
      const answer = m[1]!.trim();
      if (answer && Number.isFinite(num)) {
        out.push({ answer, confidence: Math.min(1, Math.max(0, pct ? num / 100 : num)), span: [at, at + answer.length] });
        continue;
      }
    }
    out.push({ answer: line, span: [at, at + line.length] });
  }
  return out;
}

/**
 * Confidence of each line from the completion's token log-probabilities: exp(sum of the log-probabilities of the tokens
 * that overlap the answer's characters), the probability of writing that answer where it stands. Undefined when the
 * tokens do not spell the text (then they cannot be aligned).
 */
export function logprobConfidences(lines: readonly CandidateLine[], tokens: readonly TokenLogprob[], text: string): CandidateLine[] | undefined {
  if (tokens.map((t) => t.token).join('') !== text) return undefined;
  const starts: number[] = [];
  let pos = 0;
  for (const t of tokens) {
    starts.push(pos);
    pos += t.token.length;
  }
  return lines.map((l) => {
    let sum = 0;
    tokens.forEach((t, i) => {
      const a = starts[i]!;
      if (a < l.span[1] && a + t.token.length > l.span[0]) sum += t.logprob;
    });
    return { ...l, confidence: Math.exp(sum) };
  });
}

/** Cleaned, deduplicated, at most k candidates with confidences (stated, else by rank). */
export function toCandidates(lines: readonly Pick<CandidateLine, 'answer' | 'confidence'>[], k: number): { candidates: Candidate[]; confidence: 'stated' | 'rank' } {
  const seen = new Set<string>();
  const kept: { answer: string; confidence?: number }[] = [];
  for (const l of lines) {
    const answer = processAnswer(l.answer.replace(/^["']|["']$/g, '').trim());
    if (!answer || seen.has(answer)) continue;
    seen.add(answer);
    kept.push({ answer, ...(l.confidence !== undefined ? { confidence: l.confidence } : {}) });
    if (kept.length === k) break;
  }
  const stated = kept.some((c) => c.confidence !== undefined);
  if (!stated) {
    const total = (kept.length * (kept.length + 1)) / 2;
    return { candidates: kept.map((c, i) => ({ answer: c.answer, score: (kept.length - i) / total, source: 'vlm' })), confidence: 'rank' };
  }
  const sum = kept.reduce((s, c) => s + (c.confidence ?? 0), 0);
  const scale = sum > 1 ? 1 / sum : 1;
  const candidates = kept.map((c) => ({ answer: c.answer, score: (c.confidence ?? 0) * scale, source: 'vlm' }));
  // Most confident first (stable: the model's order among equals).
  return { candidates: candidates.map((c, i) => ({ c, i })).sort((a, b) => b.c.score - a.c.score || a.i - b.i).map((x) => x.c), confidence: 'stated' };
}

export const candidatesVlm = defineStage({
  id: 'candidates.vlm',
  version: '1',
  description: 'Top-k answer candidates with confidences from a vision-language model (e.g. for Prophet\'s prompt)',
  inputs: { sample: { kind: 'sample', image: true }, captions: { kind: 'captions', optional: true } },
  output: 'candidates',
  params: z.strictObject({
    template: z.string().default('vlm-candidates'),
    /** Candidates asked for and kept (Prophet: 10). */
    k: z.number().int().positive().max(50).default(10),
    /**
     * Where confidences come from: the numbers the model writes (stated), or the log-probabilities of each answer's
     * tokens (logprob; falls back to stated, noted in the trace, when the server gives none).
     */
    confidence: z.enum(['stated', 'logprob']).default('stated'),
    maxTokens: z.number().int().positive().default(120),
    temperature: z.number().min(0).default(0),
  }),
  fingerprint: (p, ctx) => vlmStageFingerprint(p.template, ctx),
  check: (_p, ctx) => checkVlm(ctx),
  async run({ sample, captions }, p, ctx): Promise<Candidate[]> {
    const text = renderTemplate(loadTemplate(ctx.paths, p.template), { question: sample.question, k: p.k, caption: captionSection(captions) });
    const { response, cached, image } = await completeVlmCached(ctx, {
      imagePath: questionImage(sample, ctx),
      text,
      maxTokens: p.maxTokens,
      temperature: p.temperature,
      logprobs: p.confidence === 'logprob',
    });
    let lines = parseCandidateLines(response.text);
    let from: string = p.confidence;
    if (p.confidence === 'logprob') {
      const aligned = response.tokens ? logprobConfidences(lines, response.tokens, response.text) : undefined;
      if (aligned) lines = aligned;
      else from = response.tokens ? 'stated (the log-probability tokens do not spell the reply)' : 'stated (the server gave no log-probabilities)';
    }
    const { candidates, confidence } = toCandidates(lines, p.k);
    ctx.note('prompt', { prompt: text, image, completion: response.text, cached, confidence: confidence === 'rank' ? 'rank' : from });
    if (!candidates.length) throw new Error(`the vision-language model ${response.model} listed no answer candidates`);
    return candidates;
  },
});
