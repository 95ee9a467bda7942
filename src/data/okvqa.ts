import { z } from 'zod';
import type { Sample } from '../core/artifacts.js';
import { InputError } from '../core/errors.js';
import { parseWith, readJsonFile } from './read-json.js';

const questionSchema = z.object({
  image_id: z.number().int(),
  question: z.string(),
  question_id: z.number().int(),
});
export const vqaQuestionsSchema = z.looseObject({ questions: z.array(questionSchema) });
export type VqaQuestion = z.infer<typeof questionSchema>;

const answerSchema = z.looseObject({
  answer: z.string(),
  answer_id: z.number().int().optional(),
  raw_answer: z.string().optional(),
  answer_confidence: z.string().optional(),
});
const annotationSchema = z.looseObject({
  image_id: z.number().int(),
  question_id: z.number().int(),
  answers: z.array(answerSchema).min(1),
  question_type: z.string().optional(),
  answer_type: z.string().optional(),
});
export const vqaAnnotationsSchema = z.looseObject({ annotations: z.array(annotationSchema) });
export type VqaAnnotation = z.infer<typeof annotationSchema>;
export type VqaAnswer = z.infer<typeof answerSchema>;

export function loadVqaQuestions(path: string): VqaQuestion[] {
  return parseWith(vqaQuestionsSchema, readJsonFile(path), path).questions;
}

/** Annotations in the official VQA layout (OK-VQA v1.0, or v1.1 with `raw_answer`); question/answer types optional. */
export function loadVqaAnnotations(path: string): VqaAnnotation[] {
  return parseWith(vqaAnnotationsSchema, readJsonFile(path), path).annotations;
}

export interface LoadOkvqaOptions {
  /** Resolve each image id to a file path. */
  resolveImage?: (imageId: number) => string | undefined;
  /** Use `raw_answer` (v1.1 unstemmed) instead of `answer` for the sample's answers. Default false. */
  rawAnswers?: boolean;
}

/** OK-VQA (or any VQA-format) questions joined with their annotations when given. */
export function loadOkvqa(questionsPath: string, annotationsPath?: string, opts: LoadOkvqaOptions = {}): Sample[] {
  const questions = loadVqaQuestions(questionsPath);
  const byId = new Map<number, VqaAnnotation>();
  if (annotationsPath) for (const a of loadVqaAnnotations(annotationsPath)) byId.set(a.question_id, a);
  const seen = new Set<number>();
  return questions.map((q, i) => {
    if (seen.has(q.question_id)) {
      throw new InputError(`duplicate question_id ${q.question_id}`, questionsPath, `questions.${i}.question_id`);
    }
    seen.add(q.question_id);
    const sample: Sample = { dataset: 'okvqa', questionId: String(q.question_id), imageId: q.image_id, question: q.question };
    if (annotationsPath) {
      const ann = byId.get(q.question_id);
      if (!ann) throw new InputError(`no annotation for question_id ${q.question_id}`, annotationsPath);
      sample.answers = ann.answers.map((a) => (opts.rawAnswers && a.raw_answer !== undefined ? a.raw_answer : a.answer));
    }
    const path = opts.resolveImage?.(q.image_id);
    if (path) sample.imagePath = path;
    return sample;
  });
}
