import { z } from 'zod';
import { defineStage } from '../../core/stage.js';
import { InputError } from '../../core/errors.js';
import { loadCaptions } from '../../data/captions.js';
import { keyedMap, requirePath } from './text-file.js';

export const captionFile = defineStage({
  id: 'caption.file',
  version: '1',
  description: 'Captions from a file: VinVL TSV (image_id<TAB>[{caption, conf}]) or a JSON map keyed by image or question id',
  inputs: { sample: { kind: 'sample' } },
  output: 'captions',
  params: z.strictObject({
    /** Caption file; default data.json "captions". */
    file: z.string().optional(),
    key: z.enum(['auto', 'image', 'question']).default('auto'),
    /** Keep at most this many captions (highest confidence first when confidences are given). */
    max: z.number().int().positive().optional(),
    /** A question without a caption fails (true) or gets none (false). */
    required: z.boolean().default(true),
  }),
  cache: false,
  async run({ sample }, params, ctx) {
    const path = requirePath(params.file ?? ctx.data.captions, 'captions');
    const { map, keying } = await keyedMap(ctx, 'captions', path, params.key, (p) => loadCaptions(p, 'file'));
    const id = keying === 'question' ? sample.questionId : String(sample.imageId);
    if (keying === 'image' && sample.imageId === undefined) {
      // An image that is not a dataset file (a QA app's upload) has no entry in a file keyed by COCO id.
      const why = `question ${sample.questionId} has no COCO image id, so no caption can be looked up in a file keyed by image id (caption.model / tags.clip work on any image)`;
      if (params.required) throw new InputError(why, path);
      ctx.note('missing', why);
      return [];
    }
    let caps = map.get(id) ?? [];
    if (!caps.length && params.required) throw new InputError(`no caption for ${keying} id ${id}`, path);
    if (params.max !== undefined) caps = [...caps].sort((a, b) => (b.conf ?? 0) - (a.conf ?? 0)).slice(0, params.max);
    if (!caps.length) ctx.note('missing', `no caption for ${keying} id ${id}`);
    return caps;
  },
});
