import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Cache } from '../../src/core/cache.js';
import { CacheMissError } from '../../src/core/errors.js';
import { compilePipeline, type CompiledPipeline } from '../../src/core/graph.js';
import type { PipelineSpec } from '../../src/core/pipeline-spec.js';
import { StageRegistry } from '../../src/core/registry.js';
import { PipelineExecutor } from '../../src/core/runner.js';
import { defineStage } from '../../src/core/stage.js';
import type { Sample } from '../../src/core/artifacts.js';
import { testContext } from '../helpers/context.js';

function counting() {
  const calls: string[] = [];
  let template = 'Q: {q}\nA:';
  const prompt = defineStage({
    id: 'prompt.count',
    version: '1',
    description: 'counts runs; the template text is part of its fingerprint',
    inputs: { sample: { kind: 'sample' } },
    output: 'candidates',
    params: z.strictObject({ temperature: z.number().default(0) }),
    fingerprint: () => template,
    async run({ sample }) {
      calls.push(sample.questionId);
      return [{ answer: template.replace('{q}', sample.question), score: 1 }];
    },
  });
  const answer = defineStage({
    id: 'answer.first',
    version: '1',
    description: 'first candidate',
    inputs: { candidates: { kind: 'candidates' } },
    output: 'answer',
    params: z.strictObject({}),
    cache: false,
    async run({ candidates }) {
      return { answer: candidates[0]!.answer };
    },
  });
  return { calls, registry: new StageRegistry([prompt, answer]), setTemplate: (t: string) => (template = t), prompt };
}

function pipelineFor(registry: StageRegistry, params: Record<string, unknown> = {}): CompiledPipeline {
  const spec: PipelineSpec = {
    name: 't', file: 't.yaml', output: 'answer', config: {}, origin: {}, files: ['t.yaml'],
    nodes: { candidates: { use: 'prompt.count', params }, answer: { use: 'answer.first' } },
  };
  return compilePipeline(spec, registry);
}

const sample = (id: string, question = 'what is it?'): Sample => ({ dataset: 'okvqa', questionId: id, imageId: 1, question });

describe('content-addressed cache', () => {
  it('identical work hits; any param, template or input change misses', async () => {
    const { calls, registry, setTemplate } = counting();
    const cache = new Cache(':memory:', 'rw');
    const run = (p: CompiledPipeline, s: Sample) => new PipelineExecutor(p, testContext({ cache })).run(s);
    const base = pipelineFor(registry);
    const r1 = await run(base, sample('1'));
    expect(r1.nodes.candidates!.cached).toBe(false);
    const r2 = await run(base, sample('1'));
    expect(r2.nodes.candidates!.cached).toBe(true);
    expect(r2.prediction).toEqual(r1.prediction);
    expect(calls).toEqual(['1']);
    // the question id is part of the sample input: another question with the same text is another input
    await run(base, sample('2'));
    await run(base, sample('1', 'what is that?'));
    await run(pipelineFor(registry, { temperature: 0.5 }), sample('1'));
    setTemplate('Question: {q}\nAnswer:');
    await run(pipelineFor(registry), sample('1'));
    expect(calls).toEqual(['1', '2', '1', '1', '1']);
    // ground truth is not part of the input: adding answers does not change the key
    await run(pipelineFor(registry), { ...sample('1'), answers: ['x'] });
    expect(calls.length).toBe(5);
  });

  it('a version bump misses', async () => {
    const { calls, registry, prompt } = counting();
    const cache = new Cache(':memory:', 'rw');
    await new PipelineExecutor(pipelineFor(registry), testContext({ cache })).run(sample('1'));
    const bumped = new StageRegistry([{ ...prompt, version: '2' }, registry.get('answer.first')!]);
    await new PipelineExecutor(pipelineFor(bumped), testContext({ cache })).run(sample('1'));
    expect(calls).toEqual(['1', '1']);
  });

  it('modes: ro reads but never writes, off never reads, replay fails on a miss', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'okvqa-cache-')), 'c.sqlite');
    const rw = new Cache(path, 'rw');
    await rw.getOrCompute('k1', 'test', async () => 1);
    rw.close();
    const ro = new Cache(path, 'ro');
    expect((await ro.getOrCompute('k1', 'test', async () => 2)).value).toBe(1);
    expect((await ro.getOrCompute('k2', 'test', async () => 3)).hit).toBe(false);
    expect(ro.get('k2')).toBeUndefined();
    ro.close();
    const off = new Cache(path, 'off');
    expect(await off.getOrCompute('k1', 'test', async () => 4)).toEqual({ value: 4, hit: false });
    const replay = new Cache(path, 'replay');
    expect((await replay.getOrCompute('k1', 'test', async () => 5)).value).toBe(1);
    await expect(replay.getOrCompute('k9', 'stage x', async () => 6)).rejects.toBeInstanceOf(CacheMissError);
    replay.close();
  });

  it('concurrent identical work is computed once', async () => {
    const cache = new Cache(':memory:', 'rw');
    let n = 0;
    const work = async () => {
      n++;
      await new Promise((r) => setTimeout(r, 20));
      return 'v';
    };
    const rs = await Promise.all(Array.from({ length: 5 }, () => cache.getOrCompute('same', 'x', work)));
    expect(n).toBe(1);
    expect(rs.map((r) => r.value)).toEqual(['v', 'v', 'v', 'v', 'v']);
  });
});
