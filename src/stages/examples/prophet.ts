/**
 * `examples.prophet`: Prophet's in-context examples as `Runner.run` / `get_context` take them. The question's
 * answer-aware examples (data.json `prophet.examples`: `{question_id: [training question_id, …]}`), the first
 * prompts × examples (5 × 20) of them, shuffled with Python's `random.shuffle` on one stream seeded once (`seed`, 99 =
 * Prophet's `--seed` default) and drawn over the question file in order — so each question gets exactly the order
 * Prophet's run gives it. Each example carries its question, its caption (Prophet's captions file), its own candidates
 * (Prophet's candidates file) and its most frequent answer as Qid2Data picks it.
 *
 * Variant (not in Prophet): a question the examples file does not cover takes the optional `fallback` examples input
 * (e.g. `examples.clip-sim`, PICa's CLIP question + image similarity), shuffled per question with the same algorithm;
 * an example without released candidates gets candidates from its own annotated answers (`exampleCandidates`).
 */
import { z } from 'zod';
import type { Example, Sample } from '../../core/artifacts.js';
import { InputError } from '../../core/errors.js';
import { fileIdentity } from '../../core/file-identity.js';
import { defineStage } from '../../core/stage.js';
import { mostAnswer, PROPHET, prophetCaption } from '../../llm/prophet.js';
import {
  checkProphetFile,
  perQuestionOrder,
  poolIdentity,
  prophetPath,
  prophetPool,
  releasedCandidates,
  releasedCaptions,
  releasedExamples,
  requireProphetPath,
  shuffleStream,
} from '../prophet-files.js';

/**
 * Candidates from an example's own answers (variant): its distinct answers, most frequent first (first seen among
 * equals), confidence = VQA soft score min(1, count / 3) — standing in for the training-split predictions of Prophet's
 * VQA model, which was trained on these very examples.
 */
