/**
 * Captions for any image: from the data's caption file (VinVL TSV / JSON map) when it has an entry for the question's
 * image, else from the image-to-text model. A batch over COCO uses the file; an uploaded photo gets a model caption.
 */
import { z } from 'zod';
import type { Caption } from '../../core/artifacts.js';
import { fileIdentity } from '../../core/file-identity.js';
import { defineStage } from '../../core/stage.js';
import { loadCaptions } from '../../data/captions.js';
import { captionerFingerprint, captionerSource, captionImages } from '../../models/captioner.js';
import { loadImage, sampleImagePath } from '../image/load.js';
import { keyedMap } from './text-file.js';

const params = z.strictObject({
  /** Caption file; default data.json "captions". */
  file: z.string().optional(),
  key: z.enum(['auto', 'image', 'question']).default('auto'),
  /** Captioning model (role `captioner`) for images the file does not cover. */
  model: z.string().optional(),
  maxNewTokens: z.number().int().positive().default(30),
  numBeams: z.number().int().positive().default(1),
});

export const captionAuto = defineStage({
  id: 'caption.auto',
  version: '1',
  description: "Captions from the data's caption file when it covers the image, else from the captioning model (any image)",
  inputs: { sample: { kind: 'sample' } },
  output: 'captions',
  params,
  fingerprint: (p, ctx) => `${captionerFingerprint(ctx, p.model)}|file=${fileIdentity(p.file ?? ctx.data.captions)}`,
  async run({ sample }, p, ctx) {
    const path = p.file ?? ctx.data.captions;
    if (path) {
      const { map, keying } = await keyedMap(ctx, 'captions', path, p.key, (f) => loadCaptions(f, 'file'));
      const id = keying === 'question' ? sample.questionId : sample.imageId === undefined ? undefined : String(sample.imageId);
      const found: Caption[] = id === undefined ? [] : map.get(id) ?? [];
      if (found.length) return found;
      ctx.note('source', `model: no caption in ${path} for ${id === undefined ? 'an image without a COCO id' : `${keying} id ${id}`}`);
    } else ctx.note('source', 'model: no captions file');
    const img = await loadImage(ctx, sampleImagePath(sample));
    const [text] = await captionImages([img.image], ctx, { maxNewTokens: p.maxNewTokens, numBeams: p.numBeams, ...(p.model ? { model: p.model } : {}) });
    if (!text) throw new Error(`captioner returned an empty caption for ${img.path}`);
    return [{ text, source: `model:${captionerSource(ctx, p.model).id}` }];
  },
});
