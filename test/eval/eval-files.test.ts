import { describe, expect, it } from 'vitest';
import { checkAokvqaRecords, checkVqaAnnotations, checkVqaQuestions } from '../../src/data/eval-files.js';
import { vqaAnnotationsSchema, vqaQuestionsSchema } from '../../src/data/okvqa.js';
import { InputError } from '../../src/core/errors.js';
import { loadAokvqaRecords } from '../../src/data/aokvqa.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ann = () => ({ image_id: 1, question_id: 2, question_type: 'what', answer_type: 'other', answers: [{ answer: 'x', answer_id: 1, answer_confidence: 'yes' }] });
const q = () => ({ image_id: 1, question: 'why?', question_id: 2 });
const rec = () => ({ split: 'val', image_id: 1, question_id: 'a', question: 'q', choices: ['x', 'y'], correct_choice_idx: 0, direct_answers: ['x'], difficult_direct_answer: false, rationales: ['r'] });

/** Variants of a valid value with one field broken (or one optional field dropped / nulled). */
function variants<T extends Record<string, unknown>>(make: () => T): [string, unknown][] {
  const out: [string, unknown][] = [['valid', make()]];
  for (const k of Object.keys(make())) {
    for (const bad of [undefined, null, 'str', 1.5, 3, true, [], {}]) out.push([`${k}=${JSON.stringify(bad)}`, { ...make(), [k]: bad }]);
  }
  return out;
}

describe('zod-free validation of the evaluators\' files accepts and rejects exactly what the zod schemas do', () => {
  it.each(variants(ann))('VQA annotation %s', (_name, a) => {
    const value = { annotations: [a] };
    expect(safe(() => checkVqaAnnotations(value, 'f'))).toBe(vqaAnnotationsSchema.safeParse(value).success);
  });

  it.each([...variants(() => ({ answer: 'x', answer_id: 1, raw_answer: 'x', answer_confidence: 'yes' }))])('VQA answer %s', (_name, x) => {
    const value = { annotations: [{ ...ann(), answers: [x] }] };
    expect(safe(() => checkVqaAnnotations(value, 'f'))).toBe(vqaAnnotationsSchema.safeParse(value).success);
  });

  it.each(variants(q))('VQA question %s', (_name, x) => {
    const value = { questions: [x] };
    expect(safe(() => checkVqaQuestions(value, 'f'))).toBe(vqaQuestionsSchema.safeParse(value).success);
  });

  const dir = mkdtempSync(join(tmpdir(), 'okvqa-evalfiles-'));
  it.each(variants(rec))('A-OKVQA record %s', (name, x) => {
    const file = join(dir, `${name.replace(/[^a-z0-9]/gi, '_')}.json`);
    writeFileSync(file, JSON.stringify([x]));
    expect(safe(() => checkAokvqaRecords([x], 'f'))).toBe(safe(() => loadAokvqaRecords(file)));
  });

  it('errors name the file and the field', () => {
    const value = { annotations: [ann(), { ...ann(), answers: [{ answer: 3 }] }] };
    expect(() => checkVqaAnnotations(value, 'ann.json')).toThrow(InputError);
    expect(() => checkVqaAnnotations(value, 'ann.json')).toThrow(/ann\.json: field "annotations\.1\.answers\.0\.answer": Invalid input: expected string, received number/);
    expect(() => checkVqaAnnotations({ annotations: [{ ...ann(), answers: [] }] }, 'a.json')).toThrow(/annotations\.0\.answers.*>=1/);
  });
});

function safe(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}
