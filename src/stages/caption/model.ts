/** Captions from an image-to-text model (VinVL/Oscar in the papers; vit-gpt2 by default here). */
import { z } from 'zod';
import { defineStage } from '../../core/stage.js';
import { captionerFingerprint, captionerSource, captionImages } from '../../models/captioner.js';
import { loadImage, sampleImagePath } from '../../image/load.js';
import { checkImages, checkModel } from '../checks.js';

const params = z.object({
  model: z.string().optional(),
  maxNewTokens: z.number().int().positive().default(30),
  numBeams: z.number().int().positive().default(1),
});

export const captionModel = defineStage({
  id: 'caption.model',
  version: '1',
  description: 'Caption the image with an image-to-text model (role `captioner`)',
  inputs: { sample: { kind: 'sample', image: true } },
  output: 'captions',
  params,
  fingerprint: (p, ctx) => captionerFingerprint(ctx, p.model),
  check: (p, ctx) => [...checkImages(ctx), ...checkModel(ctx, 'captioner', p.model)],
  async run({ sample }, p, ctx) {
    const img = await loadImage(ctx, sampleImagePath(sample, ctx.data.images));
    const opts = { maxNewTokens: p.maxNewTokens, numBeams: p.numBeams, ...(p.model ? { model: p.model } : {}) };
    const [text] = await captionImages([img.image], ctx, opts);
    if (!text) throw new Error(`captioner returned an empty caption for ${img.path}`);
    return [{ text, source: `model:${captionerSource(ctx, p.model).id}` }];
  },
});
