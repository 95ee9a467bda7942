import type { Prediction, Sample } from '../core/artifacts.js';
import type { AokvqaPrediction } from './aokvqa-accuracy.js';
import type { VqaPrediction } from './vqa-accuracy.js';

function words(s: string): Set<string> {
  return new Set(s.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean));
}

/**
 * The choice a direct answer maps to when a pipeline gives no explicit multiple-choice pick: an exact (case-insensitive)
 * match, else the choice with the highest word overlap (Jaccard), ties to the earlier choice.
 */
export function nearestChoice(answer: string, choices: readonly string[]): string | undefined {
  if (!choices.length) return undefined;
  const exact = choices.find((c) => c.toLowerCase() === answer.toLowerCase());
  if (exact !== undefined) return exact;
  const a = words(answer);
  let best = choices[0]!;
  let bestScore = -1;
  for (const c of choices) {
    const w = words(c);
    const inter = [...w].filter((x) => a.has(x)).length;
    const union = new Set([...w, ...a]).size || 1;
    const score = inter / union;
    if (score > bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/** OK-VQA leaderboard format: `[{question_id, answer}]` (numeric ids where the dataset has them). */
export function toVqaPredictions(samples: readonly Sample[], preds: ReadonlyMap<string, Prediction>): VqaPrediction[] {
  return samples.filter((s) => preds.has(s.questionId)).map((s) => ({
    question_id: /^\d+$/.test(s.questionId) ? Number(s.questionId) : s.questionId,
    answer: preds.get(s.questionId)!.answer,
  }));
}

/** A-OKVQA leaderboard format: `{qid: {direct_answer, multiple_choice}}`. */
export function toAokvqaPredictions(samples: readonly Sample[], preds: ReadonlyMap<string, Prediction>): Record<string, AokvqaPrediction> {
  const out: Record<string, AokvqaPrediction> = {};
  for (const s of samples) {
    const p = preds.get(s.questionId);
    if (!p) continue;
    const entry: AokvqaPrediction = { direct_answer: p.answer };
    const mc = p.multipleChoice ?? nearestChoice(p.answer, s.choices ?? []);
    if (mc !== undefined) entry.multiple_choice = mc;
    out[s.questionId] = entry;
  }
  return out;
}
