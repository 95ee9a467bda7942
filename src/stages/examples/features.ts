/** CLIP features of the example pool (question texts, images), computed once per run and cached. */
import { Cache } from '../../core/cache.js';
import type { RunContext } from '../../core/context.js';
import { InputError } from '../../core/errors.js';
import { clipFingerprint, dot, embedImages, embedTexts } from '../../models/clip.js';
import { loadImage } from '../../image/load.js';
import type { ExamplePool } from './pool.js';
import { TfidfIndex } from '../../text/tfidf.js';

type Ctx = Pick<RunContext, 'config' | 'paths' | 'resources' | 'cache' | 'log'>;

export function poolTfidf(ctx: Pick<RunContext, 'resources'>, pool: ExamplePool): Promise<TfidfIndex> {
  return ctx.resources.get(`examples-tfidf:${pool.hash}`, () => new TfidfIndex(pool.items.map((it) => it.question)));
}

/** CLIP text embeddings of every pool question (each cached per text by clip.ts). */
export function poolQuestionFeatures(ctx: Ctx, pool: ExamplePool, model?: string): Promise<number[][]> {
  return ctx.resources.get(`examples-clip-text:${pool.hash}:${clipFingerprint(ctx, model)}`, () =>
    embedTexts(
      pool.items.map((it) => it.question),
      ctx,
      model ? { model } : {},
    ),
  );
}

const CHUNK = 64;

/** PICa-Full needs an image file for every pool question: fail early, saying what to set. */
export function requirePoolImages(pool: ExamplePool): void {
  const missing = pool.items.filter((it) => !it.imagePath).length;
  if (missing) {
    throw new InputError(
      `question+image example selection (PICa-Full) needs the images of the example pool: ${missing} of ${pool.items.length} ` +
        'example questions have no image file — set "examples.images" in data.json to the COCO train2014 folder, ' +
        'or select examples by question only (examples.question-sim)',
    );
  }
}

/**
 * CLIP image embeddings of every pool image. PICa-Full needs the training images: without them this fails and says so.
 * Stored in `ctx.cache` in chunks of 64 (keyed by pool content, chunk and model) so a rerun does not decode 9,000 images.
 */
export function poolImageFeatures(ctx: Ctx, pool: ExamplePool, model?: string): Promise<number[][]> {
  const fp = clipFingerprint(ctx, model);
  return ctx.resources.get(`examples-clip-image:${pool.hash}:${fp}`, async () => {
    requirePoolImages(pool);
    const out: number[][] = [];
    for (let s = 0; s < pool.items.length; s += CHUNK) {
      const chunk = pool.items.slice(s, s + CHUNK);
      const key = Cache.key({ kind: 'examples.pool-image-chunk', pool: pool.hash, start: s, model: fp });
      const { value } = await ctx.cache.getOrCompute(key, `clip pool images ${s}`, async () => {
        const imgs = await Promise.all(chunk.map((it) => loadImage(ctx, it.imagePath!)));
        return embedImages(
          imgs.map((i) => i.image),
          ctx,
          { keys: imgs.map((i) => i.hash), ...(model ? { model } : {}) },
        );
      });
      out.push(...value);
    }
    return out;
  });
}

export function similarities(features: readonly number[][], query: readonly number[]): Float64Array {
  const out = new Float64Array(features.length);
  for (let i = 0; i < features.length; i++) out[i] = dot(features[i]!, query);
  return out;
}
