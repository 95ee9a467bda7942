/**
 * `caption.prophet`: the image's caption from Prophet's released captions (`captions_okvqa.json` / `captions_aokvqa.json`,
 * `{image_id: caption}`; data.json `prophet.captions`). With `fallback: model` an image the file does not cover (or an
 * upload with no COCO id) is captioned by the captioning model instead (a variant; the trace says so).
 */
import { z } from 'zod';
import { InputError } from '../../core/errors.js';
import { fileIdentity } from '../../core/file-identity.js';
import { defineStage } from '../../core/stage.js';
import { captionerFingerprint } from '../../models/captioner.js';
import { checkProphetFile, prophetPath, releasedCaptions, requireProphetPath } from '../prophet-files.js';
import { captionModel } from './model.js';

export const captionProphet = defineStage({
  id: 'caption.prophet',
  version: '1',
  description: "Prophet's released caption of the image (captions_okvqa.json), optionally falling back to the captioning model",
  inputs: { sample: { kind: 'sample' } },
  output: 'captions',
  params: z.strictObject({
    /** Captions file; default data.json `prophet.captions`. */
    file: z.string().optional(),
    /** What an image without a released caption gets: an error (`none`, as Prophet) or the captioning model's caption. */
    fallback: z.enum(['none', 'model']).default('none'),
    model: z.string().optional(),
  }),
  cache: false,
  fingerprint: (p, ctx) => `${fileIdentity(prophetPath(ctx, 'captions', p.file))}${p.fallback === 'model' ? `|${captionerFingerprint(ctx, p.model)}` : ''}`,
  check: (p, ctx) =>
    checkProphetFile(ctx, 'captions', p.file, ctx.samples.filter((s) => s.imageId !== undefined).map((s) => String(s.imageId)), p.fallback === 'none'),
  async run({ sample }, p, ctx) {
    const path = p.fallback === 'none' ? requireProphetPath(ctx, 'captions', p.file) : prophetPath(ctx, 'captions', p.file);
    if (path && sample.imageId !== undefined) {
      const text = (await releasedCaptions(ctx, path)).get(String(sample.imageId));
      if (text !== undefined) return [{ text, source: 'prophet' }];
    }
    const why = sample.imageId === undefined ? `question ${sample.questionId} has no COCO image id` : `no caption for image ${sample.imageId}`;
    if (p.fallback === 'none') throw new InputError(why, path);
    ctx.note('captionSource', `model (${why} in Prophet's captions)`);
    return captionModel.run({ sample }, captionModel.params.parse(p.model ? { model: p.model } : {}), ctx);
  },
});
