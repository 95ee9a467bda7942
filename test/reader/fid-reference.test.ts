import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FID_KAT, fidGenerate, tokenizePassages, type FidAnswer, type FidOptions, type FidQuestion } from '../../src/reader/fid.js';
import { loadT5Reader, readerSource, type T5Reader } from '../../src/reader/t5.js';
import { Resources } from '../../src/core/resources.js';
import { makeCtx, paths, tiny } from '../vision/helpers.js';
import { describeNeeds } from '../helpers/requires.js';

const PY = '/usr/bin/python3';
const hasNumpy = existsSync(PY) && spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
if (!hasNumpy) console.warn(`fid-reference: skipped: ${PY} with numpy is missing (Debian python3-numpy)`);

const MODELS = join(paths.tinyModels, 'okvqa-tiny');

interface RefAnswer {
  tokens: number[];
  tokenLogprobs: number[];
  attribution: number[];
  attributionSoftmax: number[];
  visualAttribution: number[];
}

function reference(reader: T5Reader, qs: FidQuestion[], o: FidOptions): RefAnswer[] {
  const request = {
    npz: join(paths.root, 'test', 'fixtures', 'models', 't5.reference.npz'),
    config: join(MODELS, 't5', 'config.json'),
    maxLength: o.maxLength,
    numBeams: o.numBeams,
    questions: qs.map((q) => ({ passages: tokenizePassages(reader, q, o), visual: q.visual ?? [] })),
  };
  const r = spawnSync(PY, [join(paths.root, 'test', 'reader', 'fid_reference.py')], { input: JSON.stringify(request), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fid_reference.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as RefAnswer[];
}

function expectSame(ours: FidAnswer[], ref: RefAnswer[]) {
  expect(ours).toHaveLength(ref.length);
  ours.forEach((a, i) => {
    const r = ref[i]!;
    expect(a.tokens, `question ${i}`).toEqual(r.tokens);
    a.tokenLogprobs.forEach((lp, t) => expect(Math.abs(lp - r.tokenLogprobs[t]!)).toBeLessThan(1e-4));
    expect(Math.abs(a.logprob - r.tokenLogprobs.reduce((s, x) => s + x, 0))).toBeLessThan(1e-4);
    expect(a.attribution).toHaveLength(r.attribution.length);
    a.attribution!.forEach((s, p) => expect(Math.abs(s - r.attribution[p]!)).toBeLessThan(1e-4));
    (a.visualAttribution ?? []).forEach((s, v) => expect(Math.abs(s - r.visualAttribution[v]!)).toBeLessThan(1e-4));
    expect(a.visualAttribution?.length ?? 0).toBe(r.visualAttribution.length);
  });
}

const QUESTIONS: FidQuestion[] = [
  {
    question: 'what color is the cup?',
    passages: [
      'title: cup context: cup is a drinking vessel',
      'title: coffee context: coffee is a brewed drink made from roasted coffee beans used in many kitchens',
      'candidate: white evidence: the cup is white',
      'title: table context: table is a piece of furniture',
    ],
  },
  { question: 'what sport is this?', passages: ['title: tennis context: tennis is a sport'] },
  { question: 'who made this?', passages: [] },
  {
    question: 'how many people are in the picture?',
    // KAT cycles a short entity list: a repeated passage (encoded once, attended as often as it appears)
    passages: ['candidate: two evidence: there are two people on the beach', 'title: beach context: beach is a landform', 'candidate: two evidence: there are two people on the beach'],
  },
];

const { ctx } = makeCtx(tiny);
afterAll(() => ctx.resources.disposeAll());

describeNeeds(!hasNumpy && `${PY} with numpy is missing (Debian python3-numpy)`)('reader.fid against an independent numpy FiD', () => {
  it('greedy: same tokens, log-probabilities and attribution for questions batched with different passage counts (one repeated)', async () => {
    const reader = await loadT5Reader(ctx, readerSource(ctx));
    expect(reader.crossAttention?.kind).toBe('pre-softmax');
    const ours = await fidGenerate(reader, QUESTIONS, FID_KAT);
    expect(ours.map((a) => a.passagesRead)).toEqual([4, 1, 1, 3]);
    expect(ours[0]!.batchEncodedPassages).toBe(8);
    expectSame(ours, reference(reader, QUESTIONS, FID_KAT));
    // appendEos and a shorter passage limit change the input; still equal
    const o = { ...FID_KAT, appendEos: true, textMaxLength: 12, maxLength: 6 };
    expectSame(await fidGenerate(reader, QUESTIONS, o), reference(reader, QUESTIONS, o));
  });

  it('visual tokens: batched with questions without regions', async () => {
    const reader = await loadT5Reader(ctx, readerSource(ctx));
    const feat = (k: number) => Array.from({ length: reader.visualFeatures! }, (_, j) => Math.cos(k * 7 + j) / 2);
    const qs: FidQuestion[] = [
      { ...QUESTIONS[0]!, visual: [feat(1), feat(2), feat(3)] },
      QUESTIONS[1]!,
      { ...QUESTIONS[3]!, visual: [feat(4)] },
    ];
    const ours = await fidGenerate(reader, qs, FID_KAT);
    expect(ours.map((a) => a.visualTokens)).toEqual([3, 0, 1]);
    expectSame(ours, reference(reader, qs, FID_KAT));
  });

  it('beam search (3 beams) matches transformers 3.0.2 beam search re-implemented without a cache', async () => {
    const reader = await loadT5Reader(ctx, readerSource(ctx));
    const o = { ...FID_KAT, numBeams: 3 };
    expectSame(await fidGenerate(reader, QUESTIONS, o), reference(reader, QUESTIONS, o));
  });

  it("optimum's older layout (decoder_model + decoder_with_past_model, no merged decoder) gives the same answers", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'okvqa-t5-split-'));
    const resources = new Resources();
    try {
      const gen = spawnSync(PY, [join(paths.root, 'test', 'fixtures', 'models', 'generate_t5.py'), 'split', dir], { encoding: 'utf8' });
      expect(gen.status, gen.stderr).toBe(0);
      expect(existsSync(join(dir, 'onnx', 'decoder_model_merged.onnx'))).toBe(false);
      const split = await loadT5Reader({ resources }, readerSource(ctx, dir));
      expect(split.decoderFirst).toBeDefined();
      expect(split.decoder.inputNames).not.toContain('encoder_hidden_states');
      const merged = await loadT5Reader(ctx, readerSource(ctx));
      const a = await fidGenerate(split, QUESTIONS, FID_KAT);
      const b = await fidGenerate(merged, QUESTIONS, FID_KAT);
      a.forEach((x, i) => {
        expect(x.tokens).toEqual(b[i]!.tokens);
        expect(Math.abs(x.logprob - b[i]!.logprob)).toBeLessThan(1e-4);
        x.attribution!.forEach((s, p) => expect(Math.abs(s - b[i]!.attribution![p]!)).toBeLessThan(1e-4));
      });
    } finally {
      await resources.disposeAll();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
