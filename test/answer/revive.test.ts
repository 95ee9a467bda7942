import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRunContext, createAnswerer, createRunContext, loadPipeline, runPipeline as runBatch } from '../../src/answerer.js';
import type { Candidate, Passage, PromptResult, Region, Tag } from '../../src/core/artifacts.js';
import { resolveConfig } from '../../src/core/config.js';
import { packagePaths } from '../../src/core/paths.js';
import { loadDataFile, loadSamples } from '../../src/data/data-file.js';
import { completionReply, TestLlmServer } from '../llm/server.js';

const root = packagePaths().root;
const DATA = join(root, 'assets', 'demo', 'data.json');
const ASTRONAUT = join(root, 'test', 'fixtures', 'images', 'astronaut.png');
const dir = mkdtempSync(join(tmpdir(), 'okvqa-revive-'));

let server: TestLlmServer;
beforeAll(async () => {
  server = await new TestLlmServer().start();
  // Scripted LLM: PICa-style prompts answer by prompt position; rationale prompts explain.
  server.handler = (body) => {
    const p: string = body.prompt;
    if (p.endsWith('This is because')) return completionReply(body, { text: ' it is what people drink in the morning.' });
    const answers = [' coffee', ' tea', ' coffee', ' espresso', ' milk'];
    const k = p.length % answers.length;
    return completionReply(body, { text: answers[k]!, tokens: [{ token: answers[k]!, logprob: -0.1 * (k + 1) }] });
  };
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const llm = () => ({ baseURL: server.baseURL, model: 'test-model', maxRetries: 0 });

describe('revive, tiny profile, loopback LLM', () => {
  it('runs from image to answer over the fixture data: regions, regional tags, per-region entities, rationales, reader', async () => {
    const data = loadDataFile(DATA);
    const config = resolveConfig({ overrides: { models: { profile: 'tiny', offline: true }, llm: llm(), cache: { path: join(dir, 'cache.sqlite') } }, env: {} });
    const ctx = createRunContext({ config, data });
    const out = join(dir, 'run');
    try {
      const summary = await runBatch({ pipeline: loadPipeline('revive'), samples: loadSamples(data), ctx, outDir: out });
      expect(summary.failures).toEqual([]);
      expect(summary).toMatchObject({ ok: 3, failed: 0 });
      expect(summary.metrics?.n).toBe(3);
      const trace = readFileSync(join(out, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      for (const q of trace) {
        const regions = q.nodes.regions.output as Region[];
        expect(regions.length).toBeGreaterThan(0);
        expect(regions.length).toBeLessThanOrEqual(10);
        for (const r of regions) expect(r.source).toBe('detector');
        const tags = q.nodes.tags.output as Tag[];
        expect(tags).toHaveLength(3 * regions.length);
        expect(new Set(tags.map((t) => t.region)).size).toBe(regions.length);
        const entities = q.nodes.entities.output as Passage[];
        expect(entities.length).toBeGreaterThan(0);
        expect(entities.length).toBeLessThanOrEqual(40);
        for (const e of entities) expect(e.region).toBeGreaterThanOrEqual(0);
        // captions come from the file for these COCO-named fixture images
        expect(q.nodes.captions.output[0].source).toBe('file');
        // the implicit prompt's context is "{caption} + {regional tags}", each tag once
        const prompts = q.nodes.prompts.output as PromptResult[];
        expect(prompts).toHaveLength(5);
        const context = prompts[0]!.prompt.slice(prompts[0]!.prompt.lastIndexOf('context: ') + 9).split('. question:')[0]!;
        const [caption, tagText] = context.split(' + ');
        expect(caption).toBe(q.nodes.captions.output[0].text);
        expect(tagText!.split(', ')).toEqual([...new Set(tags.map((t) => t.label))]);
        const implicit = q.nodes.implicit.output as Candidate[];
        expect(implicit.length).toBeGreaterThan(0);
        for (const e of entities) expect(e.text).toMatch(/^title: (.+) context: \1 is a .+/);
        for (const c of implicit) expect(c.evidence).toMatch(/is what people drink in the morning\.$/);
        const rationales = q.nodes.rationales.output as Passage[];
        expect(rationales.map((p) => p.text)).toEqual(implicit.map((c) => `candidate: ${c.answer} evidence: ${c.evidence}`));
        expect(typeof q.prediction.answer).toBe('string');
        // the tiny reader ships onnx/visual_projection.onnx: every region is one visual token
        expect(q.nodes.answer.notes.regions).toBe(`${regions.length} visual tokens`);
        expect(q.nodes.answer.notes.visualTokens).toBe(regions.length);
        expect(q.prediction.attribution).toHaveLength(entities.length + rationales.length);
      }
    } finally {
      await closeRunContext(ctx);
    }
  }, 120_000);

  it('answers about an uploaded photo (Buffer, no COCO id): model caption, regions, tags, entities, rationales, attribution', async () => {
    const qa = createAnswerer({ pipeline: 'revive', profile: 'tiny', data: DATA, config: { models: { offline: true }, llm: llm(), cache: { path: join(dir, 'cache.sqlite') } } });
    try {
      const r = await qa.answer({ image: readFileSync(ASTRONAUT), question: 'Which agency does this person work for?' });
      expect(r.error).toBeUndefined();
      expect(r.ok).toBe(true);
      expect(r.image.id).toBeUndefined();
      expect(r.captions[0]!.source).toMatch(/^model:/);
      expect(r.notes.captions?.captionSource).toBe('model');
      expect(r.notes.captions?.missing).toMatch(/has no COCO image id/);
      expect(r.regions.length).toBeGreaterThan(0);
      expect(r.tags.length).toBe(3 * r.regions.length);
      expect(r.candidates.every((c) => typeof c.evidence === 'string')).toBe(true);
      // what the reader read: the per-region entities, then the rationales, in its binding order
      const nodes = r.passages.map((p) => p.node);
      expect(nodes.lastIndexOf('entities')).toBeLessThan(nodes.indexOf('rationales'));
      expect(nodes.filter((n) => n === 'rationales')).toHaveLength(r.candidates.length);
      expect(r.passages.every((p) => typeof p.attribution === 'number')).toBe(true);
      expect(r.notes.answer?.regions).toBe(`${r.regions.length} visual tokens`);
      expect(r.timings.map((t) => t.node).sort()).toEqual(['answer', 'captions', 'entities', 'examples', 'implicit', 'prompts', 'rationales', 'regions', 'tags']);
    } finally {
      await qa.close();
    }
  }, 120_000);

  for (const [name, check] of [
    ['revive-no-tags', (r: Awaited<ReturnType<ReturnType<typeof createAnswerer>['answer']>>) => {
      expect(r.nodes.tags).toBeUndefined();
      expect(r.notes.answer?.regions).toBe(`${r.regions.length} visual tokens`);
      const p = (r.nodes.prompts!.output as PromptResult[])[0]!.prompt;
      expect(p.slice(p.lastIndexOf('context: '))).not.toContain(' + ');
    }],
    ['revive-no-retrieval', (r: Awaited<ReturnType<ReturnType<typeof createAnswerer>['answer']>>) => {
      expect(r.nodes.entities).toBeUndefined();
      expect(r.passages.length).toBeGreaterThan(0);
      expect(r.passages.every((p) => p.node === 'rationales')).toBe(true);
    }],
    ['revive-no-visual', (r: Awaited<ReturnType<ReturnType<typeof createAnswerer>['answer']>>) => {
      expect(r.regions.length).toBeGreaterThan(0);
      expect(r.notes.answer?.regions).toBe('no regions');
      expect(r.notes.answer?.visualTokens).toBe(0);
      expect(r.passages.some((p) => p.node === 'entities')).toBe(true);
    }],
  ] as const) {
    it(`ablation ${name} runs and differs from revive in its one component`, async () => {
      const qa = createAnswerer({ pipeline: name, profile: 'tiny', data: DATA, config: { models: { offline: true }, llm: llm(), cache: { path: join(dir, 'cache.sqlite') } } });
      try {
        const answerNode = qa.pipeline.nodes.find((n) => n.name === 'answer')!;
        if (name === 'revive-no-visual') expect(answerNode.bindings.regions).toBeUndefined();
        else expect(answerNode.bindings.regions).toEqual(['regions']);
        const r = await qa.answer({ image: join(root, 'test', 'fixtures', 'images', 'coffee.png'), question: 'What is in the cup?' });
        expect(r.error).toBeUndefined();
        expect(r.ok).toBe(true);
        check(r);
      } finally {
        await qa.close();
      }
    }, 120_000);
  }
});
