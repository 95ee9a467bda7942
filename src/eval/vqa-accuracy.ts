import { InputError } from '../core/errors.js';
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
  /** Which OK-VQA answers were scored: `raw` (v1.0, or v1.1's raw_answer) or v1.1's `stemmed` answer field. */
  answers?: 'raw' | 'stemmed';
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
  return questionAccuracy(prediction, answers, opts, normalizeAnswer);
}

/** A normaliser that remembers its results (answers repeat across questions); one per evaluation. */
function memoNormalizer(): (s: string) => string {
  const memo = new Map<string, string>();
  return (s) => {
    let r = memo.get(s);
    if (r === undefined) {
      r = normalizeAnswer(s);
      memo.set(s, r);
    }
    return r;
  };
}

function questionAccuracy(prediction: string, answers: readonly GtAnswer[], opts: VqaEvalOptions, normalize: (s: string) => string): number {
  const m = answers.length;
  const texts = new Array<string>(m);
  let allSame = true;
  for (let i = 0; i < m; i++) {
    texts[i] = cleanWhitespace(answers[i]!.answer);
    if (texts[i] !== texts[0]) allSame = false;
  }
  let res = cleanWhitespace(prediction);
  if (!allSame) {
    for (let i = 0; i < m; i++) texts[i] = normalize(texts[i]!);
    res = normalize(res);
  }
  if (opts.transformPrediction) res = opts.transformPrediction(res);
  // Leaving answer i out, the script counts the OTHER answer dicts equal to the prediction, where "other" is Python's
  // `item != gtAnsDatum`: dicts equal by value (with the cleaned answer) are all left out together. Only answers whose
  // text equals the prediction can match, so dict equality is needed only among those.
  const matches: number[] = [];
  for (let j = 0; j < m; j++) if (texts[j] === res) matches.push(j);
  // Distinct answer_ids (the usual case) make every dict distinct: only the left-out answer itself is excluded.
  const distinct = matches.length > 1 && distinctAnswerIds(answers);
  let sum = 0;
  for (let i = 0; i < m; i++) {
    let matching = matches.length;
    if (texts[i] === res) {
      if (distinct) matching--;
      else for (const j of matches) if (j === i || sameOtherFields(answers[i]!, answers[j]!)) matching--;
    }
    sum += Math.min(1, matching / 3);
  }
  return sum / m;
}

function distinctAnswerIds(answers: readonly GtAnswer[]): boolean {
  for (let i = 0; i < answers.length; i++) {
    const id = answers[i]!.answer_id;
    if (typeof id !== 'number') return false;
    for (let j = 0; j < i; j++) if (answers[j]!.answer_id === id) return false;
  }
  return true;
}

/** Python `==` on two answer dicts whose `answer` texts are already known equal: every other field equal by value. */
function sameOtherFields(a: GtAnswer, b: GtAnswer): boolean {
  let na = 0;
  for (const k in a) {
    if (a[k] === undefined) continue;
    na++;
    if (k !== 'answer' && !pyEqual(a[k], b[k])) return false;
  }
  let nb = 0;
  for (const k in b) if (b[k] !== undefined) nb++;
  return na === nb;
}

/** Python equality of JSON values: numbers and booleans by numeric value (True == 1), containers by content. */
function pyEqual(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  const tx = typeof x;
  const ty = typeof y;
  if ((tx === 'number' || tx === 'boolean') && (ty === 'number' || ty === 'boolean')) return Number(x) === Number(y);
  if (x === null || y === null || tx !== 'object' || ty !== 'object') return false;
  if (Array.isArray(x) || Array.isArray(y)) {
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
    return x.every((v, i) => pyEqual(v, y[i]));
  }
  const ox = x as Record<string, unknown>;
  const oy = y as Record<string, unknown>;
  const kx = Object.keys(ox).filter((k) => ox[k] !== undefined);
  const ky = Object.keys(oy).filter((k) => oy[k] !== undefined);
  return kx.length === ky.length && kx.every((k) => k in oy && pyEqual(ox[k], oy[k]));
}

/** Predictions that do not fit the annotations (other question ids, a missing field): an input error, exit code 2. */
export class EvalInputError extends InputError {
  override name = 'EvalInputError';
  constructor(message: string) {
    super(message);
  }
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
  const normalize = memoNormalizer();
  const push = (m: Map<string, number[]>, k: string | undefined, v: number) => {
    if (k === undefined) return;
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  };
  for (const ann of annotations) {
    const id = String(ann.question_id);
    const acc = questionAccuracy(predById.get(id)!, ann.answers, opts, normalize);
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
