/**
 * KAT's accuracy (guilk/KAT src/evaluation.py `okvqa_ems`, what evaluate_KAT.py prints): SQuAD-style normalisation of
 * prediction and each ground-truth answer (lower case; drop ASCII punctuation, `string.punctuation`; articles
 * `\b(a|an|the)\b` → space; `' '.join(text.split())`), then `min(matches / 3, 1)` over the ten answers — no
 * leave-one-out, no VQA normalisation. Word boundaries and whitespace follow Python's Unicode rules (`regex`, `str.split`).
 */
import type { GtAnswer, VqaGroundTruth, VqaPrediction } from './vqa-accuracy.js';
import { EvalInputError } from './vqa-accuracy.js';
import { pyRound } from './normalize.js';

const PUNCT = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
// `regex` (V0) \w: alphabetic, marks, decimal digits, connector punctuation, join controls.
const ARTICLES = /(?<![\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\u200c\u200d])(?:a|an|the)(?![\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\u200c\u200d])/gu;
// Python str.isspace()
const PY_SPACE = /[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/** SQuAD's `normalize_answer` as KAT has it. */
export function squadNormalize(s: string): string {
  const lower = s.toLowerCase();
  let noPunc = '';
  for (const ch of lower) if (!PUNCT.has(ch)) noPunc += ch;
  const noArticles = noPunc.replace(ARTICLES, ' ');
  return noArticles.split(PY_SPACE).filter((t) => t.length > 0).join(' ');
}

/** `okvqa_ems(prediction, ground_truths)`: min(#exact matches after normalisation / 3, 1). */
export function okvqaEms(prediction: string, groundTruths: readonly string[]): number {
  const p = squadNormalize(prediction);
  let n = 0;
  for (const gt of groundTruths) if (squadNormalize(gt) === p) n++;
  return Math.min(n / 3, 1);
}

export interface KatEmsScore {
  dataset: 'okvqa';
  metric: 'kat-ems';
  n: number;
  /** Mean accuracy in percent (2 decimals, Python rounding). */
  overall: number;
  perQuestion: Record<string, number>;
  /** Where the gold answers came from: the annotation file, or KAT's `{split}.pkl` (as KAT's evaluation read them). */
  answers?: { from: 'annotations' | 'kat'; file: string };
}

/**
 * KAT's metric over a prediction set; the ground truths are each question's ten `answer` strings (or `raw_answer` with
 * `answerField`). Predicted ids must equal the annotated ids, as for the official metric.
 */
export function evaluateKatEms(
  annotations: readonly VqaGroundTruth[],
  predictions: readonly VqaPrediction[],
  opts: { answerField?: 'answer' | 'raw_answer'; goldAnswers?: ReadonlyMap<string, readonly string[]> } = {},
): KatEmsScore {
  const field = opts.answerField ?? 'answer';
  const predById = new Map(predictions.map((p) => [String(p.question_id), p.answer]));
  const ann = new Set(annotations.map((a) => String(a.question_id)));
  const missing = [...ann].filter((id) => !predById.has(id));
  const extra = [...predById.keys()].filter((id) => !ann.has(id));
  if (missing.length || extra.length) {
    throw new EvalInputError(`Results do not correspond to the annotation set: ${missing.length} without prediction, ${extra.length} not annotated`);
  }
  const perQuestion: Record<string, number> = {};
  let sum = 0;
  if (opts.goldAnswers) {
    const without = annotations.filter((a) => !opts.goldAnswers!.has(String(a.question_id)));
    if (without.length) {
      throw new EvalInputError(`${without.length} annotated question(s) have no gold answers in the given answer set (first: ${without[0]!.question_id})`);
    }
  }
  for (const a of annotations) {
    const gold = opts.goldAnswers?.get(String(a.question_id));
    const gts = gold ? [...gold] : a.answers.map((x: GtAnswer) => {
      const v = x[field];
      if (typeof v !== 'string') throw new EvalInputError(`question ${a.question_id}: an answer has no string "${field}"`);
      return v;
    });
    const acc = okvqaEms(predById.get(String(a.question_id))!, gts);
    sum += acc;
    perQuestion[String(a.question_id)] = pyRound(100 * acc, 2);
  }
  return { dataset: 'okvqa', metric: 'kat-ems', n: annotations.length, overall: annotations.length ? pyRound((100 * sum) / annotations.length, 2) : 0, perQuestion };
}
