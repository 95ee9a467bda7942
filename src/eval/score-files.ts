import type { DatasetName } from '../core/artifacts.js';
import { checkAokvqaRecords, checkVqaAnnotations, readVqaQuestions } from '../data/eval-files.js';
import { InputError } from '../core/errors.js';
import { readJsonFile } from '../data/read-json.js';
import type { VqaAnnotation } from '../data/okvqa.js';
import { evaluateKatEms, type KatEmsScore } from './kat-ems.js';
import { evaluateAokvqa, type AokvqaPrediction, type AokvqaScore } from './aokvqa-accuracy.js';
import { evaluateVqa, EvalInputError, type VqaEvalOptions, type VqaPrediction, type VqaScore } from './vqa-accuracy.js';

export type Score = VqaScore | AokvqaScore;

export interface ScoreOptions extends VqaEvalOptions {
  dataset?: DatasetName;
  /** OK-VQA questions file: when given, its question ids must match the annotations (as the official loader). */
  questions?: string;
  /** Evaluate only these question ids (runs with --limit). */
  only?: ReadonlySet<string>;
  /**
   * OK-VQA: score against `raw` answers (v1.1's `raw_answer`, or v1.0's `answer`, which is raw) or v1.1's `stemmed`
   * `answer` field. Default: the file's `answer` field, as the official evaluator reads it.
   */
  answers?: 'raw' | 'stemmed';
}

/** Whether an OK-VQA annotation file's `answer` fields are v1.1's stemmed answers (some differ from `raw_answer`). */
export function hasStemmedAnswers(annotations: readonly VqaAnnotation[]): boolean {
  for (const a of annotations) for (const x of a.answers) if (x.raw_answer !== undefined && x.raw_answer !== x.answer) return true;
  return false;
}

/** The annotations with the chosen answer version in `answer` (see ScoreOptions.answers), and which version that is. */
export function selectAnswers(annotations: VqaAnnotation[], choice: 'raw' | 'stemmed' | undefined, file: string): { annotations: VqaAnnotation[]; answers: 'raw' | 'stemmed' } {
  const stemmed = hasStemmedAnswers(annotations);
  if (choice === undefined) return { annotations, answers: stemmed ? 'stemmed' : 'raw' };
  if (choice === 'stemmed') {
    if (!stemmed) {
      throw new EvalInputError(
        `--answers stemmed needs OK-VQA v1.1 annotations (stemmed "answer" beside "raw_answer"); ${file} carries raw answers only (OK-VQA v1.0 or a raw reassembly). Score with --answers raw, or pass the v1.1 mscoco_val2014_annotations.json`,
      );
    }
    return { annotations, answers: 'stemmed' };
  }
  if (!stemmed) return { annotations, answers: 'raw' };
  return {
    annotations: annotations.map((a) => ({ ...a, answers: a.answers.map((x) => (x.raw_answer === undefined ? x : { ...x, answer: x.raw_answer })) })),
    answers: 'raw',
  };
}

/** Guess the dataset from the annotation file's shape: a list is A-OKVQA, an object with `annotations` is VQA/OK-VQA. */
export function detectDataset(annotations: unknown): DatasetName {
  return Array.isArray(annotations) ? 'aokvqa' : 'okvqa';
}

export function scorePredictionFiles(annotationsPath: string, predictionsPath: string, opts: ScoreOptions = {}): Score {
  const preds = readJsonFile(predictionsPath);
  return scorePredictions(annotationsPath, preds, opts, predictionsPath);
}

