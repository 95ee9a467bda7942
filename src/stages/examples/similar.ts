import { z } from 'zod';
import type { Example } from '../../core/artifacts.js';
import { defineStage } from '../../core/stage.js';
import { processAnswer } from '../../llm/pica.js';
import { clipFingerprint, embedImages, embedTexts } from '../../models/clip.js';
import { loadImage, sampleImagePath } from '../../image/load.js';
import { poolImageFeatures, poolQuestionFeatures, poolTfidf, requirePoolImages, similarities } from './features.js';
import { captionDraw, getExamplePool, toExample, topK, type ExamplePool } from './pool.js';
import { selectorParams } from './params.js';
import { checkExamplePool, checkImages, checkModel } from '../checks.js';

function pick(pool: ExamplePool, scores: Float64Array, n: number, questionId: string, fmt: Parameters<typeof toExample>[1], seed: number): Example[] {
  // PICa: similarity.argsort()[-n:][::-1] — the n most similar, most similar first; prompt k takes k*shots…k*shots+shots-1.
  const idx = topK(scores, n, (i) => pool.items[i]!.questionId === questionId);
  if (idx.length < n) throw new Error(`example pool has ${idx.length} usable examples, ${n} needed`);
  const draw = captionDraw(seed, questionId);
  return idx.map((i) => toExample(pool.items[i]!, fmt, scores[i]!, draw));
}

/** A random caption pick depends on the run seed: then it is part of the key. */
function pickSeed(p: { pick: 'first' | 'random' }, ctx: { config: { seed: number } }): string {
  return p.pick === 'random' ? `;captions seed=${ctx.config.seed}` : '';
}

export const examplesQuestionSim = defineStage({
  id: 'examples.question-sim',
  version: '1',
  description:
    'In-context examples by question similarity: CLIP text features as PICa (encoder clip) or TF-IDF cosine (encoder tfidf, no model)',
  inputs: { sample: { kind: 'sample' } },
  output: 'examples',
  params: z.object({ ...selectorParams, encoder: z.enum(['clip', 'tfidf']).default('clip'), model: z.string().optional() }),
  fingerprint: async (p, ctx) =>
    `pool=${(await getExamplePool(ctx)).hash};${p.encoder === 'clip' ? clipFingerprint(ctx, p.model) : 'tfidf'}${pickSeed(p, ctx)}`,
  check: (p, ctx) => [...checkExamplePool(ctx, { captions: true, images: false }), ...(p.encoder === 'clip' ? checkModel(ctx, 'clip', p.model) : [])],
  async run({ sample }, params, ctx) {
    const pool = await getExamplePool(ctx);
    const n = params.shots * params.ensemble;
    let scores: Float64Array;
    if (params.encoder === 'tfidf') {
      scores = (await poolTfidf(ctx, pool)).scores(sample.question);
    } else {
      const opts = params.model ? { model: params.model } : {};
      const feats = await poolQuestionFeatures(ctx, pool, params.model);
      const [q] = await embedTexts([sample.question], ctx, opts);
      scores = similarities(feats, q!);
    }
    ctx.note('encoder', params.encoder);
    return pick(pool, scores, n, sample.questionId, params, ctx.config.seed);
  },
});