export function answerCandidates(answers: readonly string[], k: number = PROPHET.candidates): { answer: string; score: number }[] {
  const counts = new Map<string, number>();
  for (const a of answers) if (a !== '') counts.set(a, (counts.get(a) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([answer, n]) => ({ answer, score: Math.min(1, n / 3) }));
}

export const examplesProphet = defineStage({
  id: 'examples.prophet',
  version: '1',
  description: "Prophet's answer-aware examples (released file), shuffled as Prophet shuffles them, with their candidates and captions",
  inputs: { sample: { kind: 'sample' }, fallback: { kind: 'examples', optional: true } },
  output: 'examples',
  params: z.strictObject({
    /** Examples file; default data.json `prophet.examples` (candidates and captions: `prophet.candidates` / `captions`). */
    file: z.string().optional(),
    candidates: z.string().optional(),
    captions: z.string().optional(),
    /** N_EXAMPLES and T_INFER of configs/prompt.yml: the first prompts × examples similar questions are used. */
    examples: z.number().int().positive().default(PROPHET.examples),
    prompts: z.number().int().positive().default(PROPHET.prompts),
    /** Python `random.seed` of the shuffle (Prophet's `--seed` default 99). */
    seed: z.number().int().nonnegative().default(PROPHET.seed),
    /**
     * `prophet`: one stream over the question file in order (as Prophet's run; falls back to per-question when some
     * question of the file is not in the examples file); `per-question`: each question seeded on its own; `none`.
     */
    shuffle: z.enum(['prophet', 'per-question', 'none']).default('prophet'),
    /** An example missing from the released candidates: an error (`released`, as Prophet) or candidates from its answers. */
    exampleCandidates: z.enum(['released', 'answers']).default('released'),
    /** Pre-flight: every question must be in the examples file (true) or may use the fallback input (false). */
    required: z.boolean().default(true),
  }),
  cache: false,
  fingerprint: (p, ctx) =>
    [
      fileIdentity(prophetPath(ctx, 'examples', p.file)),
      fileIdentity(prophetPath(ctx, 'candidates', p.candidates)),
      fileIdentity(prophetPath(ctx, 'captions', p.captions)),
      poolIdentity(ctx),
      // the stream's order depends on the question file
      p.shuffle === 'prophet' ? fileIdentity(ctx.data.questions) : '',
    ].join('|'),
  check: async (p, ctx) => [
    ...(ctx.data.prophet?.pool || ctx.data.examples
      ? []
      : [{
          severity: 'error' as const,
          key: 'examples',
          message: "no example pool: Prophet's examples are training questions, whose texts and answers come from data.json \"examples\"",
          fix: 'add "examples": {"questions", "annotations"} (the training split) to data.json, or "prophet": {"pool": [...]}',
        }]),
    ...(await checkProphetFile(ctx, 'examples', p.file, ctx.samples.map((s) => s.questionId), p.required)),
    ...(await checkProphetFile(ctx, 'candidates', p.candidates, [], p.exampleCandidates === 'released')),
    ...(await checkProphetFile(ctx, 'captions', p.captions, [], p.required)),
  ],
  async run({ sample, fallback }, p, ctx) {
    const k = p.examples * p.prompts;
    const examplesPath = fallback ? prophetPath(ctx, 'examples', p.file) : requireProphetPath(ctx, 'examples', p.file);
    const similar = examplesPath ? (await releasedExamples(ctx, examplesPath)).get(sample.questionId) : undefined;
    const candidatesPath = prophetPath(ctx, 'candidates', p.candidates);
    const candidates = candidatesPath ? await releasedCandidates(ctx, candidatesPath) : undefined;
    const withCandidates = (e: Example): Example => {
      const released = candidates?.get(e.questionId);
      if (released) return { ...e, candidates: released.map((c) => ({ answer: c.answer, score: c.confidence })) };
      if (p.exampleCandidates === 'answers') return { ...e, candidates: answerCandidates(e.answers) };
      throw new InputError(
        `example question ${e.questionId} is not in Prophet's candidates`,
        candidatesPath ?? 'data.json "prophet.candidates"',
        undefined,
      );
    };

    if (!similar) {
      if (!fallback) throw new InputError(`question ${sample.questionId} is not in Prophet's answer-aware examples`, examplesPath);
      const list = fallback.slice(0, k);
      const order = p.shuffle === 'none' ? list.map((_, i) => i) : perQuestionOrder(list.length, p.seed, sample.questionId);
      ctx.note('exampleSource', `fallback (${list.length} examples, shuffled per question)`);
      return order.map((i) => {
        const e = list[i]!;
        return withCandidates({ ...e, answer: e.answers.length ? mostAnswer(e.answers) : e.answer, context: prophetCaption(e.context) });
      });
    }

    const ids = similar.slice(0, k);
    let order: number[];
    if (p.shuffle === 'prophet') {
      const stream = await shuffleStream(ctx, examplesPath!, k, p.seed);
      const fromStream = stream?.get(sample.questionId);
      if (fromStream) order = fromStream;
      else {
        order = perQuestionOrder(ids.length, p.seed, sample.questionId);
        ctx.note('shuffle', "per question: the question file is not all in the examples file, so Prophet's stream does not apply");
      }
    } else if (p.shuffle === 'per-question') order = perQuestionOrder(ids.length, p.seed, sample.questionId);
    else order = ids.map((_, i) => i);

    const pool = await prophetPool(ctx);
    const captionsPath = requireProphetPath(ctx, 'captions', p.captions);
    const captions = await releasedCaptions(ctx, captionsPath);
    return order.map((i) => {
      const qid = ids[i]!;
      const s: Sample | undefined = pool.get(qid);
      if (!s) throw new InputError(`example question ${qid} is not in the example pool's questions (data.json "prophet.pool" or "examples")`);
      if (!s.answers?.length) throw new InputError(`example question ${qid} has no answers in the example pool's annotations`);
      const caption = s.imageId === undefined ? undefined : captions.get(String(s.imageId));
      if (caption === undefined) throw new InputError(`no caption for image ${s.imageId} of example question ${qid}`, captionsPath);
      return withCandidates({
        questionId: qid,
        imageId: s.imageId ?? 0,
        question: s.question,
        answer: mostAnswer(s.answers),
        answers: s.answers,
        context: prophetCaption(caption),
      });
    });
  },
});
