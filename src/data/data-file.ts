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

/** Prophet's released answer heuristics (MILVLG/prophet assets/). */
const prophetSchema = z.strictObject({
  candidates: z.string().optional(),
  examples: z.string().optional(),
  captions: z.string().optional(),
  /** Question files of the examples (default data.json "examples"); A-OKVQA test: train and val. */
  pool: z.array(z.strictObject({ questions: z.string(), annotations: z.string().optional() })).optional(),
});

/** data.json: which files a run reads. Relative paths resolve against data.json's folder. */
export const dataFileSchema = z.strictObject({
  dataset: z.enum(['okvqa', 'aokvqa']),
  questions: z.string(),
  annotations: z.string().optional(),
  images: z.string().optional(),
  captions: z.string().optional(),
  /** Question-aware captions keyed by question id (`{question_id: caption}`, e.g. InstructBLIP's / PromptCap's). */
  questionCaptions: z.string().optional(),
  tags: z.string().optional(),
  knowledge: z.string().optional(),
  examples: examplesSchema.optional(),
  kat: katSchema.optional(),
  prophet: prophetSchema.optional(),
});
export type DataFile = z.infer<typeof dataFileSchema>;

export function resolveDataSources(spec: DataFile, dir: string): DataSources {
  const abs = (p: string | undefined) => (p === undefined ? undefined : isAbsolute(p) ? p : resolve(dir, p));
  const out: DataSources = { dataset: spec.dataset, dir, questions: abs(spec.questions)! };
  for (const k of ['annotations', 'images', 'captions', 'questionCaptions', 'tags', 'knowledge'] as const) {
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
  if (spec.prophet) {
    const p = spec.prophet;
    out.prophet = {};
    for (const k of ['candidates', 'examples', 'captions'] as const) {
      const v = abs(p[k]);
      if (v) out.prophet[k] = v;
    }
    if (p.pool) {
      out.prophet.pool = p.pool.map((f) => {
        const e: { questions: string; annotations?: string } = { questions: abs(f.questions)! };
        const a = abs(f.annotations);
        if (a) e.annotations = a;
        return e;
      });
    }
  }
  return out;
}

/** Appended to "file not found" errors for data files: where the data comes from. */
export const DATA_HINT =
  'download the data with "okvqa data fetch okvqa" (it writes a ready data.json), or write a data.json naming your files (README, "Quick start")';

function withDataHint<T>(what: string | ((file: string | undefined) => string), load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof InputError && /file not found|cannot read images folder \(ENOENT\)/.test(err.message)) {
      throw new InputError(`${err.message} (${typeof what === 'string' ? what : what(err.file)}); ${DATA_HINT}`);
    }
    throw err;
  }
}

/** `data.json "questions"` for the key whose value is `file`. */
function keyOf(data: DataSources, file: string | undefined): string {
  const key = (['questions', 'annotations', 'images'] as const).find((k) => file !== undefined && data[k] === file);
  return key ? `data.json "${key}"` : 'named in data.json';
}

export function loadDataFile(path: string): DataSources {
  const abs = resolve(path);
  return withDataHint('the data.json given with --data', () => resolveDataSources(parseWith(dataFileSchema, readJsonFile(abs), abs), dirname(abs)));
}

/** The samples a data.json describes (questions joined with answers when annotations are given). */
export function loadSamples(data: DataSources): Sample[] {
  if (!data.questions) throw new InputError('data has no "questions" file');
  return withDataHint((file) => keyOf(data, file), () => loadQuestionSet(data.questions!, data.annotations, data.images, data.dataset));
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