export const examplesClipSim = defineStage({
  id: 'examples.clip-sim',
  version: '1',
  description:
    'PICa-Full: in-context examples by CLIP question similarity + CLIP image similarity (needs the example pool images)',
  inputs: { sample: { kind: 'sample', image: true } },
  output: 'examples',
  params: z.object({ ...selectorParams, model: z.string().optional() }),
  fingerprint: async (p, ctx) => `pool=${(await getExamplePool(ctx)).hash};${clipFingerprint(ctx, p.model)}${pickSeed(p, ctx)}`,
  check: (p, ctx) => [...checkExamplePool(ctx, { captions: true, images: true }), ...checkImages(ctx), ...checkModel(ctx, 'clip', p.model)],
  async run({ sample }, params, ctx) {
    const pool = await getExamplePool(ctx);
    const opts = params.model ? { model: params.model } : {};
    const imagePath = sampleImagePath(sample, ctx.data.images);
    requirePoolImages(pool);
    const [qFeats, iFeats] = await Promise.all([
      poolQuestionFeatures(ctx, pool, params.model),
      poolImageFeatures(ctx, pool, params.model),
    ]);
    const [q] = await embedTexts([sample.question], ctx, opts);
    const img = await loadImage(ctx, imagePath);
    const [v] = await embedImages([img.image], ctx, { ...opts, keys: [img.hash] });
    const qs = similarities(qFeats, q!);
    const is = similarities(iFeats, v!);
    // PICa 'imagequestion': question similarity + image similarity.
    const scores = qs.map((s, i) => s + is[i]!);
    return pick(pool, scores, params.shots * params.ensemble, sample.questionId, params, ctx.config.seed);
  },
});

/**
 * Answer-aware selection (in the spirit of Prophet, Shao et al. CVPR 2023): question similarity plus a bonus for pool
 * examples whose annotated answers contain one of the current question's answer candidates (weighted by the candidate's
 * score normalised to the best one). Prophet used a trained VQA model's fused features; this variant uses any
 * `candidates` artifact (e.g. candidates.prior or an earlier PICa pass) and needs no training.
 */
export const examplesAnswerAware = defineStage({
  id: 'examples.answer-aware',
  version: '1',
  description: 'In-context examples by question similarity + overlap of their answers with the answer candidates (Prophet-style)',
  inputs: { sample: { kind: 'sample' }, candidates: { kind: 'candidates' } },
  output: 'examples',
  params: z.object({
    ...selectorParams,
    encoder: z.enum(['clip', 'tfidf']).default('tfidf'),
    model: z.string().optional(),
    /** Weight of the answer bonus relative to question similarity (cosine, ≤ 1). */
    weight: z.number().min(0).default(1),
    /** Candidates considered (best first). */
    topCandidates: z.number().int().positive().default(5),
  }),
  fingerprint: async (p, ctx) =>
    `pool=${(await getExamplePool(ctx)).hash};${p.encoder === 'clip' ? clipFingerprint(ctx, p.model) : 'tfidf'}${pickSeed(p, ctx)}`,
  check: (p, ctx) => [...checkExamplePool(ctx, { captions: true, images: false }), ...(p.encoder === 'clip' ? checkModel(ctx, 'clip', p.model) : [])],
  async run({ sample, candidates }, params, ctx) {
    const pool = await getExamplePool(ctx);
    let scores: Float64Array;
    if (params.encoder === 'tfidf') scores = (await poolTfidf(ctx, pool)).scores(sample.question);
    else {
      const feats = await poolQuestionFeatures(ctx, pool, params.model);
      const [q] = await embedTexts([sample.question], ctx, params.model ? { model: params.model } : {});
      scores = similarities(feats, q!);
    }
    const top = [...candidates].sort((a, b) => b.score - a.score).slice(0, params.topCandidates);
    const best = Math.max(...top.map((c) => c.score), 0);
    const bonus = new Map<string, number>();
    for (const c of top) {
      const a = processAnswer(c.answer);
      if (a) bonus.set(a, Math.max(bonus.get(a) ?? 0, best > 0 ? c.score / best : 1));
    }
    if (bonus.size) {
      pool.items.forEach((it, i) => {
        let b = 0;
        for (const ans of new Set(it.answers.map(processAnswer))) b = Math.max(b, bonus.get(ans) ?? 0);
        scores[i]! += params.weight * b;
      });
    } else ctx.note('answer-aware', 'no answer candidates: question similarity only');
    return pick(pool, scores, params.shots * params.ensemble, sample.questionId, params, ctx.config.seed);
  },
});
