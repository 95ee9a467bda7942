/**
 * CLIP zero-shot tags: each region's crop (or the whole image when no regions are wired) is compared with the prompt
 * embeddings of a tag vocabulary (REVIVE tags regions against a large query vocabulary); the top-P tags per region are
 * kept, with softmax confidences over the vocabulary at CLIP's logit scale.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Region, Tag } from '../../core/artifacts.js';
import type { RunContext } from '../../core/context.js';
import { sha256 } from '../../core/hash.js';
import { defineStage } from '../../core/stage.js';
import { clipFingerprint, clipSource, dot, embedImages, embedTexts } from '../../models/clip.js';
import { loadImage, sampleImagePath } from '../../image/load.js';
import { cropKey } from '../regions/common.js';
import { cropImage } from '../../image/geometry.js';
import { loadVocabulary, vocabularyPath } from './vocabulary.js';
import { checkImages, checkModel } from '../checks.js';

const params = z.object({
  /** Vocabulary file (default knowledge/tag-vocabulary.txt). */
  vocabulary: z.string().optional(),
  /** Prompt template; `{}` is the tag. */
  template: z.string().default('a photo of a {}.'),
  /** Tags kept per region. */
  topP: z.number().int().positive().default(5),
  /** Drop tags whose softmax confidence is below this. */
  minConf: z.number().min(0).max(1).default(0),
  /** CLIP logit scale (100 in the released CLIP models). */
  logitScale: z.number().positive().default(100),
  model: z.string().optional(),
});

type Params = z.infer<typeof params>;

/** Unit text embeddings of the vocabulary prompts, computed once per run (and cached per text in ctx.cache). */
function vocabEmbeddings(ctx: Pick<RunContext, 'config' | 'paths' | 'resources' | 'cache'>, p: Params) {
  return ctx.resources.get(`tags.clip:${vocabularyPath(ctx, p.vocabulary)}:${p.template}:${clipFingerprint(ctx, p.model)}`, async () => {
    const tags = await loadVocabulary(ctx, p.vocabulary);
    const vecs = await embedTexts(
      tags.map((t) => p.template.replaceAll('{}', () => t)),
      ctx,
      p.model ? { model: p.model } : {},
    );
    return { tags, vecs };
  });
}

/** Top-P tags for one unit image embedding. */
export function topTags(
  image: readonly number[],
  vocab: { tags: string[]; vecs: number[][] },
  p: Pick<Params, 'topP' | 'minConf' | 'logitScale'>,
  region?: number,
): Tag[] {
  const logits = vocab.vecs.map((v) => p.logitScale * dot(image, v));
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const z = exps.reduce((a, b) => a + b, 0);
  const order = logits.map((_, i) => i).sort((a, b) => logits[b]! - logits[a]!);
  const out: Tag[] = [];
  for (const i of order.slice(0, p.topP)) {
    const conf = exps[i]! / z;
    if (conf < p.minConf) continue;
    const t: Tag = { label: vocab.tags[i]!, conf };
    if (region !== undefined) t.region = region;
    out.push(t);
  }
  return out;
}

export const tagsClip = defineStage({
  id: 'tags.clip',
  version: '1',
  description: 'CLIP zero-shot tags over a vocabulary, top-P per region (or for the whole image)',
  inputs: { sample: { kind: 'sample', image: true }, regions: { kind: 'regions', optional: true } },
  output: 'tags',
  params,
  fingerprint: (p, ctx) => {
    const file = vocabularyPath(ctx, p.vocabulary);
    let content = '';
    try {
      content = sha256(readFileSync(file));
    } catch {
      content = 'missing';
    }
    return `${clipFingerprint(ctx, p.model)}|${content}`;
  },
  check: (p, ctx) => [...checkImages(ctx), ...checkModel(ctx, 'clip', p.model)],
  async run({ sample, regions }, p, ctx) {
    const vocab = await vocabEmbeddings(ctx, p);
    const img = await loadImage(ctx, sampleImagePath(sample, ctx.data.images));
    const opts = p.model ? { model: p.model } : {};
    if (!regions || regions.length === 0) {
      const [v] = await embedImages([img.image], ctx, { ...opts, keys: [img.hash] });
      return topTags(v!, vocab, p);
    }
    // reuse embeddings that the region stage computed with the same model
    const modelId = clipSource(ctx, p.model).id;
    const need = regions.filter((r) => !(r.embedding && r.embeddingModel === modelId));
    const crops = await Promise.all(need.map((r) => cropImage(img.image, r.box)));
    const vecs = await embedImages(crops, ctx, { ...opts, keys: need.map((r) => cropKey(img, r)) });
    const byRegion = new Map<Region, number[]>(need.map((r, i) => [r, vecs[i]!]));
    // `region` is the position in the regions input (ids repeat when several region nodes are joined)
    return regions.flatMap((r, i) => topTags(byRegion.get(r) ?? r.embedding!, vocab, p, i));
  },
});