export function scorePredictions(annotationsPath: string, preds: unknown, opts: ScoreOptions = {}, predictionsPath = 'predictions'): Score {
  // The annotation file is read and parsed once, and validated without zod (data/eval-files.ts).
  const annotationData = readJsonFile(annotationsPath);
  const dataset = opts.dataset ?? detectDataset(annotationData);
  if (dataset === 'aokvqa') {
    if (!preds || typeof preds !== 'object' || Array.isArray(preds)) {
      throw new InputError('A-OKVQA predictions must be an object {question_id: {"direct_answer", "multiple_choice"}}', predictionsPath);
    }
    let records = checkAokvqaRecords(annotationData, annotationsPath);
    if (opts.only) records = records.filter((r) => opts.only!.has(r.question_id));
    if (opts.transformPrediction) throw new EvalInputError('stemming applies to OK-VQA only');
    if (opts.answers) throw new EvalInputError('--answers applies to OK-VQA only');
    const score = evaluateAokvqa(records, preds as Record<string, AokvqaPrediction>);
    const splits = new Set(records.map((r) => r.split));
    const split = [...splits][0];
    if (splits.size === 1 && typeof split === 'string') score.split = split;
    return score;
  }
  if (!Array.isArray(preds)) throw new InputError('results is not an array of objects [{"question_id", "answer"}]', predictionsPath);
  preds.forEach((p, i) => {
    if (!p || typeof p !== 'object' || !('question_id' in p) || typeof (p as { answer?: unknown }).answer !== 'string') {
      throw new InputError('each prediction needs "question_id" and a string "answer"', predictionsPath, `[${i}]`);
    }
  });
  const selected = selectAnswers(checkVqaAnnotations(annotationData, annotationsPath), opts.answers, annotationsPath);
  let annotations = selected.annotations;
  if (opts.questions) {
    const qids = new Set(readVqaQuestions(opts.questions).map((q) => q.question_id));
    const missing = annotations.filter((a) => !qids.has(a.question_id));
    if (missing.length || qids.size !== annotations.length) {
      throw new EvalInputError(`questions file ${opts.questions} and annotations ${annotationsPath} do not describe the same questions`);
    }
  }
  if (opts.only) annotations = annotations.filter((a) => opts.only!.has(String(a.question_id)));
  const seen = new Map<string, number>();
  (preds as VqaPrediction[]).forEach((p, i) => {
    const k = String(p.question_id);
    if (seen.has(k)) throw new InputError(`duplicate prediction for question_id ${k} (also entry ${seen.get(k)})`, predictionsPath, `[${i}]`);
    seen.set(k, i);
  });
  try {
    return { ...evaluateVqa(annotations, preds as VqaPrediction[], opts), answers: selected.answers };
  } catch (err) {
    if (err instanceof EvalInputError) throw new EvalInputError(`${predictionsPath} against ${annotationsPath}: ${err.message}`);
    throw err;
  }
}

/** KAT's `okvqa_ems` over an OK-VQA prediction file (`okvqa eval --metric kat-ems`). */
export function scoreKatEmsFiles(
  annotationsPath: string,
  predictionsPath: string,
  opts: {
    answerField?: 'answer' | 'raw_answer';
    only?: ReadonlySet<string>;
    /** Gold answers by question id (KAT's `{split}.pkl`) instead of the annotation file's, and that file's path. */
    gold?: { answers: ReadonlyMap<string, readonly string[]>; file: string };
  } = {},
): KatEmsScore {
  const preds = readJsonFile(predictionsPath);
  const annotationData = readJsonFile(annotationsPath);
  if (detectDataset(annotationData) !== 'okvqa') throw new EvalInputError('kat-ems scores OK-VQA annotation files');
  if (!Array.isArray(preds)) throw new InputError('results is not an array of objects [{"question_id", "answer"}]', predictionsPath);
  preds.forEach((p, i) => {
    if (!p || typeof p !== 'object' || !('question_id' in p) || typeof (p as { answer?: unknown }).answer !== 'string') {
      throw new InputError('each prediction needs "question_id" and a string "answer"', predictionsPath, `[${i}]`);
    }
  });
  let annotations = checkVqaAnnotations(annotationData, annotationsPath);
  if (opts.only) annotations = annotations.filter((a) => opts.only!.has(String(a.question_id)));
  const score = evaluateKatEms(annotations, preds as VqaPrediction[], {
    ...(opts.answerField ? { answerField: opts.answerField } : {}),
    ...(opts.gold ? { goldAnswers: opts.gold.answers } : {}),
  });
  return { ...score, answers: opts.gold ? { from: 'kat', file: opts.gold.file } : { from: 'annotations', file: annotationsPath } };
}
