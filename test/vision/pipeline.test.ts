import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createAnswerer } from '../../src/answerer.js';
import type { Region } from '../../src/core/artifacts.js';
import { defineStage } from '../../src/core/stage.js';
import { createRegistry } from '../../src/stages/index.js';
import { COFFEE } from './helpers.js';

const yaml = `
description: every vision stage on one question
nodes:
  windows:  { use: regions.windows, params: { windows: [{ size: 0.5, stride: 0.5 }], embed: true } }
  objects:  { use: regions.centernet, params: { includeWhole: true } }
  owl:      { use: regions.detector, params: { classes: [cup, table], threshold: 0.05, maxRegions: 3 } }
  captions: { use: caption.model, params: { maxNewTokens: 6 } }
  image:    { use: embed.clip }
  tags:     { use: tags.clip, inputs: { regions: objects }, params: { topP: 2 } }
  candidates: { use: candidates.test-from-tags, inputs: { tags: tags, windows: windows, owl: owl, captions: captions, image: image } }
  answer:   { use: answer.top }
`;

// test-only stage so the pipeline ends in an answer: candidates are the tags
const fromTags = defineStage({
  id: 'candidates.test-from-tags',
  version: '1',
  description: 'test: tags as answer candidates',
  inputs: {
    tags: { kind: 'tags' },
    windows: { kind: 'regions', optional: true },
    owl: { kind: 'regions', optional: true },
    captions: { kind: 'captions', optional: true },
    image: { kind: 'embedding', optional: true },
  },
  output: 'candidates',
  params: z.object({}),
  async run({ tags }) {
    return tags.map((t) => ({ answer: t.label, score: t.conf }));
  },
});

describe('vision stages inside a pipeline, tiny profile, offline', () => {
  it('runs them all, caches node outputs, and records traces', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'okvqa-vpipe-'));
    const file = join(dir, 'vision.yaml');
    writeFileSync(file, yaml);
    const answerer = createAnswerer({ pipeline: file, registry: createRegistry([fromTags]), profile: 'tiny', config: { models: { offline: true }, cache: { path: join(dir, 'cache.sqlite') } } });
    try {
      const sample = { dataset: 'okvqa' as const, questionId: 'v1', imageId: 1, question: 'What is in the cup?', imagePath: COFFEE };
      const r = await answerer.answer(sample);
      expect(r.error).toBeUndefined();
      expect(r.ok).toBe(true);
      const objects = r.nodes.objects!.output as Region[];
      expect(objects.some((o) => o.label === 'cup')).toBe(true);
      expect((r.nodes.windows!.output as Region[])).toHaveLength(7);
      expect(r.nodes.owl!.output as Region[]).not.toHaveLength(0);
      expect((r.nodes.captions!.output as { text: string }[])[0]!.text).not.toBe('');
      expect(r.nodes.image!.output as number[]).toHaveLength(16);
      const tags = r.nodes.tags!.output as { region?: number }[];
      expect(tags).toHaveLength(objects.length * 2);
      const again = await answerer.answer(sample);
      expect(Object.entries(again.nodes).filter(([k]) => k !== 'answer').every(([, n]) => n.cached)).toBe(true);
      expect(again.nodes.tags!.output).toEqual(r.nodes.tags!.output);
      expect(r.prediction?.answer).toBe(again.prediction?.answer);
    } finally {
      await answerer.close();
    }
  });
});
