import { AutoModelForSeq2SeqLM, Tensor } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import type { Passage, Region, Sample, Tag } from '../../src/core/artifacts.js';
import { MicroBatcher } from '../../src/reader/batcher.js';
import { FID_KAT, fidGenerate, tokenizePassages } from '../../src/reader/fid.js';
import { loadT5Reader, readerSource } from '../../src/reader/t5.js';
import { DEFAULT_MODEL_IDS, TINY_MODEL_IDS } from '../../src/models/hub.js';
import { createRegistry } from '../../src/stages/index.js';
import { fidParams, readerFid } from '../../src/stages/reader/fid.js';
import { makeCtx, tiny } from '../vision/helpers.js';

const sample = (question: string, questionId = 'q1'): Sample => ({ dataset: 'okvqa', questionId, imageId: 1, question });
const passage = (text: string): Passage => ({ text, score: 1, source: 'test' });
const PASSAGES = [
  passage('title: cup context: cup is a drinking vessel'),
  passage('title: coffee context: coffee is a brewed drink'),
  passage('candidate: white evidence: the cup is white'),
];

const { ctx, notes } = makeCtx(tiny);
afterAll(() => ctx.resources.disposeAll());

describe('reader.fid on the tiny T5', () => {
  it('is registered with KAT defaults', () => {
    expect(createRegistry().get('reader.fid')).toBe(readerFid);
    const p = fidParams.parse({});
    expect(p).toMatchObject({ textMaxLength: 64, maxLength: 10, appendEos: false, numBeams: 1, template: 'question: {question} {passage}' });
  });

  it('role reader: flan-t5-base by default, the generated tiny T5 in profile tiny', async () => {
    expect(DEFAULT_MODEL_IDS.reader).toBe('Xenova/flan-t5-base');
    expect(TINY_MODEL_IDS.reader).toBe('okvqa-tiny/t5');
    const src = readerSource(ctx);
    expect(src).toMatchObject({ from: 'tiny', id: 'okvqa-tiny/t5', offline: true });
    expect(readerSource(ctx, 'Xenova/flan-t5-large')).toMatchObject({ from: 'tiny', id: 'okvqa-tiny/t5' });
  });

  it('with one passage FiD is plain T5: same tokens as transformers.js generate() on the same model', async () => {
    const reader = await loadT5Reader(ctx, readerSource(ctx));
    const model = (await AutoModelForSeq2SeqLM.from_pretrained(reader.source.location, { local_files_only: true })) as unknown as {
      generate(o: Record<string, unknown>): Promise<Tensor>;
      dispose(): Promise<unknown>;
    };
    try {
      for (const q of [
        { question: 'what sport is this?', passages: ['title: tennis context: tennis is a sport'] },
        { question: 'what color is the cup?', passages: ['candidate: white evidence: the cup is white'] },
      ]) {
        const [ids] = tokenizePassages(reader, q, FID_KAT);
        const t = (v: number[]) => new Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
        const out = await model.generate({ input_ids: t(ids!), attention_mask: t(ids!.map(() => 1)), max_length: 10 });
        const theirs = (out.tolist() as bigint[][])[0]!.map(Number).slice(1); // drop the decoder start token
        const [ours] = await fidGenerate(reader, [q], FID_KAT);
        expect(ours!.tokens).toEqual(theirs.slice(0, ours!.tokens.length));
        expect(theirs.slice(ours!.tokens.length).every((x) => x === reader.geometry.padTokenId)).toBe(true);
      }
    } finally {
      await model.dispose();
    }
  });

  it('tokenises each passage as "question: {q} {passage}", truncated, EOS only with appendEos', async () => {
    const reader = await loadT5Reader(ctx, readerSource(ctx));
    const q = { question: 'what color is the cup?', passages: ['title: cup context: cup is a drinking vessel'] };
    const [kat] = tokenizePassages(reader, q, FID_KAT);
    const [eos] = tokenizePassages(reader, q, { ...FID_KAT, appendEos: true });
    expect(kat!.at(-1)).not.toBe(reader.geometry.eosTokenId);
    expect(eos).toEqual([...kat!, reader.geometry.eosTokenId]);
    expect(reader.tokenizer.decode(kat!, { skip_special_tokens: true })).toBe(
      'question: what color is the cup? title: cup context: cup is a drinking vessel',
    );
    const [short] = tokenizePassages(reader, q, { ...FID_KAT, textMaxLength: 6 });
    expect(short).toEqual(kat!.slice(0, 6));
    const [shortEos] = tokenizePassages(reader, q, { ...FID_KAT, textMaxLength: 6, appendEos: true });
    expect(shortEos).toEqual([...kat!.slice(0, 5), reader.geometry.eosTokenId]);
    // no passages: the question alone (KAT's append_question)
    expect(tokenizePassages(reader, { question: 'what?', passages: [] }, FID_KAT)).toEqual([
      reader.tokenizer.encode('question: what?', { add_special_tokens: false }),
    ]);
  });

  it('answers with logprob and one attribution score per passage, noted in the trace', async () => {
    const p = fidParams.parse({});
    const pred = await readerFid.run({ sample: sample('what color is the cup?'), passages: PASSAGES, regions: undefined, tags: undefined }, p, ctx);
    expect(pred.method).toBe('fid');
    expect(typeof pred.answer).toBe('string');
    expect(Number.isFinite(pred.logprob)).toBe(true);
    expect(pred.logprob!).toBeLessThan(0);
    expect(pred.score).toBeCloseTo(Math.exp(pred.logprob!), 12);
    expect(pred.attribution).toHaveLength(3);
    expect(new Set(pred.attribution).size).toBe(3);
    const r = notes.reader as { tokens: number[]; crossAttentionLength: number; appendEos: boolean };
    expect(r.tokens.length).toBeGreaterThan(0);
    expect(r.tokens.length).toBeLessThanOrEqual(9); // maxLength 10 counts the start token
    expect(r.appendEos).toBe(false);
    expect(notes.attribution).toMatchObject({ kind: 'pre-softmax', scores: pred.attribution });
    // maxPassages: passages not read score 0 and the answer is that of the first N alone
    const two = await readerFid.run({ sample: sample('what color is the cup?'), passages: PASSAGES, regions: undefined, tags: undefined }, fidParams.parse({ maxPassages: 2 }), ctx);
    expect(two.attribution).toHaveLength(3);
    expect(two.attribution![2]).toBe(0);
    expect(two.logprob).not.toBeCloseTo(pred.logprob!, 6);
  });

  it('A-OKVQA: picks the multiple-choice option nearest the generated answer', async () => {
    const p = fidParams.parse({});
    const base = await readerFid.run({ sample: sample('what color is the cup?'), passages: PASSAGES, regions: undefined, tags: undefined }, p, ctx);
    const choices = ['purple elephant', base.answer.toUpperCase(), 'xyz'];
    const mc = await readerFid.run({ sample: { ...sample('what color is the cup?'), choices }, passages: PASSAGES, regions: undefined, tags: undefined }, p, ctx);
    expect(mc.multipleChoice).toBe(choices[1]);
    const other = await readerFid.run({ sample: { ...sample('what color is the cup?'), choices: ['purple elephant', 'xyz'] }, passages: PASSAGES, regions: undefined, tags: undefined }, p, ctx);
    expect(['purple elephant', 'xyz']).toContain(other.multipleChoice);
    expect(notes.multipleChoice).toMatch(/nearest choice/);
  });

  it('micro-batches concurrent questions into one call, with the same results as alone', async () => {
    const local = makeCtx(tiny);
    const p = fidParams.parse({ batchSize: 4, batchWindowMs: 50 });
    const questions = ['what color is the cup?', 'what sport is this?', 'who made this?'];
    const passages = [PASSAGES, PASSAGES.slice(0, 1), []];
    const together = await Promise.all(
      questions.map((q, i) => readerFid.run({ sample: sample(q, `q${i}`), passages: passages[i]!, regions: undefined, tags: undefined }, p, local.ctx)),
    );
    const reader = await loadT5Reader(local.ctx, readerSource(local.ctx));
    const batchers = (local.ctx.resources as unknown as { entries: Map<string, { promise: Promise<unknown> }> }).entries;
    const batcher = (await [...batchers.entries()].find(([k]) => k.startsWith('fid-batcher:'))![1].promise) as MicroBatcher<unknown, unknown>;
    expect(batcher.sizes).toEqual([3]);
    for (let i = 0; i < questions.length; i++) {
      const [alone] = await fidGenerate(reader, [{ question: questions[i]!, passages: passages[i]!.map((x) => x.text) }], FID_KAT);
      expect(together[i]!.answer).toBe(alone!.text);
      expect(together[i]!.logprob!).toBeCloseTo(alone!.logprob, 4);
    }
    await local.ctx.resources.disposeAll();
  });

  it('a failing batch falls back to one call per item, so one bad item fails alone', async () => {
    const b = new MicroBatcher<number, number>(async (xs) => {
      if (xs.includes(13)) throw new Error('unlucky');
      return xs.map((x) => x * 2);
    }, { maxSize: 8, windowMs: 10 });
    const r = await Promise.allSettled([1, 13, 3].map((x) => b.submit(x)));
    expect(r.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((r[0] as PromiseFulfilledResult<number>).value).toBe(2);
    expect(b.sizes).toEqual([3]);
  });

  it('a decoder without cross-attention outputs gives no attribution, and says why', async () => {
    const reader = await loadT5Reader(ctx, readerSource(ctx));
    const { crossAttention: _ca, ...plain } = reader;
    const q = [{ question: 'what sport is this?', passages: PASSAGES.map((x) => x.text) }];
    const [a] = await fidGenerate(plain, q, FID_KAT);
    const [b] = await fidGenerate(reader, q, FID_KAT);
    expect(a!.attribution).toBeUndefined();
    expect(a!.attributionMissing).toMatch(/exposes no cross-attention outputs/);
    expect(a!.tokens).toEqual(b!.tokens);
    const [off] = await fidGenerate(reader, q, { ...FID_KAT, attribution: false });
    expect(off!.attributionMissing).toBe('attribution off');
  });

  it('beam search: one beam is greedy; more beams return a sequence of at most maxLength - 1 tokens', async () => {
    const reader = await loadT5Reader(ctx, readerSource(ctx));
    const q = [{ question: 'what sport is this?', passages: PASSAGES.map((x) => x.text) }];
    const [g] = await fidGenerate(reader, q, FID_KAT);
    const [b1] = await fidGenerate(reader, q, { ...FID_KAT, numBeams: 1 });
    expect(b1!.tokens).toEqual(g!.tokens);
    const [b3] = await fidGenerate(reader, q, { ...FID_KAT, numBeams: 3 });
    expect(b3!.tokens.length).toBeLessThanOrEqual(9);
    expect(b3!.logprob).toBeCloseTo(b3!.tokenLogprobs.reduce((a, x) => a + x, 0), 9);
  });
});

describe('reader.fid with regions (REVIVE)', () => {
  const W = 640;
  const H = 480;
  const regions: Region[] = [
    { id: 0, box: { xmin: 0, ymin: 0, xmax: W, ymax: H }, source: 'image' },
    { id: 1, box: { xmin: 10, ymin: 20, xmax: 300, ymax: 400 }, source: 'detector', label: 'cup', score: 0.9 },
    { id: 2, box: { xmin: 320, ymin: 40, xmax: 600, ymax: 470 }, source: 'detector', label: 'table', score: 0.7 },
  ].map((r, i) => ({ ...r, source: r.source as Region['source'], image: { width: W, height: H }, embedding: Array.from({ length: 16 }, (_, j) => Math.sin(i * 16 + j) / 2) }));
  const tags: Tag[] = [{ label: 'mug', conf: 0.8, region: 1 }, { label: 'wood', conf: 0.6, region: 2 }];
  const s = sample('what color is the cup?');

  it('visual tokens: cross-attention grows by the number of regions and the answer changes', async () => {
    const p = fidParams.parse({});
    const plain = await readerFid.run({ sample: s, passages: PASSAGES, regions: undefined, tags: undefined }, p, ctx);
    const plainLen = (notes.reader as { crossAttentionLength: number }).crossAttentionLength;
    const visual = await readerFid.run({ sample: s, passages: PASSAGES, regions, tags }, p, ctx);
    const visualLen = (notes.reader as { crossAttentionLength: number }).crossAttentionLength;
    expect(notes.visualTokens).toBe(3);
    expect(notes.regions).toBe('3 visual tokens');
    expect(visualLen).toBe(plainLen + 3);
    expect(visual.logprob).not.toBeCloseTo(plain.logprob!, 4);
    expect(visual.attribution).toHaveLength(PASSAGES.length);
    expect(notes.visualAttribution).toHaveLength(3);
    // ablation: regionsAs none is the plain reader
    const none = await readerFid.run({ sample: s, passages: PASSAGES, regions, tags }, fidParams.parse({ regionsAs: 'none' }), ctx);
    expect(none.logprob).toBeCloseTo(plain.logprob!, 5);
    expect(none.answer).toBe(plain.answer);
  });

  it('without visual tokens, regions are read as text passages after the given ones', async () => {
    const text = await readerFid.run({ sample: s, passages: PASSAGES, regions, tags }, fidParams.parse({ regionsAs: 'text' }), ctx);
    expect(notes.visualTokens).toBe(0);
    expect(notes.regions).toMatch(/3 regions read as text passages/);
    expect((notes.reader as { passagesRead: number }).passagesRead).toBe(PASSAGES.length + 3);
    expect(text.attribution).toHaveLength(PASSAGES.length);
    expect(notes.regionAttribution).toHaveLength(3);
    // regions without embeddings fall back to text in auto mode, and say why
    const bare = regions.map(({ embedding: _e, ...r }) => r);
    await readerFid.run({ sample: s, passages: PASSAGES, regions: bare, tags }, fidParams.parse({}), ctx);
    expect(notes.regions).toMatch(/no CLIP embedding/);
    await expect(
      readerFid.run({ sample: s, passages: PASSAGES, regions: bare, tags }, fidParams.parse({ regionsAs: 'tokens' }), ctx),
    ).rejects.toThrow(/no CLIP embedding/);
  });
});
