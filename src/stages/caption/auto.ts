/**
 * The image's caption from the captions file (data.json "captions", or `file`: VinVL, as PICa/KAT) when the file covers
 * the image, else — no file, an image without a COCO id (an upload), or one the file lacks — from the captioning model.
 * KAT's implicit-knowledge prompt reads it; the answerer puts it in place of `caption.file` so any image can be asked
 * about. The node is not cached itself (the file lookup is cheap), so its notes say on every run where the caption came
 * from; the model's caption is cached as a `caption.model` node's would be.
 */
import { z } from 'zod';
import { fileIdentity } from '../../core/file-identity.js';
import { defineStage } from '../../core/stage.js';
import { captionerFingerprint } from '../../models/captioner.js';
import { runStageCached } from '../cached-run.js';
import { captionFile } from './file.js';
import { captionModel } from './model.js';

export const captionAuto = defineStage({
  id: 'caption.auto',
  version: '2',
  description: 'Captions from the captions file when it covers the image, else from the captioning model (noted per image)',
  inputs: { sample: { kind: 'sample', image: true } },
  output: 'captions',
  params: z.object({
    /** Caption file; default data.json "captions". */
    file: z.string().optional(),
    key: z.enum(['auto', 'image', 'question']).default('auto'),
    max: z.number().int().positive().optional(),
    model: z.string().optional(),
    maxNewTokens: z.number().int().positive().default(30),
  }),
  cache: false,
  fingerprint: (p, ctx) => `${fileIdentity(p.file ?? ctx.data.captions)}|${captionerFingerprint(ctx, p.model)}`,
  async run({ sample }, p, ctx) {
    const file = p.file ?? ctx.data.captions;
    if (file) {
      const fp = captionFile.params.parse({ file, key: p.key, required: false, ...(p.max ? { max: p.max } : {}) });
      const caps = await captionFile.run({ sample }, fp, ctx);
      if (caps.length) {
        ctx.note('captionSource', 'file');
        return caps;
      }
      ctx.note('fallback', `the captions file ${file} does not cover this image: captioned by caption.model`);
    }
    ctx.note('captionSource', 'model');
    const mp = captionModel.params.parse({ maxNewTokens: p.maxNewTokens, ...(p.model ? { model: p.model } : {}) });
    return runStageCached(captionModel as never, { sample }, mp, ctx);
  },
});
