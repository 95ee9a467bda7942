/**
 * The image's caption as KAT's implicit-knowledge prompt had it: from the captions file data.json names (VinVL, as
 * PICa/KAT), else — no file, or no caption for this image in it — from the captioning model.
 */
import { z } from 'zod';
import { fileIdentity } from '../../core/file-identity.js';
import { defineStage } from '../../core/stage.js';
import { captionerFingerprint } from '../../models/captioner.js';
import { captionFile } from './file.js';
import { captionModel } from './model.js';

export const captionAuto = defineStage({
  id: 'caption.auto',
  version: '1',
  description: 'Captions from the data.json captions file when it has one for the image, else from the captioning model',
  inputs: { sample: { kind: 'sample', image: true } },
  output: 'captions',
  params: z.object({
    key: z.enum(['auto', 'image', 'question']).default('auto'),
    max: z.number().int().positive().optional(),
    model: z.string().optional(),
    maxNewTokens: z.number().int().positive().default(30),
  }),
  fingerprint: (p, ctx) => `${fileIdentity(ctx.data.captions)}|${captionerFingerprint(ctx, p.model)}`,
  async run({ sample }, p, ctx) {
    if (ctx.data.captions) {
      const fp = captionFile.params.parse({ key: p.key, required: false, ...(p.max ? { max: p.max } : {}) });
      const caps = await captionFile.run({ sample }, fp, ctx);
      if (caps.length) return caps;
    }
    ctx.note('captionSource', 'model');
    return captionModel.run({ sample }, captionModel.params.parse({ maxNewTokens: p.maxNewTokens, ...(p.model ? { model: p.model } : {}) }), ctx);
  },
});
