/**
 * The files the evaluators read (VQA/OK-VQA questions and annotations, A-OKVQA split files), each read and parsed once
 * and validated by hand against the same shapes as the zod schemas in okvqa.ts / aokvqa.ts: a scoring run loads no zod
 * (its import alone costs more than scoring 5,046 questions). Errors name the file and the first offending field.
 */
import { InputError } from '../core/errors.js';
import type { AokvqaRecord } from './aokvqa.js';
import type { VqaAnnotation, VqaQuestion } from './okvqa.js';
import { readJsonFile } from './read-json.js';

type Kind = 'string' | 'int' | 'bool' | 'array' | 'object';

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

class Checker {
  constructor(readonly file: string) {}
  fail(message: string, path: (string | number)[]): never {
    throw new InputError(message, this.file, path.join('.') || undefined);
  }
  /** `v` has the kind; `optional` allows undefined, `nullable` null. */
  is(v: unknown, kind: Kind, path: (string | number)[], o: { optional?: boolean; nullable?: boolean } = {}): boolean {
    if (v === undefined && o.optional) return false;
    if (v === null && o.nullable) return false;
    const ok =
      kind === 'string' ? typeof v === 'string'
      : kind === 'int' ? typeof v === 'number' && Number.isInteger(v)
      : kind === 'bool' ? typeof v === 'boolean'
      : kind === 'array' ? Array.isArray(v)
      : v !== null && typeof v === 'object' && !Array.isArray(v);
    if (!ok) {
      const expected = kind === 'int' && typeof v === 'number' ? 'Invalid input: expected int, received number' : `Invalid input: expected ${kind === 'int' ? 'number' : kind === 'bool' ? 'boolean' : kind}, received ${kindOf(v)}`;
      this.fail(expected, path);
    }
    return true;
  }
}

/** `{"questions": [{image_id, question, question_id}]}` (extra fields allowed). */
export function checkVqaQuestions(value: unknown, file: string): VqaQuestion[] {
  const c = new Checker(file);
  c.is(value, 'object', []);
  const qs = (value as { questions?: unknown }).questions;
  c.is(qs, 'array', ['questions']);
  (qs as unknown[]).forEach((q, i) => {
    const p = ['questions', i];
    c.is(q, 'object', p);
    const r = q as Record<string, unknown>;
    c.is(r.image_id, 'int', [...p, 'image_id']);
    c.is(r.question, 'string', [...p, 'question']);
    c.is(r.question_id, 'int', [...p, 'question_id']);
  });
  return qs as VqaQuestion[];
}

/** `{"annotations": [{image_id, question_id, answers: [{answer, answer_id?, raw_answer?, answer_confidence?}] ≥ 1, question_type?, answer_type?}]}`. */
export function checkVqaAnnotations(value: unknown, file: string): VqaAnnotation[] {
  const c = new Checker(file);
  c.is(value, 'object', []);
  const anns = (value as { annotations?: unknown }).annotations;
  c.is(anns, 'array', ['annotations']);
  const list = anns as unknown[];
  for (let i = 0; i < list.length; i++) {
    const a = list[i];
    if (a === null || typeof a !== 'object' || Array.isArray(a)) c.is(a, 'object', ['annotations', i]);
    const r = a as Record<string, unknown>;
    if (!Number.isInteger(r.image_id)) c.is(r.image_id, 'int', ['annotations', i, 'image_id']);
    if (!Number.isInteger(r.question_id)) c.is(r.question_id, 'int', ['annotations', i, 'question_id']);
    const answers = r.answers;
    c.is(answers, 'array', ['annotations', i, 'answers']);
    if ((answers as unknown[]).length < 1) c.fail('Too small: expected array to have >=1 items', ['annotations', i, 'answers']);
    const al = answers as unknown[];
    for (let j = 0; j < al.length; j++) {
      const x = al[j] as Record<string, unknown> | null;
      if (x === null || typeof x !== 'object' || Array.isArray(x)) c.is(x, 'object', ['annotations', i, 'answers', j]);
      const y = x as Record<string, unknown>;
      if (typeof y.answer !== 'string') c.is(y.answer, 'string', ['annotations', i, 'answers', j, 'answer']);
      if (y.answer_id !== undefined) c.is(y.answer_id, 'int', ['annotations', i, 'answers', j, 'answer_id']);
      if (y.raw_answer !== undefined) c.is(y.raw_answer, 'string', ['annotations', i, 'answers', j, 'raw_answer']);
      if (y.answer_confidence !== undefined) c.is(y.answer_confidence, 'string', ['annotations', i, 'answers', j, 'answer_confidence']);
    }
    c.is(r.question_type, 'string', ['annotations', i, 'question_type'], { optional: true });
    c.is(r.answer_type, 'string', ['annotations', i, 'answer_type'], { optional: true });
  }
  return list as VqaAnnotation[];
}

/** The A-OKVQA v1.0 split file: a list of records (see aokvqa.ts for the fields). */
export function checkAokvqaRecords(value: unknown, file: string): AokvqaRecord[] {
  const c = new Checker(file);
  c.is(value, 'array', []);
  (value as unknown[]).forEach((x, i) => {
    c.is(x, 'object', [i]);
    const r = x as Record<string, unknown>;
    c.is(r.split, 'string', [i, 'split'], { optional: true });
    c.is(r.image_id, 'int', [i, 'image_id']);
    c.is(r.question_id, 'string', [i, 'question_id']);
    c.is(r.question, 'string', [i, 'question']);
    c.is(r.choices, 'array', [i, 'choices']);
    (r.choices as unknown[]).forEach((s, j) => c.is(s, 'string', [i, 'choices', j]));
    c.is(r.correct_choice_idx, 'int', [i, 'correct_choice_idx'], { optional: true, nullable: true });
    for (const k of ['direct_answers', 'rationales'] as const) {
      if (c.is(r[k], 'array', [i, k], { optional: true, nullable: true })) (r[k] as unknown[]).forEach((s, j) => c.is(s, 'string', [i, k, j]));
    }
    c.is(r.difficult_direct_answer, 'bool', [i, 'difficult_direct_answer'], { optional: true });
  });
  return value as AokvqaRecord[];
}

export function readVqaQuestions(path: string): VqaQuestion[] {
  return checkVqaQuestions(readJsonFile(path), path);
}

export function readVqaAnnotations(path: string): VqaAnnotation[] {
  return checkVqaAnnotations(readJsonFile(path), path);
}
