import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createAnswerer, type Answerer } from '../../src/answerer.js';
import { sha256 } from '../../src/core/hash.js';
import { packagePaths } from '../../src/core/paths.js';
import { defineStage } from '../../src/core/stage.js';
import { createRegistry } from '../../src/stages/index.js';

const root = packagePaths().root;
const IMAGES = join(root, 'test', 'fixtures', 'images');
const COFFEE = join(IMAGES, 'coffee.png');
const ASTRONAUT = join(IMAGES, 'astronaut.png');
const KB = join(root, 'assets', 'demo', 'kb.sqlite');
const dir = mkdtempSync(join(tmpdir(), 'okvqa-anyimage-'));

// Regions → regional tags → per-region entities → a test reader that answers with the best passage's entity and gives
// every passage an attribution (its softmaxed score), as reader.fid does with cross-attention.
const yaml = `
description: object regions, regional tags and per-region retrieval, read by a test reader
nodes:
  regions:  { use: regions.detector, params: { maxRegions: 3, embed: true } }
  tags:     { use: tags.clip, params: { topP: 2 } }
  entities: { use: retrieve.entities, params: { k: 2, merge: region } }
  answer:   { use: reader.test-attribution, inputs: { passages: entities } }
`;

const testReader = defineStage({
  id: 'reader.test-attribution',
  version: '1',
  description: 'test: the best passage entity as the answer, softmaxed scores as attribution',
  inputs: { sample: { kind: 'sample' }, passages: { kind: 'passages' }, regions: { kind: 'regions', optional: true }, tags: { kind: 'tags', optional: true } },
  output: 'answer',
  params: z.object({}),
  async run({ passages }) {
    const exps = passages.map((p) => Math.exp(p.score));
    const z = exps.reduce((a, b) => a + b, 0);
    const best = passages.reduce((b, p) => (p.score > b.score ? p : b), passages[0]!);
    return { answer: best.text.replace(/^entity: (.*?) description: .*$/, '$1'), score: best.score, attribution: exps.map((e) => e / z) } as never;
  },
});

let qa: Answerer;
beforeAll(() => {
  qa = createAnswerer({
    pipeline: join(dir, 'p.yaml'),
    registry: createRegistry([testReader]),
    profile: 'tiny',
    config: { models: { offline: true }, knowledge: { kb: KB }, cache: { path: join(dir, 'cache.sqlite') } },
  });
}, 60_000);
afterAll(async () => {
  await qa?.close();
  rmSync(dir, { recursive: true, force: true });
});
writeFileSync(join(dir, 'p.yaml'), yaml);

describe('answer() on any image (tiny models, offline)', () => {
  it('answers about an image path with no COCO id: content-hash identity, regions, tags, attributed passages, timings', async () => {
    const r = await qa.answer({ image: COFFEE, question: 'What is in the cup?' });
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.image).toEqual({ hash: sha256(readFileSync(COFFEE)), path: COFFEE });
    expect(r.questionId).toMatch(/^q-[0-9a-f]{16}$/);
    expect(r.regions).toHaveLength(3);
    expect(r.regions[0]).not.toHaveProperty('embedding');
    expect(r.tags).toHaveLength(6);
    expect(new Set(r.tags.map((t) => t.region))).toEqual(new Set([0, 1, 2]));
    // passages are what the reader read, in order, each with its attribution
    expect(r.passages.length).toBeGreaterThan(0);
    expect(r.passages.map((p) => p.text)).toEqual((r.nodes.entities!.output as { text: string }[]).map((p) => p.text));
    const total = r.passages.reduce((a, p) => a + p.attribution!, 0);
    expect(total).toBeCloseTo(1, 6);
    for (const p of r.passages) expect(p.region).toBeGreaterThanOrEqual(0);
    expect(r.answer).toBe(r.prediction!.answer);
    expect(r.timings.map((t) => t.node)).toEqual(['regions', 'tags', 'entities', 'answer']);
    expect(r.timings.every((t) => t.ms >= 0)).toBe(true);
  });

  it('a Buffer, a file: URL and a renamed (non-COCO) copy of the same bytes are the same image: every node cached', async () => {
    const renamed = join(dir, 'my holiday photo.png');
    copyFileSync(COFFEE, renamed);
    const question = 'What is in the cup?';
    const first = await qa.answer({ image: COFFEE, question });
    for (const image of [readFileSync(COFFEE), pathToFileURL(renamed), pathToFileURL(renamed).href, renamed]) {
      const r = await qa.answer({ image, question });
      expect(r.ok).toBe(true);
      expect(r.questionId).toBe(first.questionId);
      expect(r.image.hash).toBe(first.image.hash);
      expect(r.timings.filter((t) => t.node !== 'answer').every((t) => t.cached)).toBe(true);
      expect(r.answer).toBe(first.answer);
      expect(r.regions).toEqual(first.regions);
    }
    const buf = await qa.answer({ image: readFileSync(COFFEE), question });
    expect(buf.image.path).toBe(`memory:${first.image.hash}`);
  });

  it('a different image is a different key; a COCO id, when given, is the identity instead of the bytes', async () => {
    const a = await qa.answer({ image: readFileSync(ASTRONAUT), question: 'What is in the cup?' });
    expect(a.ok).toBe(true);
    expect(a.image.hash).toBe(sha256(readFileSync(ASTRONAUT)));
    expect(a.timings.find((t) => t.node === 'regions')!.cached).toBe(false);
    const coco = await qa.answer({ image: COFFEE, imageId: 42, question: 'What is in the cup?' });
    expect(coco.image).toEqual({ id: 42, path: COFFEE });
    expect(coco.timings.find((t) => t.node === 'regions')!.cached).toBe(false);
  });

  it('answerMany keeps input order and records a bad image without stopping the batch', async () => {
    const rs = await qa.answerMany([
      { image: ASTRONAUT, question: 'Who is this?', questionId: 'a' },
      { image: join(dir, 'missing.jpg'), question: 'What is this?', questionId: 'b' },
      { image: 'https://example.com/x.jpg', question: 'What is this?', questionId: 'c' },
      { image: Buffer.from('not an image'), question: 'What is this?', questionId: 'd' },
      { image: readFileSync(COFFEE), question: 'What is on the saucer?', questionId: 'e' },
    ]);
    expect(rs.map((r) => r.questionId)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(rs.map((r) => r.ok)).toEqual([true, false, false, false, true]);
    expect(rs[1]!.error!.message).toMatch(/missing\.jpg.*not found|not found.*missing\.jpg/);
    expect(rs[2]!.error!.message).toMatch(/only local images/);
    expect(rs[3]!.error).toMatchObject({ node: 'regions', stage: 'regions.detector' });
    expect(rs[3]!.error!.message).toMatch(/not an image/);
  });
});

describe('createAnswerer without a pipeline (plain JavaScript)', () => {
  it('is one clear error naming what to pass', async () => {
    const { createAnswerer } = await import('../../src/answerer.js');
    expect(() => createAnswerer({} as never)).toThrow(/createAnswerer needs a pipeline: a name \('revive'/);
  });
});
