/**
 * Image tags from the tags file (data.json "tags", or `file`: VinVL, as PICa) when the file covers the image, else —
 * no file, an image without a COCO id (an upload), or one the file has no entry for — whole-image CLIP zero-shot tags
 * (`tags.clip` without regions, as VinVL's tags are image-level). The answerer puts it in place of `tags.file` so any
 * image can be asked about. Not cached itself, so its notes say on every run where the tags came from; the CLIP tags
 * are cached as a `tags.clip` node's would be.
 */
import { z } from 'zod';
import type { Tag } from '../../core/artifacts.js';
import { fileIdentity } from '../../core/file-identity.js';
import { defineStage } from '../../core/stage.js';
import { loadTags } from '../../data/captions.js';
import { keyedMap } from '../caption/text-file.js';
import { runStageCached } from '../cached-run.js';
import { tagsClip } from './clip.js';
import { tagsFile } from './file.js';

export const tagsAuto = defineStage({
  id: 'tags.auto',
  version: '1',
  description: 'Tags from the tags file when it covers the image, else whole-image CLIP tags (noted per image)',
  inputs: { sample: { kind: 'sample', image: true } },
  output: 'tags',
  params: z.strictObject({
    file: z.string().optional(),
    key: z.enum(['auto', 'image', 'question']).default('auto'),
    /** At most this many tags (from the file; CLIP's top-P, 5 when unset). */
    top: z.number().int().positive().optional(),
    minConf: z.number().min(0).max(1).default(0),
    order: z.enum(['file', 'conf']).default('file'),
    /** CLIP model of the fallback (default: the `clip` role). */
    model: z.string().optional(),
  }),
  cache: false,
  fingerprint: (p, ctx) => fileIdentity(p.file ?? ctx.data.tags),
  async run({ sample }, p, ctx) {
    const file = p.file ?? ctx.data.tags;
    if (file) {
      const { map, keying } = await keyedMap(ctx, 'tags', file, p.key, loadTags);
      const id = keying === 'question' ? sample.questionId : sample.imageId === undefined ? undefined : String(sample.imageId);
      if (id !== undefined && map.has(id)) {
        ctx.note('tagSource', 'file');
        const fp = tagsFile.params.parse({ file, key: p.key, minConf: p.minConf, order: p.order, ...(p.top ? { top: p.top } : {}) });
        return tagsFile.run({ sample }, fp, ctx);
      }
      ctx.note('fallback', `the tags file ${file} does not cover this image: whole-image tags from tags.clip`);
    }
    ctx.note('tagSource', 'model');
    const cp = tagsClip.params.parse({ minConf: p.minConf, ...(p.top ? { topP: p.top } : {}), ...(p.model ? { model: p.model } : {}) });
    return runStageCached<Tag[]>(tagsClip as never, { sample }, cp, ctx);
  },
});
