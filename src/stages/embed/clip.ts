/** CLIP embedding of the sample's image or question (PICa-Full picks in-context examples by these similarities). */
import { z } from 'zod';
import { defineStage } from '../../core/stage.js';
import { clipFingerprint, embedImages, embedTexts } from '../../models/clip.js';
import { loadImage, sampleImagePath } from '../../image/load.js';
import { checkDevice, checkImages, checkModel } from '../checks.js';

const params = z.object({
  /** What to embed: the whole image, or the question text. */
  of: z.enum(['image', 'question']).default('image'),
  /** CLIP model override (hub id or directory). */
  model: z.string().optional(),
  /** Text template for `of: question`; `{}` is replaced by the question. */
  template: z.string().default('{}'),
});

export const embedClip = defineStage({
  id: 'embed.clip',
  version: '1',
  description: 'L2-normalised CLIP embedding (model projection) of the image or the question, cached per input',
  inputs: { sample: { kind: 'sample', image: true } },
  output: 'embedding',
  params,
  fingerprint: (p, ctx) => clipFingerprint(ctx, p.model),
  check: async (p, ctx) => [...(p.of === 'image' ? checkImages(ctx) : []), ...checkModel(ctx, 'clip', p.model), ...(await checkDevice(ctx))],
  async run({ sample }, p, ctx) {
    const opts = p.model ? { model: p.model } : {};
    if (p.of === 'question') {
      const [v] = await embedTexts([p.template.replaceAll('{}', () => sample.question)], ctx, opts);
      return v!;
    }
    const img = await loadImage(ctx, sampleImagePath(sample, ctx.data.images));
    const [v] = await embedImages([img.image], ctx, { ...opts, keys: [img.hash] });
    return v!;
  },
});
