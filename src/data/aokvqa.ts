import { z } from 'zod';
import type { Sample } from '../core/artifacts.js';
import { InputError } from '../core/errors.js';
import { parseWith, readJsonFile } from './read-json.js';

const recordSchema = z.looseObject({
  split: z.string().optional(),
  image_id: z.number().int(),
  question_id: z.string(),
  question: z.string(),
  choices: z.array(z.string()),
  correct_choice_idx: z.number().int().nullable().optional(),
  direct_answers: z.array(z.string()).nullable().optional(),
  difficult_direct_answer: z.boolean().optional(),
  rationales: z.array(z.string()).nullable().optional(),
});
export type AokvqaRecord = z.infer<typeof recordSchema>;
const fileSchema = z.array(recordSchema);

/** A-OKVQA v1.0 official JSON (a list of records; the test split has no answers). */
export function loadAokvqaRecords(path: string): AokvqaRecord[] {
  const records = parseWith(fileSchema, readJsonFile(path), path);
  const seen = new Map<string, number>();
  records.forEach((r, i) => {
    const first = seen.get(r.question_id);
    if (first !== undefined) {
      throw new InputError(`duplicate question_id "${r.question_id}" (also record ${first})`, path, `[${i}].question_id`);
    }
    seen.set(r.question_id, i);
  });
  return records;
}

export function aokvqaSamples(records: readonly AokvqaRecord[], resolveImage?: (imageId: number) => string | undefined): Sample[] {
  return records.map((r) => {
    const s: Sample = { dataset: 'aokvqa', questionId: r.question_id, imageId: r.image_id, question: r.question, choices: r.choices };
    if (r.direct_answers) s.answers = r.direct_answers;
    if (typeof r.correct_choice_idx === 'number') s.correctChoiceIdx = r.correct_choice_idx;
    const p = resolveImage?.(r.image_id);
    if (p) s.imagePath = p;
    return s;
  });
}

export function loadAokvqa(path: string, resolveImage?: (imageId: number) => string | undefined): Sample[] {
  return aokvqaSamples(loadAokvqaRecords(path), resolveImage);
}
