/**
 * `caption.question-file`: question-aware captions from a file keyed by question id (`{question_id: caption}`), such as
 * InstructBLIP's or PromptCap's, so PICa and Prophet run on them. The file: `params.file`, else data.json
 * `questionCaptions`. Every layout `caption.file` reads is accepted, but the keys are always question ids.
 */
import { z } from 'zod';
import { InputError } from '../../core/errors.js';
import { defineStage } from '../../core/stage.js';
import { loadCaptions } from '../../data/captions.js';
import { checkFile, checkTextMap } from '../checks.js';

const HOW = 'name the question-aware captions file: "questionCaptions" in data.json, or the node\'s params.file';

export const captionQuestionFile = defineStage({
  id: 'caption.question-file',
  version: '1',
  description: 'Question-aware captions from a file keyed by question id ({question_id: caption}, e.g. InstructBLIP / PromptCap)',
  inputs: { sample: { kind: 'sample' } },
  output: 'captions',
  params: z.strictObject({
    /** Caption file; default data.json "questionCaptions". */
    file: z.string().optional(),
    /** A question without a caption fails (true) or gets none (false). */
    required: z.boolean().default(true),
  }),
  cache: false,
  check: (p, ctx) => {
    const missing = checkFile(p.file ? 'params.file' : 'questionCaptions', p.file ?? ctx.data.questionCaptions, HOW);
    if (missing.length) return missing;
    return checkTextMap(ctx, {
      kind: 'captions',
      path: p.file ?? ctx.data.questionCaptions,
      paramFile: !!p.file,
      key: 'question',
      required: p.required,
      load: (f) => loadCaptions(f, 'question-file'),
    });
  },
  async run({ sample }, p, ctx) {
    const path = p.file ?? ctx.data.questionCaptions;
    if (!path) throw new InputError(`no question-aware captions file: ${HOW}`);
    const map = await ctx.resources.get(`question-captions:${path}`, () => loadCaptions(path, 'question-file'));
    const caps = map.get(sample.questionId) ?? [];
    if (!caps.length) {
      const why = `no question-aware caption for question id ${sample.questionId}`;
      if (p.required) throw new InputError(why, path);
      ctx.note('missing', why);
    }
    return caps;
  },
});
