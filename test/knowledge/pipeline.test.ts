import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createAnswerer } from '../../src/answerer.js';
import type { Passage } from '../../src/core/artifacts.js';
import { packagePaths } from '../../src/core/paths.js';
import { defineStage } from '../../src/core/stage.js';
import { kbEmbed } from '../../src/knowledge/kb-file.js';
import { resolveConfig } from '../../src/core/config.js';
import { buildWordnet } from '../../src/knowledge/wordnet.js';
import { createRegistry } from '../../src/stages/index.js';

const dir = mkdtempSync(join(tmpdir(), 'okvqa-kbpipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const COFFEE = join(packagePaths().root, 'test', 'fixtures', 'images', 'coffee.png');

const yaml = `
description: KAT-style and REVIVE-style entity retrieval on one question (tiny models, WordNet KB)
nodes:
  windows:  { use: regions.windows, params: { windows: [{ size: 0.5, stride: 0.5 }], embed: true } }
  objects:  { use: regions.centernet, params: { includeWhole: true } }
  kat:      { use: retrieve.entities, inputs: { regions: windows }, params: { k: 5, limit: 8 } }
  revive:   { use: retrieve.entities, inputs: { regions: objects }, params: { k: 3, merge: region, limit: 30 } }
  candidates: { use: candidates.test-from-passages, inputs: { kat: kat, revive: revive } }
  answer:   { use: answer.top }
`;

// test-only: the best passage's entity label as the answer
const fromPassages = defineStage({
  id: 'candidates.test-from-passages',
  version: '1',
  description: 'test: passage labels as answer candidates',
  inputs: { kat: { kind: 'passages' }, revive: { kind: 'passages' } },
  output: 'candidates',
  params: z.object({}),
  async run({ kat }) {
    return kat.map((p) => ({ answer: p.text.replace(/^entity: (.*?) description: .*$/, '$1'), score: p.score }));
  },
});

describe('retrieve.entities inside a pipeline (tiny profile, offline, WordNet KB)', () => {
  it('retrieves KAT (max-merged) and REVIVE (per region) passages for an image', async () => {
    const kb = join(dir, 'wn.sqlite');
    buildWordnet({ out: kb, pos: ['noun'], limit: 150 });
    const embedded = await kbEmbed(kb, resolveConfig({ overrides: { models: { profile: 'tiny' }, cache: { mode: 'off' } } }));
    expect(embedded.embedded).toBe(150);
    const file = join(dir, 'kb.yaml');
    writeFileSync(file, yaml);
    const answerer = createAnswerer({
      pipeline: file,
      registry: createRegistry([fromPassages]),
      profile: 'tiny',
      config: { models: { offline: true }, knowledge: { kb }, cache: { path: join(dir, 'cache.sqlite') } },
    });
    try {
      const sample = { dataset: 'okvqa' as const, questionId: 'k1', imageId: 1, question: 'What is in the cup?', imagePath: COFFEE };
      const r = await answerer.answer(sample);
      expect(r.error).toBeUndefined();
      const kat = r.nodes.kat!.output as Passage[];
      expect(kat).toHaveLength(8);
      expect(new Set(kat.map((p) => p.id)).size).toBe(8);
      expect(kat.map((p) => p.score)).toEqual([...kat.map((p) => p.score)].sort((a, b) => b - a));
      for (const p of kat) {
        expect(p.text).toMatch(/^entity: .+ description: .+/);
        expect(p.source).toBe('wordnet');
        expect(p.region).toBeGreaterThanOrEqual(0);
      }
      const revive = r.nodes.revive!.output as Passage[];
      const regions = new Set(revive.map((p) => p.region));
      expect(revive.length).toBe(3 * regions.size);
      expect(r.ok).toBe(true);
      expect(r.prediction?.answer).toBe(kat[0]!.text.replace(/^entity: (.*?) description: .*$/, "$1"));
    } finally {
      await answerer.close();
    }
  });
});
