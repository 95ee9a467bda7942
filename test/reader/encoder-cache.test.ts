// reader.fid's encoder-state cache: unchanged passages of a question read again are not encoded again, and the answer
// (tokens, log-probabilities, attribution) is the one an uncached read gives.
import { afterAll, describe, expect, it } from 'vitest';
import { EncoderStateCache } from '../../src/reader/encoder-cache.js';
import { FID_KAT, fidGenerate } from '../../src/reader/fid.js';
import { loadT5Reader, readerSource } from '../../src/reader/t5.js';
import { makeCtx, tiny } from '../vision/helpers.js';

const { ctx } = makeCtx(tiny);
afterAll(() => ctx.resources.disposeAll());

const explicit = ['title: cup context: cup is a drinking vessel', 'title: tea context: tea is a hot drink', 'title: table context: a table is furniture'];
const question = 'what is in the cup?';

describe('encoder-state cache', () => {
  it('encodes only the passages it has not seen; answers equal the uncached ones', async () => {
    const reader = await loadT5Reader(ctx, readerSource(ctx));
    const cache = new EncoderStateCache(64 * 1024 * 1024);
    const first = { question, passages: [...explicit, 'candidate: tea evidence: it is brown'] };
    const second = { question, passages: [...explicit, 'candidate: coffee evidence: it is black', 'candidate: milk evidence: white'] };
    const [a1] = await fidGenerate(reader, [first], FID_KAT, cache);
    expect(a1).toMatchObject({ batchEncodedPassages: 4, batchCachedPassages: 0 });
    const [a2] = await fidGenerate(reader, [second], FID_KAT, cache);
    expect(a2).toMatchObject({ batchEncodedPassages: 2, batchCachedPassages: 3 });
    const [plain] = await fidGenerate(reader, [second], FID_KAT);
    expect(plain!.batchCachedPassages).toBe(0);
    expect(a2!.tokens).toEqual(plain!.tokens);
    a2!.tokenLogprobs.forEach((x, i) => expect(x).toBeCloseTo(plain!.tokenLogprobs[i]!, 5));
    a2!.attribution!.forEach((x, i) => expect(x).toBeCloseTo(plain!.attribution![i]!, 5));
    // a cached passage of a different length than this batch's longest still lines up (padding stays masked)
    const [a3] = await fidGenerate(reader, [{ question, passages: [explicit[0]!, `${explicit[1]} and it is often served with milk and sugar in a white cup`] }], FID_KAT, cache);
    const [p3] = await fidGenerate(reader, [{ question, passages: [explicit[0]!, `${explicit[1]} and it is often served with milk and sugar in a white cup`] }], FID_KAT);
    expect(a3!.batchCachedPassages).toBe(1);
    expect(a3!.tokens).toEqual(p3!.tokens);
    a3!.tokenLogprobs.forEach((x, i) => expect(x).toBeCloseTo(p3!.tokenLogprobs[i]!, 5));
  });

  it('identical passages of one question are encoded once', async () => {
    const reader = await loadT5Reader(ctx, readerSource(ctx));
    const cycled = Array.from({ length: 40 }, (_, i) => explicit[i % explicit.length]!);
    const [a] = await fidGenerate(reader, [{ question, passages: cycled }], FID_KAT);
    expect(a!.passagesRead).toBe(40);
    expect(a!.batchEncodedPassages).toBe(3);
  });

  it('is bounded in bytes, least recently used out first', () => {
    const c = new EncoderStateCache(3 * 400);
    c.set('a', new Float32Array(100));
    c.set('b', new Float32Array(100));
    c.set('c', new Float32Array(100));
    expect(c.get('a')).toBeDefined(); // a is now the most recent
    c.set('d', new Float32Array(100));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBeDefined();
    expect(c.size).toBe(3);
    expect(c.byteSize).toBe(1200);
    c.set('huge', new Float32Array(1000)); // larger than the whole cache: not kept, nothing evicted
    expect(c.size).toBe(3);
  });
});
