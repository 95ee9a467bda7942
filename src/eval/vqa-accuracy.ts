import { stableStringify } from '../core/hash.js';
import { cleanWhitespace, normalizeAnswer, pyRound } from './normalize.js';

/** One ground-truth answer object as in the official annotation file (extra fields take part in equality, as in Python). */
export type GtAnswer = { answer: string } & Record<string, unknown>;

export interface VqaGroundTruth {
  question_id: number | string;
  answers: GtAnswer[];
  question_type?: string;
  answer_type?: string;
}

export interface VqaPrediction {
  question_id: number | string;
  answer: string;
}

export interface VqaScore {
  dataset: 'okvqa';
  n: number;
  overall: number;
  perQuestion: Record<string, number>;
  perQuestionType: Record<string, number>;
  perAnswerType: Record<string, number>;
}

export interface VqaEvalOptions {
  /** Optional transform of each prediction after the official cleaning (e.g. OK-VQA v1.1-style stemming). Off by default. */
  transformPrediction?: (answer: string) => string;
}

/**
 * Accuracy of one prediction against its ten answers, exactly as the official script computes it:
 * answers and prediction are normalised only when the answers are not all identical; each answer is left out in turn and
 * the prediction scores min(1, matches among the other nine / 3); the ten scores are averaged.
 */
export function vqaQuestionAccuracy(prediction: string, answers: readonly GtAnswer[], opts: VqaEvalOptions = {}): number {
  const gts = answers.map((a) => ({ ...a, answer: cleanWhitespace(a.answer) }));
  let res = cleanWhitespace(prediction);
  if (new Set(gts.map((a) => a.answer)).size > 1) {
    for (const a of gts) a.answer = normalizeAnswer(a.answer);
    res = normalizeAnswer(res);
  }
  if (opts.transformPrediction) res = opts.transformPrediction(res);
  // Python compares the answer dicts by value (`item != gtAnsDatum`): identical dicts are all left out together.
  const keys = gts.map((a) => stableStringify(a));
  let sum = 0;
  for (let i = 0; i < gts.length; i++) {
    let matching = 0;
    for (let j = 0; j < gts.length; j++) if (keys[j] !== keys[i] && gts[j]!.answer === res) matching++;
    sum += Math.min(1, matching / 3);
  }
  return sum / gts.length;
}

export class EvalInputError extends Error {
  override name = 'EvalInputError';
}

/**
 * The official VQA evaluation over a set of questions. As the official `loadRes`, the predicted question ids must be
 * exactly the annotated ones; accumulation follows annotation order; results are rounded to 2 decimals like the script.
 * Question/answer types absent from the annotations are simply not reported.
 */
export function evaluateVqa(annotations: readonly VqaGroundTruth[], predictions: readonly VqaPrediction[], opts: VqaEvalOptions = {}): VqaScore {
  const predById = new Map<string, string>();
  for (const p of predictions) predById.set(String(p.question_id), p.answer);
  const annIds = new Set(annotations.map((a) => String(a.question_id)));
  const missing = [...annIds].filter((id) => !predById.has(id));
  const extra = [...predById.keys()].filter((id) => !annIds.has(id));
  if (missing.length || extra.length) {
    const show = (ids: string[]) => ids.slice(0, 5).join(', ') + (ids.length > 5 ? ', …' : '');
    throw new EvalInputError(
      'Results do not correspond to the annotation set' +
        (missing.length ? `: ${missing.length} annotated question(s) have no prediction (${show(missing)})` : '') +
        (extra.length ? `${missing.length ? ';' : ':'} ${extra.length} predicted question(s) are not annotated (${show(extra)})` : ''),
    );
  }
  const accQA: number[] = [];
  const byQType = new Map<string, number[]>();
  const byAType = new Map<string, number[]>();
  const perQuestion: Record<string, number> = {};
  const push = (m: Map<string, number[]>, k: string | undefined, v: number) => {
    if (k === undefined) return;
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  };
  for (const ann of annotations) {
    const id = String(ann.question_id);
    const acc = vqaQuestionAccuracy(predById.get(id)!, ann.answers, opts);
    accQA.push(acc);
    push(byQType, ann.question_type, acc);
    push(byAType, ann.answer_type, acc);
    perQuestion[id] = pyRound(100 * acc, 2);
  }
  const mean100 = (xs: number[]) => pyRound((100 * xs.reduce((s, x) => s + x, 0)) / xs.length, 2);
  return {
    dataset: 'okvqa',
    n: accQA.length,
    overall: accQA.length ? mean100(accQA) : 0,
    perQuestion,
    perQuestionType: Object.fromEntries([...byQType].map(([k, v]) => [k, mean100(v)])),
    perAnswerType: Object.fromEntries([...byAType].map(([k, v]) => [k, mean100(v)])),
  };
}
