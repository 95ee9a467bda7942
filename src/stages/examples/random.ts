import { z } from 'zod';
import { mulberry32, seedFor } from '../../core/random.js';
import { defineStage } from '../../core/stage.js';
import { captionDraw, getExamplePool, toExample } from './pool.js';
import { selectorParams } from './params.js';
import { checkExamplePool } from '../checks.js';

/** `n` distinct indices out of `size` (partial Fisher–Yates). */
export function sampleDistinct(size: number, n: number, rand: () => number): number[] {
  const idx = Array.from({ length: size }, (_, i) => i);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rand() * (size - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, n);
}

export const examplesRandom = defineStage({
  id: 'examples.random',
  version: '1',
  description: 'PICa-Base: shots x ensemble distinct random in-context examples, seeded by config.seed and the question id',
  inputs: { sample: { kind: 'sample' } },
  output: 'examples',
  params: z.object(selectorParams),
  fingerprint: async (_p, ctx) => `seed=${ctx.config.seed};pool=${(await getExamplePool(ctx)).hash}`,
  check: (_p, ctx) => checkExamplePool(ctx, { captions: true, images: false }),
  async run({ sample }, params, ctx) {
    const pool = await getExamplePool(ctx);
    const candidates = pool.items.filter((it) => it.questionId !== sample.questionId);
    const n = params.shots * params.ensemble;
    if (candidates.length < n) throw new Error(`example pool has ${candidates.length} usable examples, ${n} needed`);
    const rand = mulberry32(seedFor(ctx.config.seed, sample.questionId));
    const draw = captionDraw(ctx.config.seed, sample.questionId);
    return sampleDistinct(candidates.length, n, rand).map((i) => toExample(candidates[i]!, params, undefined, draw));
  },
});
