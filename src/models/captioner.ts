/** Image captioning through the transformers.js `image-to-text` pipeline (role `captioner`, vit-gpt2 by default). */
import type { RawImage } from '@huggingface/transformers';
import { transformers } from '../runtime/lazy.js';
import type { RunContext } from '../core/context.js';
import { loadOnce, modelFingerprint, sourceFor, type ModelSource } from './hub.js';

export const CAPTIONER_ROLE = 'captioner';

export interface CaptionOptions {
  model?: string;
  maxNewTokens?: number;
  numBeams?: number;
}

export function captionerSource(ctx: Pick<RunContext, 'config' | 'paths'>, model?: string): ModelSource {
  return sourceFor(ctx, CAPTIONER_ROLE, model);
}

export function captionerFingerprint(ctx: Pick<RunContext, 'config' | 'paths'>, model?: string): string {
  return modelFingerprint(captionerSource(ctx, model));
}

type ImageToText = (images: RawImage[], o: object) => Promise<{ generated_text: string }[] | { generated_text: string }[][]>;

/** One caption per image (greedy by default), in order. */
export async function captionImages(
  images: readonly RawImage[],
  ctx: Pick<RunContext, 'config' | 'paths' | 'resources'>,
  opts: CaptionOptions = {},
): Promise<string[]> {
  if (images.length === 0) return [];
  const source = captionerSource(ctx, opts.model);
  const pipe = (await loadOnce(ctx, source, 'image-to-text', async (loc, o) => (await transformers()).pipeline('image-to-text', loc, o) as Promise<unknown>)) as ImageToText;
  const out: string[] = [];
  for (const image of images) {
    const res = await pipe([image], { max_new_tokens: opts.maxNewTokens ?? 30, num_beams: opts.numBeams ?? 1 });
    const first = res[0];
    const item = Array.isArray(first) ? first[0] : first;
    out.push((item?.generated_text ?? '').trim());
  }
  return out;
}
