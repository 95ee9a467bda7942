import { z } from 'zod';
import { defineStage } from '../../core/stage.js';
import { InputError } from '../../core/errors.js';
import { loadTags } from '../../data/captions.js';
import { keyedMap, requirePath } from '../caption/text-file.js';

export const tagsFile = defineStage({
  id: 'tags.file',
  version: '1',
  description: 'Image tags from a file: VinVL TSV (image_id<TAB>[{class, conf}]) or a JSON map',
  inputs: { sample: { kind: 'sample' } },
  output: 'tags',
  params: z.strictObject({
    file: z.string().optional(),
    key: z.enum(['auto', 'image', 'question']).default('auto'),
    top: z.number().int().positive().optional(),
    minConf: z.number().min(0).max(1).default(0),
    /** `file` keeps the file's order (what PICa's prompts use); `conf` sorts by confidence, highest first. */
    order: z.enum(['file', 'conf']).default('file'),
    /** VinVL tags exist only for part of the images: by default a missing entry yields no tags. */
    required: z.boolean().default(false),
  }),
  cache: false,
  async run({ sample }, params, ctx) {
    const path = requirePath(params.file ?? ctx.data.tags, 'tags');
    const { map, keying } = await keyedMap(ctx, 'tags', path, params.key, loadTags);
    const id = keying === 'question' ? sample.questionId : String(sample.imageId);
    if (keying === 'image' && sample.imageId === undefined) {
      // An image that is not a dataset file (a QA app's upload) has no entry in a file keyed by COCO id.
      const why = `question ${sample.questionId} has no COCO image id, so no tags can be looked up in a file keyed by image id (caption.model / tags.clip work on any image)`;
      if (params.required) throw new InputError(why, path);
      ctx.note('missing', why);
      return [];
    }
    const found = map.get(id);
    if (!found && params.required) throw new InputError(`no tags for ${keying} id ${id}`, path);
    if (!found) ctx.note('missing', `no tags for ${keying} id ${id}`);
    const tags = (found ?? []).filter((t) => t.conf >= params.minConf);
    if (params.order === 'conf') tags.sort((a, b) => b.conf - a.conf);
    return params.top !== undefined ? tags.slice(0, params.top) : tags;
  },
});
