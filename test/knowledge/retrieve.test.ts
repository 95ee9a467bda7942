import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Region, Sample } from '../../src/core/artifacts.js';
import { Cache } from '../../src/core/cache.js';
import { resolveConfig } from '../../src/core/config.js';
import { silentLogger, type StageContext } from '../../src/core/context.js';
import { packagePaths } from '../../src/core/paths.js';
import { Resources } from '../../src/core/resources.js';
import { embedKb } from '../../src/knowledge/embed.js';
import { KnowledgeStore } from '../../src/knowledge/store.js';
import { buildWordnet } from '../../src/knowledge/wordnet.js';
import { knowledgeStages } from '../../src/stages/knowledge.js';
import { retrieveEntities } from '../../src/stages/retrieve/entities.js';
import { mergeRegionHits, type RegionHits } from '../../src/stages/retrieve/merge.js';

const dir = mkdtempSync(join(tmpdir(), 'okvqa-retrieve-'));
const kbPath = join(dir, 'kb.sqlite');
const paths = packagePaths();
const COFFEE = join(paths.root, 'test', 'fixtures', 'images', 'coffee.png');

function hit(id: string, score: number) {
  return { id, label: `L${id}`, description: `D${id}`, source: 'wikidata', score };
}

function ctxFor(kb: string, notes: Record<string, unknown> = {}): StageContext {
  return {
    config: resolveConfig({ overrides: { models: { profile: 'tiny' }, knowledge: { kb } } }),
    data: {},
    resources: new Resources(),
    cache: new Cache(':memory:'),
    paths,
    log: silentLogger,
    signal: new AbortController().signal,
    questionId: 'q1',
    node: 'entities',
    note: (k, v) => {
      notes[k] = v;
    },
    usage: () => {},
  };
}

const sample: Sample = { dataset: 'okvqa', questionId: 'q1', imageId: 1, question: 'What is this?', imagePath: COFFEE };

