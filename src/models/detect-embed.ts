/** One-call library functions behind `okvqa detect` and `okvqa embed`. */
import type { Box } from '../core/artifacts.js';
import type { Config } from '../core/config.js';
import { readImage } from '../image/load.js';
import { roundBox } from '../image/geometry.js';
import { clipSource, dot, embedImages, embedTexts } from './clip.js';
import { createRunContext } from '../run-context.js';
import { detect, type DetectOptions } from './detector.js';

export interface DetectedObject {
  label: string;
  score: number;
  box: Box;
}

/** Detect objects in an image file; boxes in image pixels (rounded to 0.1 px), best first. */
export async function detectImageFile(path: string, config: Config, opts: DetectOptions = {}): Promise<DetectedObject[]> {
  // detection results are not cached: no need to open the on-disk cache
  const ctx = createRunContext({ config: { ...config, cache: { ...config.cache, mode: 'off' } } });
  try {
    const img = await readImage(path);
    const dets = await detect(img.image, ctx, opts);
    return dets.map((d) => ({ label: d.label, score: Math.round(d.score * 1e4) / 1e4, box: roundBox(d.box) }));
  } finally {
    await ctx.close();
  }
}

export interface EmbeddingResult {
  model: string;
  dimension: number;
  norm: number;
  vector: number[];
}

/** CLIP embedding of an image file or a text (the `clip` role; `model` overrides it). */
export async function embedInput(
  input: { image: string } | { text: string },
  config: Config,
  model?: string,
): Promise<EmbeddingResult> {
  const ctx = createRunContext({ config });
  try {
    const opts = model ? { model } : {};
    let vector: number[];
    if ('image' in input) {
      const img = await readImage(input.image);
      [vector] = (await embedImages([img.image], ctx, { ...opts, keys: [img.hash] })) as [number[]];
    } else {
      [vector] = (await embedTexts([input.text], ctx, opts)) as [number[]];
    }
    return { model: clipSource(ctx, model).id, dimension: vector.length, norm: Math.sqrt(dot(vector, vector)), vector };
  } finally {
    await ctx.close();
  }
}
