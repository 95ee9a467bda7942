import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { createAnswerer, loadPipeline } from '../../src/answerer.js';
import { resolveConfig, type ConfigInput } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/context.js';
import { packagePaths } from '../../src/core/paths.js';
import { formatProblem, preflight } from '../../src/core/preflight.js';
import { Resources } from '../../src/core/resources.js';
import { defineStage } from '../../src/core/stage.js';
import { loadDataFile, loadSamples } from '../../src/data/data-file.js';
import type { DataSources } from '../../src/data/sources.js';
import { KnowledgeStore } from '../../src/knowledge/store.js';
import { createRegistry } from '../../src/stages/index.js';
import { repoRoot } from '../helpers/cli.js';

const mini = loadDataFile(join(repoRoot, 'test/fixtures/okvqa-mini/data.json'));
const samples = loadSamples(mini);
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-preflight-'));
const captionsOfPool = join(tmp, 'train_captions.json');
writeFileSync(captionsOfPool, JSON.stringify({ '1': ['a caption'] }));

function check(pipelineRef: string, data: DataSources, config: ConfigInput = {}, registry = createRegistry()) {
  const pipeline = loadPipeline(pipelineRef, { registry });
  return preflight(pipeline, {
    config: resolveConfig({ overrides: config, env: {} }),
    data,
    samples: loadSamples(data),
    resources: new Resources(),
    paths: packagePaths(),
    log: silentLogger,
  });
}

const withPool = (d: DataSources): DataSources => ({ ...d, examples: { ...d.examples!, captions: captionsOfPool } });
const llm: ConfigInput = { llm: { baseURL: 'http://127.0.0.1:9/v1', model: 'm' } };

describe('pre-flight checks', () => {
  it('pica-base without a tags file: one error naming node, stage, key and the fix (the caption-only variant)', async () => {
    const { tags: _t, ...noTags } = withPool(mini);
    const r = await check('pica-base', noTags, llm);
    expect(r.errors).toHaveLength(1);
    const e = r.errors[0]!;
    expect(e.nodes).toEqual([{ node: 'tags', stage: 'tags.file' }]);
    expect(e.key).toBe('tags');
    expect(e.fix).toMatch(/name a tag file/);
    expect(e.fix).toMatch(/use pica-base-caption/);
    expect(formatProblem(e)).toMatch(/^error: node "tags" \(tags.file\): tags: no tags file is named/);
  });

  it('the library: createAnswerer(...).check(samples) runs the same checks', async () => {
    const { tags: _t, ...noTags } = withPool(mini);
    const qa = createAnswerer({ pipeline: 'pica-base', data: noTags, anyImage: false, config: { ...llm, cache: { mode: 'off' } } });
    try {
      const r = await qa.check(samples);
      expect(r.errors.map((e) => e.key)).toEqual(['tags']);
    } finally {
      await qa.close();
    }
  });

  it('partial coverage is a warning with the numbers', async () => {
    const r = await check('pica-base', withPool(mini), llm);
    expect(r.errors).toEqual([]);
    const w = r.warnings.find((x) => x.key === 'tags')!;
    const images = new Set(samples.map((s) => s.imageId)).size;
    expect(w.message).toMatch(new RegExp(`^3 of ${images} images have tags in .*vinvl_tags.tsv`));
  });

  it('a missing file, a missing example pool and an LLM model without a server are each reported', async () => {
    const r = await check('pica-base', { ...mini, captions: join(tmp, 'nope.tsv') }, { llm: { model: 'gpt-4o' } });
    const keys = r.errors.map((e) => `${e.nodes[0]!.node}:${e.key}`).sort();
    expect(keys).toEqual(['captions:captions', 'examples:examples.captions', 'prompts:llm.model']);
    expect(r.errors.find((e) => e.key === 'captions')!.message).toContain(join(tmp, 'nope.tsv'));
    expect(r.errors.find((e) => e.key === 'captions')!.fix).toContain('okvqa data fetch');
  });

  it('a question set with no images folder fails a pipeline that needs images', async () => {
    const registry = createRegistry();
    const file = join(tmp, 'windows.yaml');
    writeFileSync(file, 'nodes:\n  regions: { use: regions.windows }\n  tags: { use: tags.clip }\n  candidates: { use: candidates.prior }\n  answer: { use: answer.top }\n');
    const r = await check(file, mini, { models: { profile: 'tiny' } }, registry);
    const e = r.errors.find((x) => x.key === 'images')!;
    expect(e.nodes.map((n) => n.node).sort()).toEqual(['regions', 'tags']); // one problem, both nodes
    expect(e.fix).toMatch(/"images"/);
    const folder = await check(file, { ...mini, images: join(repoRoot, 'test/fixtures/images') }, { models: { profile: 'tiny' } }, registry);
    expect(folder.errors.find((x) => x.key === 'images')!.message).toMatch(/^0 of \d+ images of the questions are in/);
  });

  it('a knowledge base without vectors of the pipeline\'s CLIP model is refused before the run', async () => {
    const kb = join(tmp, 'kb.sqlite');
    const store = KnowledgeStore.open(kb);
    store.insertEntities([{ id: 'Q1', label: 'universe', description: 'everything', text: 'universe is everything', source: 'test' }]);
    store.close();
    const file = join(tmp, 'kat-like.yaml');
    writeFileSync(file, 'nodes:\n  regions: { use: regions.windows }\n  knowledge: { use: retrieve.entities }\n  answer: { use: reader.passages }\n');
    const reader = defineStage({
      id: 'reader.passages',
      version: '1',
      description: 'test',
      inputs: { passages: { kind: 'passages' } },
      output: 'answer',
      params: z.object({}),
      async run() {
        return { answer: '' };
      },
    });
    const r = await check(file, { ...mini, knowledge: kb }, { models: { profile: 'tiny' } }, createRegistry([reader]));
    const e = r.errors.find((x) => x.nodes[0]!.stage === 'retrieve.entities')!;
    expect(e.message).toMatch(/has no vectors of okvqa-tiny\/clip.*not embedded/);
    expect(e.fix).toMatch(/okvqa kb embed --kb .*kb.sqlite --model okvqa-tiny\/clip/);
  });

  it('stages added later plug in their own check; a check that throws is an error of its node', async () => {
    const registry = createRegistry([
      defineStage({
        id: 'reader.checked',
        version: '1',
        description: 'test',
        inputs: { candidates: { kind: 'candidates' } },
        output: 'answer',
        params: z.object({ file: z.string().default('x') }),
        check: (p, ctx) => [{ severity: 'warning', key: 'params.file', message: `${p.file} for ${ctx.samples.length} questions at ${ctx.node}` }],
        async run() {
          return { answer: '' };
        },
      }),
      defineStage({
        id: 'candidates.throws',
        version: '1',
        description: 'test',
        inputs: { sample: { kind: 'sample' } },
        output: 'candidates',
        params: z.object({}),
        check: () => {
          throw new Error('boom');
        },
        async run() {
          return [];
        },
      }),
    ]);
    const file = join(tmp, 'custom.yaml');
    writeFileSync(file, 'nodes:\n  candidates: { use: candidates.throws }\n  answer: { use: reader.checked }\n');
    const r = await check(file, mini, {}, registry);
    expect(r.warnings.map(formatProblem)).toEqual([`warning: node "answer" (reader.checked): params.file: x for ${samples.length} questions at answer`]);
    expect(r.errors.map(formatProblem)).toEqual(['error: node "candidates" (candidates.throws): (check): the check itself failed: boom']);
    expect(r.checked).toEqual(['candidates', 'answer']);
  });
});
