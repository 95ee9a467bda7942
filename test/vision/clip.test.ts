import { RawImage } from '@huggingface/transformers';
import { describe, expect, it, vi } from 'vitest';
import { dot, embedImages, embedTexts } from '../../src/models/clip.js';
import { readImage } from '../../src/image/load.js';
import { COFFEE, makeCtx, tiny } from './helpers.js';
import { transformers } from '../../src/runtime/lazy.js';

// The instance the package loads models through (src/runtime/lazy.ts), so the spies below see its calls.
const { CLIPTextModelWithProjection } = await transformers();

const norm = (v: number[]) => Math.sqrt(dot(v, v));

describe('CLIP embeddings on the tiny generated model', () => {
  it('embeds texts: unit vectors of the projection size, distinct per text, batched = unbatched', async () => {
    const { ctx } = makeCtx(tiny);
    const texts = ['a photo of a cat', 'a red double-decker bus', 'cat'];
    const batched = await embedTexts(texts, ctx, { cache: false });
    expect(batched).toHaveLength(3);
    for (const v of batched) {
      expect(v).toHaveLength(16);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    expect(dot(batched[0]!, batched[1]!)).toBeLessThan(0.9999);
    const single = await embedTexts([texts[2]!], ctx, { cache: false, batchSize: 1 });
    // padding in the batch must not change the result (attention mask + causal mask + eos pooling)
    expect(dot(single[0]!, batched[2]!)).toBeCloseTo(1, 4);
  });

  it('embeds images: unit vectors, different images differ, cached per key and model', async () => {
    const { ctx } = makeCtx(tiny);
    const coffee = await readImage(COFFEE);
    const flipped = new RawImage(coffee.image.data.slice().reverse(), coffee.width, coffee.height, 3);
    const [a, b] = await embedImages([coffee.image, flipped], ctx, { keys: ['coffee', 'flipped'] });
    expect(norm(a!)).toBeCloseTo(1, 5);
    expect(dot(a!, b!)).toBeLessThan(0.9999);
    expect(ctx.cache.stats.hits).toBe(0);
    const [again] = await embedImages([coffee.image], ctx, { keys: ['coffee'] });
    expect(ctx.cache.stats.hits).toBe(1);
    expect(again).toEqual(a);
  });

  it('caches texts in ctx.cache and loads the model once for concurrent callers', async () => {
    const { ctx } = makeCtx(tiny);
    const spy = vi.spyOn(CLIPTextModelWithProjection, 'from_pretrained');
    try {
      const [x, y] = await Promise.all([embedTexts(['dog'], ctx), embedTexts(['a dog on a sofa'], ctx)]);
      expect(spy).toHaveBeenCalledTimes(1);
      const hitsBefore = ctx.cache.stats.hits;
      const [x2] = await embedTexts(['dog'], ctx);
      expect(ctx.cache.stats.hits).toBe(hitsBefore + 1);
      expect(x2).toEqual(x![0]);
      expect(y).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
    await ctx.resources.disposeAll();
  });

  it('a fully cached call never loads the model; replay mode fails on a miss', async () => {
    const { ctx } = makeCtx(tiny);
    const [v] = await embedTexts(['a teapot'], ctx);
    const { Resources } = await import('../../src/core/resources.js');
    const fresh = { ...ctx, resources: new Resources() };
    const spy = vi.spyOn(CLIPTextModelWithProjection, 'from_pretrained');
    try {
      const [w] = await embedTexts(['a teapot'], fresh);
      expect(w).toEqual(v);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
    const { Cache } = await import('../../src/core/cache.js');
    const { ctx: replay } = makeCtx(tiny, new Cache(':memory:', 'replay'));
    await expect(embedTexts(['never seen'], replay)).rejects.toThrow(/cache miss in replay mode/);
  });

  it('batches larger than batchSize come back in order (pre-processing overlapped with the model)', async () => {
    const { ctx } = makeCtx(tiny);
    const texts = ['a', 'b c', 'dog', 'cat on a mat', 'red', 'blue bus', 'tree'];
    const one = await embedTexts(texts, ctx, { cache: false, batchSize: 2 });
    const all = await embedTexts(texts, ctx, { cache: false, batchSize: 100 });
    one.forEach((v, i) => expect(dot(v, all[i]!)).toBeCloseTo(1, 4));
  });
});
