/**
 * KAT's released knowledge (guilk/KAT okvqa.zip), read as guilk/KAT src/data.py `load_okvqa_data` reads it:
 * - `wikidata_okvqa_{split}_topentities.pkl`: `COCO_{split}_{id:012d}.jpg` → (entities [(name, description), …], scores)
 * - `gpt3_okvqa_{split}_answers.pkl`: question key `{image file}#…` → [(answer, evidence), …]
 * - `{split}.pkl`: (questions {key: text}, answers {key: [answer, …]}) under the same keys.
 * A key is matched to an OK-VQA question by its image (`key.split('#')[0]`) and question text, whatever its suffix.
 */
import type { Sample } from '../core/artifacts.js';
import { InputError } from '../core/errors.js';
import type { Resources } from '../core/resources.js';
import { loadSamples } from './data-file.js';
import { pyStr, readPickle } from './pickle.js';
import type { DataSources } from './sources.js';

export interface KatEntities {
  entities: { name: string; description: string }[];
  scores: number[];
}

const IMAGE = /^COCO_[a-z]+\d*_(\d{12})\.(?:jpe?g|png)$/i;

/** The COCO image id of an image file name or question key (`COCO_val2014_000000000042.jpg#…`). */
export function imageIdOfKey(key: string): number | undefined {
  const m = IMAGE.exec(key.split('#')[0]!);
  return m ? Number(m[1]) : undefined;
}

function asDict(v: unknown, path: string, what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InputError(`expected a dict (${what})`, path);
  return v as Record<string, unknown>;
}

/** Python's `str()` of a pickled value (KAT formats them with `str.format`): a `None` reads as `None`. */
const str = pyStr;

/** Image id → KAT's top entities and scores. */
export function loadKatEntities(path: string): Map<number, KatEntities> {
  const d = asDict(readPickle(path), path, 'image file → (entities, scores)');
  const out = new Map<number, KatEntities>();
  for (const [file, v] of Object.entries(d)) {
    const id = imageIdOfKey(file);
    if (id === undefined) throw new InputError(`key "${file}" is not a COCO image file name`, path);
    if (!Array.isArray(v) || v.length < 2 || !Array.isArray(v[0])) throw new InputError(`"${file}": expected (entities, scores)`, path);
    const entities = (v[0] as unknown[]).map((e, i) => {
      if (!Array.isArray(e) || e.length < 2) throw new InputError(`"${file}": entity ${i} is not (name, description)`, path);
      return { name: str(e[0]), description: str(e[1]) };
    });
    const scores = Array.isArray(v[1]) ? (v[1] as unknown[]).map(Number) : [];
    out.set(id, { entities, scores });
  }
  return out;
}

/** Question key → [(answer, evidence)…]. */
export function loadKatImplicit(path: string): Map<string, { answer: string; evidence: string }[]> {
  const d = asDict(readPickle(path), path, 'question key → [(answer, evidence)]');
  const out = new Map<string, { answer: string; evidence: string }[]>();
  for (const [key, v] of Object.entries(d)) {
    if (!Array.isArray(v)) throw new InputError(`"${key}": expected a list of (answer, evidence)`, path);
    out.set(
      key,
      v.map((e, i) => {
        if (!Array.isArray(e) || e.length < 2) throw new InputError(`"${key}": item ${i} is not (answer, evidence)`, path);
        return { answer: str(e[0]), evidence: str(e[1]) };
      }),
    );
  }
  return out;
}

export interface KatQuestions {
  questions: Map<string, string>;
  answers: Map<string, string[]>;
}

/** `{split}.pkl`: (questions, answers) keyed by question key. */
export function loadKatQuestions(path: string): KatQuestions {
  const v = readPickle(path);
  if (!Array.isArray(v) || v.length < 2) throw new InputError('expected (img_questions, img_answers)', path);
  const q = asDict(v[0], path, 'img_questions');
  const a = asDict(v[1], path, 'img_answers');
  return {
    questions: new Map(Object.entries(q).map(([k, t]) => [k, str(t)])),
    answers: new Map(Object.entries(a).map(([k, t]) => [k, Array.isArray(t) ? t.map(str) : [str(t)]])),
  };
}

