/**
 * The vision-language stages read the image's pixels (they send them): their node cache key must carry the image's
 * content, as the vision stages' do (test/core/image-identity.test.ts). Another file under the same COCO id is another
 * image: asked again, never answered from the first file's cached node output.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../src/core/artifacts.js';
import { Cache } from '../../src/core/cache.js';
import { compilePipeline } from '../../src/core/graph.js';
import type { PipelineSpec } from '../../src/core/pipeline-spec.js';
import { StageRegistry } from '../../src/core/registry.js';
import { PipelineExecutor } from '../../src/core/runner.js';
import { candidatesVlm } from '../../src/stages/candidates/vlm.js';
import { captionVlm } from '../../src/stages/caption/vlm.js';
import { readerVlm } from '../../src/stages/reader/vlm.js';
import { testContext } from '../helpers/context.js';
import { ROOT } from './helpers.js';
import { completionReply, TestLlmServer } from './server.js';

const tmp = mkdtempSync(join(tmpdir(), 'okvqa-vlm-identity-'));
const A = join(tmp, 'a.png');
const B = join(tmp, 'b.png');
copyFileSync(join(ROOT, 'test/fixtures/images/coffee.png'), A);
copyFileSync(join(ROOT, 'test/fixtures/images/astronaut.png'), B);
let server: TestLlmServer;
beforeAll(async () => {
  server = await new TestLlmServer().start();
  server.handler = (body) => completionReply(body, { text: 'a cup (0.9)' });
});
afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const registry = new StageRegistry([readerVlm, captionVlm, candidatesVlm]);
const sample = (imagePath: string): Sample => ({ dataset: 'okvqa', questionId: 'q1', imageId: 42, question: 'what is it?', imagePath });

describe('VLM stages: the image content is part of the node cache key', () => {
  for (const [use, input] of [
    ['reader.vlm', undefined],
    ['caption.vlm', 'captions'],
    ['candidates.vlm', 'candidates'],
  ] as const) {
    it(`${use}: another file under the same COCO id is sent again`, async () => {
      // the node under test, read by a reader.vlm output node when it is not the reader itself
      const nodes: PipelineSpec['nodes'] = input ? { n: { use }, out: { use: 'reader.vlm', inputs: { [input]: 'n' } } } : { n: { use } };
      const spec: PipelineSpec = { name: 't', file: 't.yaml', output: input ? 'out' : 'n', config: {}, origin: {}, files: ['t.yaml'], nodes };
      const pipeline = compilePipeline(spec, registry);
      const cache = new Cache(':memory:', 'rw');
      const ctx = () => testContext({ cache, config: { llm: { baseURL: server.baseURL, apiKey: 'test' }, vlm: { model: 'test-vlm', probe: false } } });
      const a = await new PipelineExecutor(pipeline, ctx()).run(sample(A));
      expect(a.error).toBeUndefined();
      expect(a.nodes.n!.cached).toBe(false);
      const sent = server.completionCalls.length;
      const b = await new PipelineExecutor(pipeline, ctx()).run(sample(B));
      expect(b.error).toBeUndefined();
      expect(b.nodes.n!.cached).toBe(false);
      expect(server.completionCalls.length).toBeGreaterThan(sent);
      // the same bytes again: answered from the cache
      expect((await new PipelineExecutor(pipeline, ctx()).run(sample(A))).nodes.n!.cached).toBe(true);
    });
  }
});
