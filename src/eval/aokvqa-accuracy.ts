import type { AokvqaRecord } from '../data/aokvqa.js';
import { EvalInputError } from './vqa-accuracy.js';

export interface AokvqaPrediction {
  direct_answer?: string;
  multiple_choice?: string;
}

export interface AokvqaScore {
  dataset: 'aokvqa';
  n: number;
  /** Direct-answer accuracy (0–100) over questions not marked difficult_direct_answer; null when no DA predictions. */
  directAnswer: number | null;
  /** Multiple-choice accuracy (0–100) over all questions; null when no MC predictions. */
  multipleChoice: number | null;
  nDirectAnswer: number;
  nMultipleChoice: number;
  /** The records' `split` (val, train, …) when they all share one. */
  split?: string;
}

/**
 * A-OKVQA evaluation as allenai/aokvqa `eval_predictions.py` (strict mode): DA drops difficult_direct_answer questions and
 * scores exact string match min(1, matches/3) over the ten direct answers (no normalisation, no leave-one-out); MC is exact
 * match with choices[correct_choice_idx] and the prediction must be one of the choices. Every evaluated question needs a
 * prediction; extra predictions are allowed.
 */
export function evaluateAokvqa(records: readonly AokvqaRecord[], predictions: Record<string, AokvqaPrediction | string>): AokvqaScore {
  const preds = new Map<string, AokvqaPrediction>();
  for (const [qid, p] of Object.entries(predictions)) preds.set(qid, typeof p === 'string' ? { direct_answer: p } : p);
  const hasDA = [...preds.values()].some((p) => typeof p.direct_answer === 'string');
  const hasMC = [...preds.values()].some((p) => typeof p.multiple_choice === 'string');
  if (!hasDA && !hasMC) throw new EvalInputError('predictions contain neither "direct_answer" nor "multiple_choice"');

  const score = (mc: boolean): { acc: number; n: number } => {
    const set = mc ? records : records.filter((r) => r.difficult_direct_answer === false);
    const acc: number[] = [];
    for (const r of set) {
      const p = preds.get(r.question_id);
      const pred = mc ? p?.multiple_choice : p?.direct_answer;
      if (typeof pred !== 'string') throw new EvalInputError(`question ${r.question_id} has no ${mc ? 'multiple_choice' : 'direct_answer'} prediction`);
      if (mc) {
        if (!r.choices.includes(pred)) throw new EvalInputError(`question ${r.question_id}: prediction "${pred}" must be a valid choice`);
        if (typeof r.correct_choice_idx !== 'number') throw new EvalInputError(`question ${r.question_id} has no correct_choice_idx (test split?)`);
        acc.push(Number(pred === r.choices[r.correct_choice_idx]));
      } else {
        if (!r.direct_answers) throw new EvalInputError(`question ${r.question_id} has no direct_answers (test split?)`);
        const matches = r.direct_answers.filter((da) => da === pred).length;
        acc.push(Math.min(1.0, matches / 3.0));
      }
    }
    return { acc: acc.length ? (acc.reduce((s, x) => s + x, 0) / acc.length) * 100 : 0, n: acc.length };
  };
  const da = hasDA ? score(false) : undefined;
  const mc = hasMC ? score(true) : undefined;
  return {
    dataset: 'aokvqa',
    n: records.length,
    directAnswer: da ? da.acc : null,
    multipleChoice: mc ? mc.acc : null,
    nDirectAnswer: da?.n ?? 0,
    nMultipleChoice: mc?.n ?? 0,
  };
}
