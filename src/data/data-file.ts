import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { Sample } from '../core/artifacts.js';
import { InputError } from '../core/errors.js';
import { loadAokvqa } from './aokvqa.js';
import { indexCocoImages } from './coco.js';
import { loadOkvqa } from './okvqa.js';
import { parseWith, readJsonFile } from './read-json.js';
import type { DataSources } from './sources.js';

const examplesSchema = z.strictObject({
  questions: z.string(),
  /** OK-VQA annotations; not needed for A-OKVQA, whose split file holds the answers. */
  annotations: z.string().optional(),
  images: z.string().optional(),
  captions: z.string().optional(),
  tags: z.string().optional(),
});

/** KAT's released knowledge (guilk/KAT okvqa.zip): pickles of one split. */
const katSchema = z.strictObject({
  /** `wikidata_okvqa_{split}_topentities.pkl` */
  entities: z.string().optional(),
  /** `gpt3_okvqa_{split}_answers.pkl` */
  implicit: z.string().optional(),
  /** `{split}.pkl` (KAT's questions and answers, to match its keys to question ids) */
  questions: z.string().optional(),
});

/** data.json: which files a run reads. Relative paths resolve against data.json's folder. */
export const dataFileSchema = z.strictObject({
  dataset: z.enum(['okvqa', 'aokvqa']),
  questions: z.string(),
  annotations: z.string().optional(),
  images: z.string().optional(),
  captions: z.string().optional(),
  tags: z.string().optional(),
  knowledge: z.string().optional(),
  examples: examplesSchema.optional(),
  kat: katSchema.optional(),
});
export type DataFile = z.infer<typeof dataFileSchema>;

export function resolveDataSources(spec: DataFile, dir: string): DataSources {
  const abs = (p: string | undefined) => (p === undefined ? undefined : isAbsolute(p) ? p : resolve(dir, p));
  const out: DataSources = { dataset: spec.dataset, dir, questions: abs(spec.questions)! };
  for (const k of ['annotations', 'images', 'captions', 'tags', 'knowledge'] as const) {
    const v = abs(spec[k]);
    if (v) out[k] = v;
  }
  if (spec.examples) {
    const ex = spec.examples;
    out.examples = { questions: abs(ex.questions)! };
    for (const k of ['annotations', 'images', 'captions', 'tags'] as const) {
      const v = abs(ex[k]);
      if (v) out.examples[k] = v;
    }
  }
  if (spec.kat) {
    out.kat = {};
    for (const k of ['entities', 'implicit', 'questions'] as const) {
      const v = abs(spec.kat[k]);
      if (v) out.kat[k] = v;
    }
  }
  return out;
}

export function loadDataFile(path: string): DataSources {
  const abs = resolve(path);
  return resolveDataSources(parseWith(dataFileSchema, readJsonFile(abs), abs), dirname(abs));
}

/** The samples a data.json describes (questions joined with answers when annotations are given). */
export function loadSamples(data: DataSources): Sample[] {
  if (!data.questions) throw new InputError('data has no "questions" file');
  return loadQuestionSet(data.questions, data.annotations, data.images, data.dataset);
}

/**
 * Questions (+ answers) from either layout: an A-OKVQA split file (a JSON list) or OK-VQA/VQA questions with an optional
 * annotation file. Images are resolved from a COCO folder when given.
 */
export function loadQuestionSet(questions: string, annotations?: string, images?: string, dataset?: 'okvqa' | 'aokvqa'): Sample[] {
  const index = images ? indexCocoImages(images) : undefined;
  const resolveImage = index ? (id: number) => index.get(id) : undefined;
  const isAokvqa = dataset ? dataset === 'aokvqa' : Array.isArray(readJsonFile(questions));
  if (isAokvqa) return loadAokvqa(questions, resolveImage);
  return loadOkvqa(questions, annotations, resolveImage ? { resolveImage } : {});
}