beforeAll(async () => {
  buildWordnet({ out: kbPath, pos: ['noun'], limit: 120 });
  const store = KnowledgeStore.open(kbPath);
  const ctx = ctxFor(kbPath);
  await embedKb(store, ctx); // tiny CLIP text tower
  store.close();
  await ctx.resources.disposeAll();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('merging per-region hits', () => {
  const perRegion: RegionHits[] = [
    { region: 0, hits: [hit('A', 0.9), hit('B', 0.5), hit('C', 0.4)] },
    { region: 1, hits: [hit('B', 0.8), hit('D', 0.7), hit('B', 0.6)] },
  ];

  it('max (KAT): each entity once with its best score and the region that found it, best first, capped', () => {
    const p = mergeRegionHits(perRegion, 'max', 10);
    expect(p.map((x) => [x.id, x.score, x.region])).toEqual([
      ['A', 0.9, 0],
      ['B', 0.8, 1],
      ['D', 0.7, 1],
      ['C', 0.4, 0],
    ]);
    expect(p[0]).toEqual({ text: 'entity: LA description: DA', score: 0.9, source: 'wikidata', id: 'A', region: 0 });
    expect(mergeRegionHits(perRegion, 'max', 2).map((x) => x.id)).toEqual(['A', 'B']);
  });

  it('region (REVIVE): entities kept per region (deduplicated within it), lowest scores dropped at the cap', () => {
    const p = mergeRegionHits(perRegion, 'region', 10);
    expect(p.map((x) => [x.region, x.id, x.score])).toEqual([
      [0, 'A', 0.9],
      [0, 'B', 0.5],
      [0, 'C', 0.4],
      [1, 'B', 0.8],
      [1, 'D', 0.7],
    ]);
    expect(mergeRegionHits(perRegion, 'region', 3).map((x) => `${x.region}${x.id}`)).toEqual(['0A', '1B', '1D']);
  });

  it('ties break by id; empty input gives no passages', () => {
    const p = mergeRegionHits([{ region: 0, hits: [hit('Z', 0.5), hit('Y', 0.5)] }], 'max', 5);
    expect(p.map((x) => x.id)).toEqual(['Y', 'Z']);
    expect(mergeRegionHits([], 'max', 5)).toEqual([]);
  });
});

describe('retrieve.entities stage', () => {
  it('is registered', () => {
    expect(knowledgeStages.map((s) => s.id)).toContain('retrieve.entities');
  });

  it('uses region embeddings when present: top-k per region, max-merged, passages name the entity', async () => {
    const store = KnowledgeStore.open(kbPath, { readonly: true });
    const m = store.loadMatrix('okvqa-tiny/clip');
    const dim = m.dim;
    // Region 0 is exactly entity row 3's vector, region 1 exactly row 7's.
    const vec = (row: number) => Array.from(m.data.subarray(row * dim, (row + 1) * dim));
    const [e3, e7] = store.byRowids([m.rowids[3]!, m.rowids[7]!]);
    store.close();
    const box = { xmin: 0, ymin: 0, xmax: 10, ymax: 10 };
    const regions: Region[] = [
      { id: 0, box, source: 'window', embedding: vec(3), embeddingModel: 'okvqa-tiny/clip' },
      { id: 1, box, source: 'window', embedding: vec(7), embeddingModel: 'okvqa-tiny/clip' },
    ];
    const notes: Record<string, unknown> = {};
    const ctx = ctxFor(kbPath, notes);
    const params = retrieveEntities.params.parse({ k: 3, limit: 5 });
    const out = await retrieveEntities.run({ sample: { ...sample, imagePath: undefined } as Sample, regions }, params, ctx);
    expect(out.length).toBeLessThanOrEqual(5);
    expect(new Set(out.map((p) => p.id)).size).toBe(out.length);
    const top3 = out.find((p) => p.id === e3!.id)!;
    expect(top3).toMatchObject({ region: 0, source: 'wordnet', text: `entity: ${e3!.label} description: ${e3!.description}` });
    expect(top3.score).toBeCloseTo(1, 4);
    expect(out.find((p) => p.id === e7!.id)).toMatchObject({ region: 1 });
    expect(out.map((p) => p.score)).toEqual([...out.map((p) => p.score)].sort((a, b) => b - a));
    expect(notes.entities).toBe(out.length);

    const perRegion = await retrieveEntities.run(
      { sample, regions },
      retrieveEntities.params.parse({ k: 3, merge: 'region' }),
      ctx,
    );
    expect(perRegion).toHaveLength(6);
    expect(perRegion.map((p) => p.region)).toEqual([0, 0, 0, 1, 1, 1]);
    await ctx.resources.disposeAll();
  });

  it('regions joined from two nodes (repeated ids): each keeps its own embedding and position', async () => {
    const store = KnowledgeStore.open(kbPath, { readonly: true });
    const m = store.loadMatrix('okvqa-tiny/clip');
    const vec = (row: number) => Array.from(m.data.subarray(row * m.dim, (row + 1) * m.dim));
    const [e5] = store.byRowids([m.rowids[5]!]);
    store.close();
    const regions: Region[] = [
      { id: 0, box: { xmin: 0, ymin: 0, xmax: 600, ymax: 400 }, source: 'detector' }, // no embedding: computed
      { id: 0, box: { xmin: 0, ymin: 0, xmax: 10, ymax: 10 }, source: 'window', embedding: vec(5), embeddingModel: 'okvqa-tiny/clip' },
    ];
    const notes: Record<string, unknown> = {};
    const ctx = ctxFor(kbPath, notes);
    const out = await retrieveEntities.run({ sample, regions }, retrieveEntities.params.parse({ k: 2, merge: 'region' }), ctx);
    expect(notes.embeddedRegions).toBe(1);
    expect(out.map((p) => p.region)).toEqual([0, 0, 1, 1]);
    const second = out.filter((p) => p.region === 1);
    expect(second[0]).toMatchObject({ id: e5!.id });
    expect(second[0]!.score).toBeCloseTo(1, 4);
    await ctx.resources.disposeAll();
  });

  it('embeds regions without embeddings from the sample image (tiny CLIP)', async () => {
    const notes: Record<string, unknown> = {};
    const ctx = ctxFor(kbPath, notes);
    const regions: Region[] = [
      { id: 0, box: { xmin: 0, ymin: 0, xmax: 600, ymax: 400 }, source: 'image' },
      { id: 1, box: { xmin: 100, ymin: 100, xmax: 300, ymax: 300 }, source: 'window' },
    ];
    const out = await retrieveEntities.run({ sample, regions }, retrieveEntities.params.parse({ k: 4, merge: 'region' }), ctx);
    expect(notes.embeddedRegions).toBe(2);
    expect(out).toHaveLength(8);
    for (const p of out) expect(p.text).toMatch(/^entity: .+ description: .+/);
    await ctx.resources.disposeAll();
  });

  it('names the missing knowledge base', async () => {
    const ctx = ctxFor(kbPath);
    ctx.config = resolveConfig({ overrides: { models: { profile: 'tiny' } } });
    await expect(
      retrieveEntities.run(
        { sample, regions: [{ id: 0, box: { xmin: 0, ymin: 0, xmax: 1, ymax: 1 }, source: 'image', embedding: [1] }] },
        retrieveEntities.params.parse({}),
        ctx,
      ),
    ).rejects.toThrow(/no knowledge base/);
  });
});
