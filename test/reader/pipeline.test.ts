import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { closeRunContext, createRunContext, loadPipeline } from '../../src/api.js';
import { runBatch } from '../../src/core/batch.js';
import { resolveConfig } from '../../src/core/config.js';
import { defineStage } from '../../src/core/stage.js';
import { loadDataFile, loadSamples } from '../../src/data/data-file.js';
import { createRegistry } from '../../src/stages/index.js';
import { paths } from '../vision/helpers.js';

/** Passages made from the caption and the question's words: a varying number per question. */
const toyPassages = defineStage({
  id: 'passages.toy',
  version: '1',
  description: 'test passages',
  inputs: { sample: { kind: 'sample' }, captions: { kind: 'captions' } },
  output: 'passages',
  params: z.strictObject({}),
  async run({ sample, captions }) {
    const words = sample.question.toLowerCase().replace(/[^a-z ]/g, '').split(' ').filter(Boolean);
    return [
      ...captions.map((c) => ({ text: `title: caption context: ${c.text}`, score: 1, source: 'toy' })),
      ...words.slice(0, 1 + (words.length % 4)).map((w, i) => ({ text: `title: ${w} context: ${w} is a word`, score: 1 / (i + 2), source: 'toy' })),
    ];
  },
});

describe('reader.fid in a pipeline run', () => {
  it('answers every question, batches concurrent questions, and traces attribution per passage', async () => {
    const data = loadDataFile(join(paths.root, 'test', 'fixtures', 'okvqa-mini', 'data.json'));
    const samples = loadSamples(data).slice(0, 8);
    const out = mkdtempSync(join(tmpdir(), 'okvqa-fid-run-'));
    const config = resolveConfig({ overrides: { models: { profile: 'tiny' }, concurrency: 8, cache: { path: join(out, 'cache.sqlite') } }, env: {} });
    const ctx = createRunContext({ config, data });
    try {
      const pipeline = loadPipeline(join(paths.root, 'test', 'reader', 'fixtures', 'fid-toy.yaml'), { registry: createRegistry([toyPassages]) });
      const summary = await runBatch({ pipeline, samples, ctx, outDir: out });
      expect(summary).toMatchObject({ ok: samples.length, failed: 0 });
      const trace = readFileSync(join(out, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(trace).toHaveLength(samples.length);
      const batchSizes: number[] = [];
      for (const q of trace) {
        const reader = q.nodes.answer;
        const passages = q.nodes.passages.output;
        expect(reader.output.method).toBe('fid');
        expect(reader.output.attribution).toHaveLength(passages.length);
        expect(reader.notes.attribution.kind).toBe('pre-softmax');
        expect(reader.notes.reader.passagesRead).toBe(passages.length);
        expect(reader.notes.visualTokens).toBe(0);
        batchSizes.push(reader.notes.reader.batchQuestions);
      }
      expect(Math.max(...batchSizes)).toBeGreaterThan(1);
      const preds = JSON.parse(readFileSync(join(out, 'predictions.json'), 'utf8'));
      expect(preds).toHaveLength(samples.length);
    } finally {
      await closeRunContext(ctx);
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('reader.llm swaps in with one line (same inputs)', () => {
    const pipeline = loadPipeline(join(paths.root, 'test', 'reader', 'fixtures', 'fid-toy-llm.yaml'), { registry: createRegistry([toyPassages]) });
    const text = JSON.stringify(pipeline);
    expect(text).toContain('reader.llm');
    expect(text).not.toContain('reader.fid');
  });
});
