import { mkdtempSync, readFileSync, appendFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Sample } from '../../src/core/artifacts.js';
import { runPipeline as runBatch } from '../../src/answerer.js';
import { Cache } from '../../src/core/cache.js';
import { compilePipeline } from '../../src/core/graph.js';
import { StageRegistry } from '../../src/core/registry.js';
import { defineStage } from '../../src/core/stage.js';
import { testContext } from '../helpers/context.js';

function setup(onRun: (s: Sample) => void = () => {}) {
  const seen: string[] = [];
  const echo = defineStage({
    id: 'answer.echo',
    version: '1',
    description: 'answers the last word of the question; fails on "FAIL"',
    inputs: { sample: { kind: 'sample' } },
    output: 'answer',
    params: z.strictObject({}),
    cache: false,
    async run({ sample }) {
      seen.push(sample.questionId);
      onRun(sample);
      await new Promise((r) => setTimeout(r, 2));
      if (sample.question.includes('FAIL')) throw new Error('cannot answer this');
      return { answer: sample.question.split(' ').pop()! };
    },
  });
  const pipeline = compilePipeline(
    { name: 'echo', file: 'echo.yaml', output: 'answer', config: {}, origin: {}, files: [], nodes: { answer: { use: 'answer.echo' } } },
    new StageRegistry([echo]),
  );
  return { pipeline, seen };
}

const samples: Sample[] = Array.from({ length: 20 }, (_, i) => ({
  dataset: 'okvqa', questionId: String(100 + i), imageId: i, question: i === 7 ? 'FAIL here' : `what is w${i}`,
}));
const lines = (dir: string) => readFileSync(join(dir, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { questionId: string; ok: boolean });

describe('batch runner', () => {
  it('records a failing question with its error and goes on', async () => {
    const out = mkdtempSync(join(tmpdir(), 'okvqa-batch-'));
    const { pipeline } = setup();
    const s = await runBatch({ pipeline, samples, ctx: testContext(), outDir: out, concurrency: 4 });
    expect(s.ok).toBe(19);
    expect(s.failed).toBe(1);
    expect(s.failures[0]).toMatchObject({ questionId: '107', node: 'answer', stage: 'answer.echo' });
    expect(s.failures[0]!.message).toContain('question 107: node "answer" (answer.echo): cannot answer this');
    const preds = JSON.parse(readFileSync(join(out, 'predictions.json'), 'utf8')) as { question_id: number; answer: string }[];
    expect(preds).toHaveLength(20);
    expect(preds[0]).toEqual({ question_id: 100, answer: 'w0' });
    expect(preds.find((p) => p.question_id === 107)!.answer).toBe('');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('complete');
    expect(lines(out)).toHaveLength(20);
  });

  it('refuses to overwrite an existing run without --resume', async () => {
    const out = mkdtempSync(join(tmpdir(), 'okvqa-batch-'));
    const { pipeline } = setup();
    await runBatch({ pipeline, samples: samples.slice(0, 2), ctx: testContext(), outDir: out });
    await expect(runBatch({ pipeline, samples: samples.slice(0, 2), ctx: testContext(), outDir: out })).rejects.toThrow(/already holds a run/);
  });

  it('resume continues an interrupted run without redoing or duplicating finished questions', async () => {
    const out = mkdtempSync(join(tmpdir(), 'okvqa-batch-'));
    const abort = new AbortController();
    let n = 0;
    const first = setup(() => {
      if (++n === 8) abort.abort();
    });
    const s1 = await runBatch({ pipeline: first.pipeline, samples, ctx: testContext({ signal: abort.signal }), outDir: out, concurrency: 2 });
    expect(s1.interrupted).toBe(true);
    const done1 = lines(out);
    expect(done1.length).toBeGreaterThan(0);
    expect(done1.length).toBeLessThan(20);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).status).toBe('interrupted');
    // a crash mid-write leaves a torn last line: it must be dropped, not break the resume
    appendFileSync(join(out, 'trace.jsonl'), '{"questionId":"1');

    const second = setup();
    const s2 = await runBatch({ pipeline: second.pipeline, samples, ctx: testContext(), outDir: out, resume: true, concurrency: 2 });
    const finishedOk = new Set(done1.filter((r) => r.ok).map((r) => r.questionId));
    expect(second.seen.filter((q) => finishedOk.has(q))).toEqual([]);
    expect(s2.interrupted).toBe(false);
    expect(s2.resumed).toBe(finishedOk.size);
    const all = lines(out);
    expect(all).toHaveLength(20);
    expect(new Set(all.map((r) => r.questionId)).size).toBe(20);
    expect(JSON.parse(readFileSync(join(out, 'predictions.json'), 'utf8'))).toHaveLength(20);
  });

  it('an interrupt from a timer or signal handler lands even when every stage is CPU-only', async () => {
    const quick = defineStage({
      id: 'answer.quick', version: '1', description: 'no I/O, no timers', inputs: { sample: { kind: 'sample' } }, output: 'answer',
      params: z.strictObject({}), cache: false,
      async run({ sample }) {
        let h = 0;
        for (let i = 0; i < 2000; i++) h = (h * 31 + i) | 0;
        return { answer: `${sample.questionId}:${h}` };
      },
    });
    const pipeline = compilePipeline({ name: 'q', file: 'q.yaml', output: 'answer', config: {}, origin: {}, files: [], nodes: { answer: { use: 'answer.quick' } } }, new StageRegistry([quick]));
    const many: Sample[] = Array.from({ length: 20000 }, (_, i) => ({ dataset: 'okvqa', questionId: String(i), imageId: i, question: 'q' }));
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 20); // a macrotask, like a SIGINT handler
    const out = mkdtempSync(join(tmpdir(), 'okvqa-batch-'));
    const s = await runBatch({ pipeline, samples: many, ctx: testContext({ signal: abort.signal }), outDir: out, concurrency: 1 });
    expect(s.interrupted).toBe(true);
    expect(s.ran).toBeLessThan(20000);
  });

  it('resume refuses a folder holding a different run', async () => {
    const out = mkdtempSync(join(tmpdir(), 'okvqa-batch-'));
    const { pipeline } = setup();
    await runBatch({ pipeline, samples: samples.slice(0, 3), ctx: testContext(), outDir: out });
    await expect(runBatch({ pipeline, samples: samples.slice(0, 4), ctx: testContext(), outDir: out, resume: true })).rejects.toThrow(/different pipeline, config or question set/);
  });

  it('writes metrics when answers are known', async () => {
    const out = mkdtempSync(join(tmpdir(), 'okvqa-batch-'));
    const fixture = join(import.meta.dirname, '../fixtures/okvqa-mini');
    const { loadDataFile, loadSamples } = await import('../../src/data/data-file.js');
    const data = loadDataFile(join(fixture, 'data.json'));
    const real = loadSamples(data).slice(0, 5);
    const { pipeline } = setup();
    const s = await runBatch({ pipeline, samples: real, ctx: testContext({ data, cache: new Cache(':memory:') }), outDir: out });
    expect(s.metrics?.dataset).toBe('okvqa');
    expect(s.metrics?.n).toBe(5);
    expect(existsSync(join(out, 'metrics.json'))).toBe(true);
  });
});
