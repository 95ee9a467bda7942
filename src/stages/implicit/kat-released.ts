/**
 * KAT's own implicit knowledge (released `gpt3_okvqa_{split}_answers.pkl`, GPT-3 answers with evidence) as reader
 * passages `candidate: {answer} evidence: {evidence}`. The question's key is found through `{split}.pkl` by image and
 * question text (data.json `kat.questions`; repeated pairs take their keys in order); without it, the key
 * `{image file}#{question id}` is tried.
 */
import { z } from 'zod';
import type { Passage } from '../../core/artifacts.js';
import { InputError } from '../../core/errors.js';
import { defineStage } from '../../core/stage.js';
import { imageIdOfKey, katKeyOf, loadKatImplicit } from '../../data/kat-released.js';

export const implicitKatReleased = defineStage({
  id: 'implicit.kat-released',
  version: '1',
  description: "KAT's released GPT-3 answers and evidence (gpt3_okvqa_{split}_answers.pkl) as candidate/evidence passages",
  inputs: { sample: { kind: 'sample' } },
  output: 'passages',
  params: z.object({
    /** Pickle paths; default data.json `kat.implicit` and `kat.questions`. */
    file: z.string().optional(),
    questions: z.string().optional(),
    /** Keep at most this many (default all, as KAT). */
    limit: z.number().int().nonnegative().optional(),
  }),
  cache: false,
  async run({ sample }, p, ctx) {
    const path = p.file ?? ctx.data.kat?.implicit;
    if (!path) throw new InputError('no KAT implicit-knowledge pickle: name one in data.json ("kat": {"implicit": …}) or the node\'s params ("file")');
    if (sample.imageId === undefined) throw new InputError(`KAT's released knowledge is keyed by COCO image, and question ${sample.questionId} has no image id`, path);
    const imageId = sample.imageId;
    const answers = await ctx.resources.get(`kat-implicit:${path}`, () => loadKatImplicit(path));
    const qpath = p.questions ?? ctx.data.kat?.questions;
    let key: string | undefined;
    if (qpath) {
      key = await katKeyOf(sample, qpath, ctx);
      if (!key) throw new InputError(`no KAT key for image ${sample.imageId} and question "${sample.question}"`, qpath);
    } else {
      key = [...answers.keys()].find((k) => imageIdOfKey(k) === sample.imageId && k.slice(k.indexOf('#') + 1) === sample.questionId);
      if (!key) throw new InputError(`no key "{image}#${sample.questionId}" for image ${sample.imageId}; name KAT's {split}.pkl in data.json "kat.questions" to match by question text`, path);
    }
    const items = answers.get(key);
    if (!items) throw new InputError(`no implicit knowledge under key "${key}"`, path);
    ctx.note('katKey', key);
    return items.slice(0, p.limit ?? Infinity).map(
      (c, i): Passage => ({
        text: `candidate: ${c.answer} evidence: ${c.evidence}`,
        title: c.answer,
        body: c.evidence,
        score: 1,
        source: 'kat-released',
        id: `kat-implicit:${i}`,
      }),
    );
  },
});