const norm = (q: string) => q.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * Finds KAT's key of a question: the key whose image is `imageId` and whose question text equals `question` (trimmed,
 * case and spacing ignored). Several equal questions on one image are paired in key order with the question ids'
 * order by the caller (pass `nth`).
 */
export class KatKeyIndex {
  private readonly byImageQuestion = new Map<string, string[]>();

  constructor(questions: ReadonlyMap<string, string>) {
    for (const [key, text] of questions) {
      const id = imageIdOfKey(key);
      if (id === undefined) continue;
      const k = `${id}\u0000${norm(text)}`;
      const list = this.byImageQuestion.get(k);
      if (list) list.push(key);
      else this.byImageQuestion.set(k, [key]);
    }
  }

  keyOf(imageId: number, question: string, nth = 0): string | undefined {
    const list = this.byImageQuestion.get(`${imageId}\u0000${norm(question)}`);
    return list?.[Math.min(nth, list.length - 1)];
  }

  /**
   * Question id → key for a whole question set: questions with the same image and text are paired with their keys in
   * order (file order with key order), so duplicates get distinct keys.
   */
  pair(questions: readonly { questionId: string; imageId?: number; question: string }[]): Map<string, string> {
    const seen = new Map<string, number>();
    const out = new Map<string, string>();
    for (const q of questions) {
      if (q.imageId === undefined) continue;
      const k = `${q.imageId}\u0000${norm(q.question)}`;
      const nth = seen.get(k) ?? 0;
      seen.set(k, nth + 1);
      const key = this.byImageQuestion.get(k)?.[nth];
      if (key) out.set(q.questionId, key);
    }
    return out;
  }
}

/**
 * The KAT key of a question of the run: through `{split}.pkl` (`questionsPath`) by image and question text, repeated
 * (image, question) pairs of the run's question set (data.json `questions`) taking their keys in order. Loaded once per
 * run through `resources`. Undefined when no key matches.
 */
export async function katKeyOf(
  sample: Pick<Sample, 'questionId' | 'imageId' | 'question'>,
  questionsPath: string,
  ctx: { data: DataSources; resources: Resources },
): Promise<string | undefined> {
  if (sample.imageId === undefined) return undefined;
  const index = await ctx.resources.get(`kat-keys:${questionsPath}`, () => new KatKeyIndex(loadKatQuestions(questionsPath).questions));
  const paired = ctx.data.questions
    ? await ctx.resources.get(`kat-keys-paired:${questionsPath}`, () =>
        index.pair(loadSamples({ ...ctx.data, annotations: undefined, images: undefined })),
      )
    : undefined;
  return paired?.get(sample.questionId) ?? index.keyOf(sample.imageId, sample.question);
}

/**
 * KAT's gold answers (`{split}.pkl`'s img_answers, what KAT's evaluation scores against) by question id, for the
 * questions of `questions`; the ids `{split}.pkl` has no key for are listed in `missing`.
 */
export function katAnswersByQuestionId(
  questionsPath: string,
  questions: readonly Pick<Sample, 'questionId' | 'imageId' | 'question'>[],
): { answers: Map<string, string[]>; missing: string[] } {
  const kat = loadKatQuestions(questionsPath);
  const keys = new KatKeyIndex(kat.questions).pair(questions);
  const answers = new Map<string, string[]>();
  const missing: string[] = [];
  for (const q of questions) {
    const a = keys.has(q.questionId) ? kat.answers.get(keys.get(q.questionId)!) : undefined;
    if (a) answers.set(q.questionId, a);
    else missing.push(q.questionId);
  }
  return { answers, missing };
}
