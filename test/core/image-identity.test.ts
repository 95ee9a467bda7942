import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Sample } from '../../src/core/artifacts.js';
import { Cache } from '../../src/core/cache.js';
import { compilePipeline, type CompiledPipeline } from '../../src/core/graph.js';
import type { PipelineSpec } from '../../src/core/pipeline-spec.js';
import { StageRegistry } from '../../src/core/registry.js';
import { PipelineExecutor } from '../../src/core/runner.js';
import { defineStage } from '../../src/core/stage.js';
import { regionsWindows } from '../../src/stages/regions/windows.js';
import { testContext } from '../helpers/context.js';
import { ASTRONAUT, COFFEE } from '../vision/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'okvqa-image-identity-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Two folders holding different files under the same COCO file name (another copy of the dataset, a re-encoded image)
// and a third holding a byte-identical copy of the first.
const A = join(tmp, 'a.png');
const B = join(tmp, 'b.png');
const A2 = join(tmp, 'a-copy.png');
copyFileSync(COFFEE, A);
copyFileSync(ASTRONAUT, B);
copyFileSync(COFFEE, A2);

const answerCount = defineStage({
  id: 'answer.count',
  version: '1',
  description: 'the number of regions and the first box, as the answer',
  inputs: { regions: { kind: 'regions' } },
  output: 'answer',
  params: z.strictObject({}),
  cache: false,
  async run({ regions }) {
    return { answer: `${regions.length} ${JSON.stringify(regions[0]?.box)}` };
  },
});
const seen: string[] = [];
const textOnly = defineStage({
  id: 'regions.text-only',
  version: '1',
  description: 'reads the question, never the pixels',
  inputs: { sample: { kind: 'sample' } },
  output: 'regions',
  params: z.strictObject({}),
  async run({ sample }) {
    seen.push(sample.imagePath ?? '');
    return [{ id: 0, box: { xmin: 0, ymin: 0, xmax: 1, ymax: 1 }, source: 'image' as const }];
  },
});
const registry = new StageRegistry([regionsWindows, answerCount, textOnly]);

function pipeline(regions: { use: string; params?: Record<string, unknown> }): CompiledPipeline {
  const spec: PipelineSpec = {
    name: 't', file: 't.yaml', output: 'answer', config: {}, origin: {}, files: ['t.yaml'],
    nodes: { windows: regions, answer: { use: 'answer.count', inputs: { regions: 'windows' } } },
  };
  return compilePipeline(spec, registry);
}
const sample = (imagePath: string): Sample => ({ dataset: 'okvqa', questionId: 'q1', imageId: 42, question: 'what is it?', imagePath });

describe("an image's cache identity is its content and decode mode, not only its COCO id", () => {
  it('another file under the same COCO id is computed again; a byte-identical copy elsewhere hits', async () => {
    const cache = new Cache(':memory:', 'rw');
    const run = (p: CompiledPipeline, s: Sample) => new PipelineExecutor(p, testContext({ cache })).run(s);
    const kat = pipeline({ use: 'regions.windows', params: { mode: 'kat' } });
    const a = await run(kat, sample(A));
    expect(a.nodes.windows!.cached).toBe(false);
    const b = await run(kat, sample(B));
    expect(b.nodes.windows!.cached).toBe(false); // same id 42, other pixels: not A's windows
    expect(b.prediction!.answer).not.toBe(a.prediction!.answer);
    const a2 = await run(kat, sample(A2));
    expect(a2.nodes.windows!.cached).toBe(true); // same bytes at another path: the cache stays portable
    expect(a2.prediction).toEqual(a.prediction);
    // a file that cannot be read under the same id never takes A's cached windows: the stage runs and fails there
    const gone = await run(kat, sample(join(tmp, 'missing.png')));
    expect(gone.ok).toBe(false);
    expect(gone.nodes.windows!.cached).toBe(false);
    // the decode mode is part of the identity too
    const pil = await run(pipeline({ use: 'regions.windows', params: { mode: 'kat', decode: 'pil' } }), sample(A));
    expect(pil.nodes.windows!.cached).toBe(false);
  });

  it('one executor (a long-lived answerer): a file replaced under the same path is read and decoded again', async () => {
    const cache = new Cache(':memory:', 'rw');
    const path = join(tmp, 'replaced.png');
    copyFileSync(COFFEE, path);
    const executor = new PipelineExecutor(pipeline({ use: 'regions.windows', params: { mode: 'kat' } }), testContext({ cache }));
    const first = await executor.run(sample(path));
    copyFileSync(ASTRONAUT, path);
    const second = await executor.run(sample(path));
    expect(second.nodes.windows!.cached).toBe(false);
    expect(second.prediction!.answer).not.toBe(first.prediction!.answer);
    expect((await executor.run(sample(path))).nodes.windows!.cached).toBe(true);
  });

  it('a stage that never reads the pixels keeps the COCO id as the identity (no file read, caches portable)', async () => {
    const cache = new Cache(':memory:', 'rw');
    const run = (s: Sample) => new PipelineExecutor(pipeline({ use: 'regions.text-only' }), testContext({ cache })).run(s);
    await run(sample(A));
    expect((await run(sample(B))).nodes.windows!.cached).toBe(true);
    expect(seen).toEqual([A]);
  });
});
