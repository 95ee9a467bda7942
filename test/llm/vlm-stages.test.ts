/**
 * Vision-language stages against the loopback OpenAI-compatible server: the image bytes it decodes are the resized
 * photo (checked against PIL), prompts as templated, cache and replay, image tokens in usage, Batch API lines with
 * images, and the pre-flight probe of a server that refuses images.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../src/core/artifacts.js';
import { Cache } from '../../src/core/cache.js';
import type { ConfigInput } from '../../src/core/config.js';
import { CacheMissError } from '../../src/core/errors.js';
import type { CheckContext } from '../../src/core/stage.js';
import { submitBatches } from '../../src/llm/batch.js';
import { createOpenAISdk } from '../../src/llm/openai.js';
import { batchCollect, batchSubmit } from '../../src/llm/prompt-and-batch.js';
import { encodeImage } from '../../src/llm/image-part.js';
import { candidatesVlm, parseCandidateLines, toCandidates } from '../../src/stages/candidates/vlm.js';
import { captionVlm } from '../../src/stages/caption/vlm.js';
import { captionQuestionFile } from '../../src/stages/caption/question-file.js';
import { loadSamples } from '../../src/data/data-file.js';
import { readerVlm } from '../../src/stages/reader/vlm.js';
import { checkVlm } from '../../src/stages/vlm-check.js';
import { pythonMissing, runPython } from '../helpers/python.js';
import { makeCtx, ROOT, type TestCtx } from './helpers.js';
import { completionReply, TestLlmServer, textOf } from './server.js';

const COFFEE = join(ROOT, 'test/fixtures/images/coffee.png'); // 600x400
const ROCKET = join(ROOT, '..', 'shared', 'fixtures', 'images', 'rocket.jpg'); // 640x427
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-vlm-'));
let server: TestLlmServer;

beforeAll(async () => {
  server = await new TestLlmServer().start();
});
afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const sample = (over: Partial<Sample> = {}): Sample => ({ dataset: 'okvqa', questionId: '3397615', imageId: 339761, question: 'What is in the cup?', imagePath: COFFEE, ...over });

function ctxFor(config: ConfigInput = {}, cache?: Cache): TestCtx {
  const base: ConfigInput = { llm: { baseURL: server.baseURL, apiKey: 'test' }, vlm: { model: 'test-vlm' } };
  const merged = { ...base, ...config, llm: { ...base.llm, ...config.llm }, vlm: { ...base.vlm, ...config.vlm } } as ConfigInput;
  return makeCtx({ config: merged, ...(cache ? { cache } : {}) });
}

const reader = (o: Record<string, unknown> = {}) => readerVlm.params.parse(o);

describe('image content parts', () => {
  it('the bytes the server decodes are the photo resized to maxSide and JPEG-encoded (checked against PIL)', async () => {
    server.requests.length = 0;
    server.handler = (body) => completionReply(body, { text: 'Coffee.' });
    const ctx = ctxFor({ vlm: { maxSide: 300 } });
    await readerVlm.run({ sample: sample(), passages: undefined, candidates: undefined, captions: undefined }, reader(), ctx);
    const [call] = server.completionCalls;
    expect(call!.path).toBe('/v1/chat/completions');
    const [img] = call!.images!;
    expect(img!.mime).toBe('image/jpeg');
    expect(img!.detail).toBe('auto');
    // The same resize and encoding, made here with sharp's own calls: byte for byte what was sent.
    const expected = await sharp(readFileSync(COFFEE)).rotate().resize({ width: 300, height: 300, fit: 'inside', withoutEnlargement: true }).flatten({ background: '#ffffff' }).jpeg({ quality: 90 }).toBuffer();
    expect(img!.bytes.equals(expected)).toBe(true);
    expect(ctx.notes.prompt).toMatchObject({ image: { width: 300, height: 200, bytes: expected.length } });

    // Independent check: PIL decodes the sent JPEG as 300x200 and it matches PIL's own resize of the PNG.
    const why = pythonMissing(['PIL', 'numpy']);
    if (why) return void console.warn(`skipping the PIL comparison: ${why}`);
    const sent = join(tmp, 'sent.jpg');
    await sharp(img!.bytes).toFile(sent);
    const out = runPython(
      [
        'import sys, numpy as np',
        'from PIL import Image',
        'a = Image.open(sys.argv[1]).convert("RGB")',
        'b = Image.open(sys.argv[2]).convert("RGB").resize(a.size, Image.LANCZOS)',
        'print(a.size[0], a.size[1], float(np.abs(np.asarray(a, float) - np.asarray(b, float)).mean()))',
      ].join('\n'),
      [sent, COFFEE],
    );
    const [w, h, diff] = out.trim().split(' ').map(Number);
    expect([w, h]).toEqual([300, 200]);
    expect(diff).toBeLessThan(6); // JPEG + a different resampling kernel: a few grey levels on average
  });

  it('an image within maxSide is not enlarged; detail is configurable and can be left out', async () => {
    const a = await encodeImage(readFileSync(ROCKET), 'rocket', { maxSide: 768, quality: 90 });
    expect([a.width, a.height]).toEqual([640, 427]);
    const b = await encodeImage(readFileSync(ROCKET), 'rocket', { maxSide: 320, quality: 90 });
    expect([b.width, b.height]).toEqual([320, 214]); // 427 * 320 / 640 = 213.5 → 214
    server.requests.length = 0;
    await readerVlm.run({ sample: sample({ imagePath: ROCKET }), passages: undefined, candidates: undefined, captions: undefined }, reader(), ctxFor({ vlm: { detail: 'low' } }));
    await readerVlm.run({ sample: sample({ imagePath: ROCKET }), passages: undefined, candidates: undefined, captions: undefined }, reader(), ctxFor({ vlm: { detail: 'omit' } }));
    const [low, omitted] = server.completionCalls;
    expect(low!.images![0]!.detail).toBe('low');
    expect(omitted!.body.messages[0].content[0]).toEqual({ type: 'image_url', image_url: { url: expect.stringMatching(/^data:image\/jpeg;base64,/) } });
  });

  it('the VLM can have its own server: vlm.baseURL with the text LLM embedded (llm.backend local)', async () => {
    server.requests.length = 0;
    server.handler = (body) => completionReply(body, { text: 'coffee' });
    const ctx = makeCtx({ config: { llm: { backend: 'local' }, vlm: { baseURL: server.baseURL, apiKey: 'k', model: 'own-vlm' } } });
    const pred = await readerVlm.run({ sample: sample(), passages: undefined, candidates: undefined, captions: undefined }, reader(), ctx);
    expect(pred.answer).toBe('coffee');
    expect(server.completionCalls.map((c) => c.body.model)).toEqual(['own-vlm']);
  });

  it('a missing image fails the question with the path named', async () => {
    await expect(readerVlm.run({ sample: sample({ imagePath: join(tmp, 'nope.png') }), passages: undefined, candidates: undefined, captions: undefined }, reader(), ctxFor())).rejects.toThrow(/nope\.png.*image file not found|image file not found.*nope\.png/);
  });
});

describe('reader.vlm', () => {
  it('sends the template with passages, candidates and caption; the answer is cleaned and scored from log-probabilities', async () => {
    server.requests.length = 0;
    server.handler = (body) => completionReply(body, { text: 'Black coffee.\n', tokens: [{ token: 'Black', logprob: -0.2 }, { token: ' coffee', logprob: -0.1 }, { token: '.', logprob: -0.05 }] });
    const ctx = ctxFor();
    const pred = await readerVlm.run(
      {
        sample: sample(),
        passages: [{ text: 'title: coffee context: coffee is a drink', score: 1, source: 'kb' }, { text: 'candidate: tea evidence: it is hot', score: 1, source: 'llm' }],
        candidates: [{ answer: 'coffee', score: 0.834, evidence: 'it is brown' }, { answer: 'tea', score: 0.1 }],
        captions: [{ text: 'a cup of coffee on a table', source: 'file' }],
      },
      reader(),
      ctx,
    );
    const [call] = server.completionCalls;
    expect(call!.body).toMatchObject({ model: 'test-vlm', max_tokens: 10, temperature: 0, logprobs: true, stop: ['\n'] });
    expect(call!.body.messages).toHaveLength(1);
    expect(call!.body.messages[0].content.map((p: { type: string }) => p.type)).toEqual(['image_url', 'text']);
    expect(textOf(call!.body)).toBe(
      [
        'Image description: a cup of coffee on a table',
        'Knowledge that may help:',
        '1. title: coffee context: coffee is a drink',
        '2. candidate: tea evidence: it is hot',
        'Candidate answers with the reason for each:',
        '- coffee: it is brown',
        '- tea',
        'Question: What is in the cup?',
        'Answer the question about the image with a short answer (one to three words), and nothing else.',
      ].join('\n'),
    );
    expect(pred).toMatchObject({ answer: 'black coffee', method: 'vlm' });
    expect(pred.logprob).toBeCloseTo(-0.35, 12);
    expect(pred.score).toBeCloseTo(Math.exp(-0.35), 12);

    // Confidences instead of rationales; the bare question when nothing else is given.
    server.requests.length = 0;
    await readerVlm.run({ sample: sample(), passages: undefined, candidates: [{ answer: 'coffee', score: 0.834 }, { answer: 'tea', score: 0.1 }], captions: undefined }, reader(), ctx);
    await readerVlm.run({ sample: sample(), passages: undefined, candidates: undefined, captions: undefined }, reader(), ctx);
    const [withConf, bare] = server.completionCalls.map((c) => textOf(c.body));
    expect(withConf).toBe('Candidate answers with their confidence:\n- coffee (0.83)\n- tea (0.10)\nQuestion: What is in the cup?\nAnswer the question about the image with a short answer (one to three words), and nothing else.');
    expect(bare).toBe('Question: What is in the cup?\nAnswer the question about the image with a short answer (one to three words), and nothing else.');
  });

  it('A-OKVQA multiple choice: the choices are listed and the reply is matched to one', async () => {
    server.requests.length = 0;
    server.handler = (body) => completionReply(body, { text: 'Espresso', tokens: null });
    const ctx = ctxFor();
    const pred = await readerVlm.run({ sample: sample({ dataset: 'aokvqa', choices: ['tea', 'espresso', 'milk', 'juice'] }), passages: undefined, candidates: undefined, captions: undefined }, reader(), ctx);
    expect(textOf(server.completionCalls[0]!.body)).toBe('Question: What is in the cup?\nChoices:\n- tea\n- espresso\n- milk\n- juice\nAnswer with the exact text of one of the choices, and nothing else.');
    expect(pred).toMatchObject({ answer: 'espresso', multipleChoice: 'espresso' });
    expect(pred.score).toBeUndefined(); // the server gave no log-probabilities
  });

  it('cached by the full request (image bytes included): a rerun makes no call, replay needs no server, a new maxSide is a new call; image tokens counted', async () => {
    const file = join(tmp, 'cache.sqlite');
    server.requests.length = 0;
    server.imageTokensPerImage = 85;
    server.handler = (body) => completionReply(body, { text: 'coffee' });
    try {
      const rw = new Cache(file, 'rw');
      const c1 = ctxFor({}, rw);
      const p1 = await readerVlm.run({ sample: sample(), passages: undefined, candidates: undefined, captions: undefined }, reader(), c1);
      expect(c1.usageTotal).toMatchObject({ calls: 1, cachedCalls: 0, imageTokens: 85 });
      const c2 = ctxFor({}, rw);
      const p2 = await readerVlm.run({ sample: sample(), passages: undefined, candidates: undefined, captions: undefined }, reader(), c2);
      expect(p2).toEqual(p1);
      expect(c2.usageTotal).toMatchObject({ calls: 0, cachedCalls: 1 });
      expect(c2.notes.prompt).toMatchObject({ cached: true });
      expect(server.completionCalls).toHaveLength(1);
      const c3 = ctxFor({ vlm: { maxSide: 200 } }, rw);
      await readerVlm.run({ sample: sample(), passages: undefined, candidates: undefined, captions: undefined }, reader(), c3);
      expect(server.completionCalls).toHaveLength(2);
      expect(server.completionCalls[1]!.images![0]!.bytes.length).toBeLessThan(server.completionCalls[0]!.images![0]!.bytes.length);
      rw.close();

      // Replay: no server configured at all, same answer; an image never sent is a cache miss.
      const replay = new Cache(file, 'replay');
      const c4 = makeCtxNoServer({ cache: { mode: 'replay' } }, replay);
      expect(await readerVlm.run({ sample: sample(), passages: undefined, candidates: undefined, captions: undefined }, reader(), c4)).toEqual(p1);
      await expect(readerVlm.run({ sample: sample({ imagePath: ROCKET }), passages: undefined, candidates: undefined, captions: undefined }, reader(), c4)).rejects.toBeInstanceOf(CacheMissError);
      replay.close();
      expect(server.completionCalls).toHaveLength(2);
    } finally {
      server.imageTokensPerImage = undefined;
    }
  });
});

function makeCtxNoServer(config: ConfigInput, cache: Cache): TestCtx {
  return makeCtx({ config: { ...config, vlm: { model: 'test-vlm' } }, cache });
}

describe('caption.vlm and candidates.vlm', () => {
  it('caption.vlm asks a question-aware caption (PromptCap-style) and returns it as a caption', async () => {
    server.requests.length = 0;
    server.handler = (body) => completionReply(body, { text: ' A white cup of black coffee\non a wooden table. ' });
    const caps = await captionVlm.run({ sample: sample() }, captionVlm.params.parse({}), ctxFor());
    expect(caps).toEqual([{ text: 'A white cup of black coffee on a wooden table.', source: 'vlm' }]);
    const [call] = server.completionCalls;
    expect(call!.body).toMatchObject({ max_tokens: 60, temperature: 0 });
    expect(call!.body.logprobs).toBeUndefined();
    expect(textOf(call!.body)).toBe('Describe this image in one sentence for someone who cannot see it. The sentence must include the details needed to answer this question (do not answer it, describe what is shown): What is in the cup?');
  });

  it('candidates.vlm: top-k answers with the stated confidences, as the candidates artifact', async () => {
    server.requests.length = 0;
    server.handler = (body) => completionReply(body, { text: '1. Coffee (0.7)\n2. the espresso (0.2)\n- Tea: 5%\ncoffee (0.05)\nmilk (0.01)' });
    const ctx = ctxFor();
    const cands = await candidatesVlm.run({ sample: sample(), captions: [{ text: 'a cup', source: 'file' }] }, candidatesVlm.params.parse({ k: 3 }), ctx);
    expect(cands).toEqual([
      { answer: 'coffee', score: 0.7, source: 'vlm' },
      { answer: 'espresso', score: 0.2, source: 'vlm' },
      { answer: 'tea', score: 0.05, source: 'vlm' },
    ]);
    expect(textOf(server.completionCalls[0]!.body)).toBe(
      'Image description: a cup\nQuestion: What is in the cup?\nList the 3 most likely short answers (one to three words each) to the question about the image, most likely first, one per line, each followed by your confidence between 0 and 1 in parentheses, in the form: answer (confidence). Write nothing else.',
    );
    expect(ctx.notes.prompt).toMatchObject({ confidence: 'stated' });
  });

  it('parses the forms models write; no numbers at all → confidences by rank; over 1 in total → normalised', () => {
    const text = '* dog [80%]\n2) cat - 0.1\n7-11\nbird';
    const lines = parseCandidateLines(text);
    expect(lines).toEqual([
      { answer: 'dog', confidence: 0.8, span: [2, 5] },
      { answer: 'cat', confidence: 0.1, span: [15, 18] },
      { answer: '7-11', span: [25, 29] },
      { answer: 'bird', span: [30, 34] },
    ]);
    for (const l of lines) expect(text.slice(...l.span)).toBe(l.answer);
    expect(toCandidates(parseCandidateLines('dog\ncat\nbird'), 10)).toEqual({
      candidates: [{ answer: 'dog', score: 3 / 6, source: 'vlm' }, { answer: 'cat', score: 2 / 6, source: 'vlm' }, { answer: 'bird', score: 1 / 6, source: 'vlm' }],
      confidence: 'rank',
    });
    const norm = toCandidates(parseCandidateLines('dog (0.9)\ncat (0.6)'), 10).candidates.map((c) => c.score);
    expect(norm[0]).toBeCloseTo(0.6, 12);
    expect(norm[1]).toBeCloseTo(0.4, 12);
  });
});

describe('candidates.vlm confidence: logprob', () => {
  it("each answer's confidence is exp(sum of its tokens' log-probabilities); without log-probabilities, the stated ones", async () => {
    server.requests.length = 0;
    const tokens = [
      { token: 'Coff', logprob: -0.1 },
      { token: 'ee', logprob: -0.2 },
      { token: ' (0.9)\n', logprob: -0.01 },
      { token: 'Tea', logprob: -1.5 },
      { token: ' (0.1)', logprob: -0.3 },
    ];
    server.handler = (body) => completionReply(body, { text: tokens.map((t) => t.token).join(''), tokens: body.logprobs ? tokens : null });
    const ctx = ctxFor();
    const cands = await candidatesVlm.run({ sample: sample(), captions: undefined }, candidatesVlm.params.parse({ confidence: 'logprob' }), ctx);
    expect(server.completionCalls[0]!.body.logprobs).toBe(true);
    expect(cands.map((c) => c.answer)).toEqual(['coffee', 'tea']);
    expect(cands[0]!.score).toBeCloseTo(Math.exp(-0.3), 12);
    expect(cands[1]!.score).toBeCloseTo(Math.exp(-1.5), 12);
    expect(ctx.notes.prompt).toMatchObject({ confidence: 'logprob' });

    server.handler = (body) => completionReply(body, { text: 'Coffee (0.9)\nTea (0.1)', tokens: null });
    const ctx2 = ctxFor({ vlm: { maxSide: 500 } });
    const stated = await candidatesVlm.run({ sample: sample(), captions: undefined }, candidatesVlm.params.parse({ confidence: 'logprob' }), ctx2);
    expect(stated.map((c) => c.score)).toEqual([0.9, 0.1]);
    expect(ctx2.notes.prompt).toMatchObject({ confidence: 'stated (the server gave no log-probabilities)' });
  });
});

describe('caption.question-file', () => {
  const SHARED_OKVQA = join(ROOT, '..', 'shared', 'data', 'okvqa');
  it("reads ../shared's InstructBLIP question-aware captions by question id; the pre-flight counts the questions covered", async () => {
    const data = { dataset: 'okvqa' as const, questions: join(SHARED_OKVQA, 'OpenEnded_mscoco_val2014_questions.json'), questionCaptions: join(SHARED_OKVQA, 'instructblip_question_captions_val2014.json') };
    const ctx = makeCtx({ data });
    const caps = await captionQuestionFile.run({ sample: sample() }, captionQuestionFile.params.parse({}), ctx);
    const expected = JSON.parse(readFileSync(data.questionCaptions, 'utf8'))['3397615'];
    expect(caps).toEqual([{ text: expected, source: 'question-file' }]);
    const samples = loadSamples({ ...data }).slice(0, 50);
    expect(await captionQuestionFile.check!(captionQuestionFile.params.parse({}), { ...ctx, node: 'captions', samples })).toEqual([]);
    const stranger = [...samples, sample({ questionId: '1' })];
    const f = await captionQuestionFile.check!(captionQuestionFile.params.parse({}), { ...ctx, node: 'captions', samples: stranger });
    expect(f).toEqual([expect.objectContaining({ severity: 'warning', message: expect.stringMatching(/^50 of 51 questions have captions in .*instructblip_question_captions_val2014\.json; the other 1 questions will fail/) })]);
    await expect(captionQuestionFile.run({ sample: sample({ questionId: '1' }) }, captionQuestionFile.params.parse({}), ctx)).rejects.toThrow(/no question-aware caption for question id 1/);
    expect(await captionQuestionFile.run({ sample: sample({ questionId: '1' }) }, captionQuestionFile.params.parse({ required: false }), ctx)).toEqual([]);
    const none = makeCtx({ data: { dataset: 'okvqa', questions: data.questions } });
    expect((await captionQuestionFile.check!(captionQuestionFile.params.parse({}), { ...none, node: 'captions', samples }))[0]).toMatchObject({ severity: 'error', key: 'questionCaptions', message: 'no questionCaptions file is named', fix: expect.stringMatching(/"questionCaptions" in data.json/) });
  });
});

describe('Batch API and pre-flight', () => {
  it('backend batch queues chat lines carrying the image; submit, collect, and the rerun answers from the cache', async () => {
    const cachePath = join(tmp, 'batch', 'cache.sqlite');
    const config: ConfigInput = { llm: { backend: 'batch' }, cache: { path: cachePath } };
    server.requests.length = 0;
    server.handler = (body) => completionReply(body, { text: 'coffee' });
    const cache = new Cache(cachePath, 'rw');
    const ctx = ctxFor(config, cache);
    await expect(readerVlm.run({ sample: sample(), passages: undefined, candidates: undefined, captions: undefined }, reader(), ctx)).rejects.toThrow(/queued for the OpenAI Batch API/);
    expect(server.completionCalls).toHaveLength(0);
    const pending = join(tmp, 'batch', 'llm-batches', 'pending.jsonl');
    const lines = readFileSync(pending, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ method: 'POST', url: '/v1/chat/completions', body: { model: 'test-vlm', logprobs: true } });
    const url: string = lines[0].body.messages[0].content[0].image_url.url;
    const sent = Buffer.from(url.replace(/^data:image\/jpeg;base64,/, ''), 'base64');
    const expected = await encodeImage(readFileSync(COFFEE), 'coffee', { maxSide: 768, quality: 90 });
    expect(sent.equals(expected.jpeg)).toBe(true);
    cache.close();

    const full = ctxFor(config).config;
    await batchSubmit(full);
    expect(existsSync(pending)).toBe(false);
    const collected = await batchCollect(full, { wait: true, intervalMs: 1 });
    expect(collected).toMatchObject({ stored: 1, failed: [] });
    const again = new Cache(cachePath, 'rw');
    const pred = await readerVlm.run({ sample: sample(), passages: undefined, candidates: undefined, captions: undefined }, reader(), ctxFor(config, again));
    again.close();
    expect(pred.answer).toBe('coffee');
  });

  it('batches are cut by size as well as by count: image lines never make an input file over the limit', async () => {
    const cachePath = join(tmp, 'batch-size', 'cache.sqlite');
    const config: ConfigInput = { llm: { backend: 'batch' }, cache: { path: cachePath } };
    const cache = new Cache(cachePath, 'rw');
    const photos = [COFFEE, ROCKET, join(ROOT, 'test/fixtures/images/astronaut.png')];
    for (const p of photos) {
      await expect(readerVlm.run({ sample: sample({ imagePath: p }), passages: undefined, candidates: undefined, captions: undefined }, reader(), ctxFor(config, cache))).rejects.toThrow(/queued/);
    }
    cache.close();
    const dir = join(tmp, 'batch-size', 'llm-batches');
    const sizes = readFileSync(join(dir, 'pending.jsonl'), 'utf8').trim().split('\n').map((l) => Buffer.byteLength(l) + 1);
    expect(sizes).toHaveLength(3);
    const sdk = createOpenAISdk({ baseURL: server.baseURL, apiKey: 'test', timeoutMs: 10_000, maxRetries: 0 });
    // A limit that holds the first two lines but not the third: two batches, in order.
    const created = await submitBatches(sdk, dir, { maxRequests: 50_000, maxBytes: sizes[0]! + sizes[1]! });
    expect(created.map((b) => b.requests)).toEqual([2, 1]);
    for (const b of created) expect(statSync(join(dir, `${b.id}.input.jsonl`)).size).toBeLessThanOrEqual(sizes[0]! + sizes[1]!);
  });

  it('a server that refuses images fails the pre-flight once, with its message, before any question', async () => {
    server.requests.length = 0;
    server.rejectImages = true;
    try {
      const base = ctxFor();
      const check: CheckContext = { ...base, node: 'answer', samples: [sample(), sample({ questionId: '2' }), sample({ questionId: '3' })] };
      const findings = await checkVlm(check);
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({ severity: 'error', key: 'vlm.model' });
      expect(findings[0]!.message).toMatch(/refused a one-image test request to model test-vlm: .*HTTP 400.*image input not supported/);
      // Other VLM nodes of the same run reuse the probe's answer.
      await checkVlm({ ...check, node: 'candidates' });
      expect(server.completionCalls).toHaveLength(1);
      expect(server.completionCalls[0]!.body).toMatchObject({ max_tokens: 1 });
    } finally {
      server.rejectImages = false;
    }
    // No server configured: said at once; replay needs none.
    const none = makeCtx({ config: {} });
    expect((await checkVlm({ ...none, node: 'answer', samples: [sample()] }))[0]).toMatchObject({ key: 'vlm.baseURL', message: expect.stringMatching(/VLMs are API-served/) });
    expect(await checkVlm({ ...makeCtx({ config: { cache: { mode: 'replay' } } }), node: 'answer', samples: [sample()] })).toEqual([]);
  });
});
