/**
 * The question as KAT's reader read it: with `{split}.pkl` named (data.json `kat.questions`, or the node's `questions`),
 * the question text is that file's `img_questions[key]` (guilk/KAT src/data.py `load_okvqa_data`, then
 * `OkvqaDataset`: `question: {text}`), the key found by image and OK-VQA text as `implicit.kat-released` finds it;
 * without it, the OK-VQA questions file's text, unchanged. The trace's notes say which (`questionFrom`).
 */
import { z } from 'zod';
import { errorMessage, InputError } from '../../core/errors.js';
import { defineStage } from '../../core/stage.js';
import { KatKeyIndex, katKeyOf, loadKatQuestions } from '../../data/kat-released.js';
import { checkFile } from '../checks.js';

export const questionKatReleased = defineStage({
  id: 'question.kat-released',
  version: '1',
  description: "The question text from KAT's {split}.pkl when data.json names it (as KAT's reader read it), else the OK-VQA text",
  inputs: { sample: { kind: 'sample' } },
  output: 'sample',
  params: z.strictObject({
    /** `{split}.pkl`; default data.json `kat.questions`. */
    questions: z.string().optional(),
  }),
  cache: false,
  /** With `{split}.pkl` named: it exists, parses, and has a key for every question of the run. */
  check(p, ctx) {
    const qpath = p.questions ?? ctx.data.kat?.questions;
    if (!qpath) return [];
    const key = p.questions ? 'params.questions' : 'kat.questions';
    const missing = checkFile(key, qpath, 'name KAT\'s {split}.pkl in data.json ("kat": {"questions": …})');
    if (missing.length) return missing;
    let keys: Map<string, string>;
    try {
      keys = new KatKeyIndex(loadKatQuestions(qpath).questions).pair(ctx.samples);
    } catch (err) {
      return [{ severity: 'error', key, message: `cannot read ${qpath}: ${errorMessage(err)}` }];
    }
    const without = ctx.samples.filter((s) => !keys.has(s.questionId));
    return without.length
      ? [{
          severity: 'error',
          key,
          message: `${without.length} of ${ctx.samples.length} questions have no key in ${qpath} (first: ${without[0]!.questionId}, "${without[0]!.question}")`,
          fix: 'name the {split}.pkl of the questions\' split (val2014.pkl for OK-VQA val)',
        }]
      : [];
  },
  async run({ sample }, p, ctx) {
    const qpath = p.questions ?? ctx.data.kat?.questions;
    if (!qpath) {
      ctx.note('questionFrom', 'okvqa');
      return sample;
    }
    const key = await katKeyOf(sample, qpath, ctx);
    if (!key) throw new InputError(`no KAT key for image ${sample.imageId ?? '(none)'} and question "${sample.question}"`, qpath);
    const text = (await ctx.resources.get(`kat-questions:${qpath}`, () => loadKatQuestions(qpath))).questions.get(key)!;
    ctx.note('questionFrom', 'kat');
    ctx.note('katKey', key);
    return { ...sample, question: text };
  },
});

/** What manifest.json records of where a `kat-released` run's question text and KAT-metric answers come from. */
export function katTextSources(stageIds: readonly string[], kat: { questions?: string } | undefined): Record<string, unknown> {
  if (!stageIds.includes(questionKatReleased.id)) return {};
  return kat?.questions
    ? { katText: { question: { from: 'kat', file: kat.questions }, katEmsAnswers: { from: 'kat', file: kat.questions } } }
    : { katText: { question: { from: 'okvqa' }, katEmsAnswers: { from: 'annotations' } } };
}
