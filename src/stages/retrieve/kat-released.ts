/**
 * KAT's own explicit knowledge (released `wikidata_okvqa_{split}_topentities.pkl`): the image's entities in KAT's order
 * with KAT's scores, as KAT's reader passages `title: {name} context: {name} is a {description}`.
 */
import { z } from 'zod';
import type { Passage } from '../../core/artifacts.js';
import { InputError } from '../../core/errors.js';
import { defineStage } from '../../core/stage.js';
import { loadKatEntities } from '../../data/kat-released.js';
import { katEntityPassage } from './merge.js';

export const retrieveKatReleased = defineStage({
  id: 'retrieve.kat-released',
  version: '1',
  description: "KAT's released top entities of the image (wikidata_okvqa_{split}_topentities.pkl) as KAT passages",
  inputs: { sample: { kind: 'sample' } },
  output: 'passages',
  params: z.object({
    /** Pickle path; default data.json `kat.entities`. */
    file: z.string().optional(),
    /** Keep at most this many (default all; passages.kat takes KAT's 40). */
    limit: z.number().int().positive().optional(),
  }),
  cache: false,
  async run({ sample }, p, ctx) {
    const path = p.file ?? ctx.data.kat?.entities;
    if (!path) throw new InputError('no KAT entities pickle: name one in data.json ("kat": {"entities": …}) or the node\'s params ("file")');
    const byImage = await ctx.resources.get(`kat-entities:${path}`, () => loadKatEntities(path));
    if (sample.imageId === undefined) throw new InputError(`KAT's released entities are keyed by COCO image, and question ${sample.questionId} has no image id`, path);
    const got = byImage.get(sample.imageId);
    if (!got) throw new InputError(`no entities for image ${sample.imageId}`, path);
    const list = got.entities.slice(0, p.limit ?? Infinity);
    return list.map(
      (e, i): Passage => ({ ...katEntityPassage(e.name, e.description), score: got.scores[i] ?? 0, source: 'kat-released', id: `kat:${i}` }),
    );
  },
});
