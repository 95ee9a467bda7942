import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/core/config.js';
import { packagePaths } from '../../src/core/paths.js';
import { kbEmbed } from '../../src/knowledge/kb-file.js';
import { KnowledgeStore } from '../../src/knowledge/store.js';
import { buildWikidata } from '../../src/knowledge/wikidata.js';
import { loadDataFile, loadSamples } from '../../src/data/data-file.js';

const root = packagePaths().root;
const FIXTURE = join(root, 'assets', 'demo');
const dir = mkdtempSync(join(tmpdir(), 'okvqa-revive-kb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function snapshot(path: string) {
  const s = KnowledgeStore.open(path, { readonly: true });
  try {
    const m = s.loadMatrix('okvqa-tiny/clip');
    const ids = [...m.rowids].map((r) => s.byRowids([r])[0]!).map((e) => `${e.id} ${e.text}`);
    return { ids, dim: m.dim, data: m.data };
  } finally {
    s.close();
  }
}

describe('REVIVE fixture', () => {
  it('data.json resolves: 3 questions on the 2 linked photos, answers, captions, KB and example pool', () => {
    const data = loadDataFile(join(FIXTURE, 'data.json'));
    const samples = loadSamples(data);
    expect(samples.map((s) => [s.questionId, s.imageId, s.answers?.length])).toEqual([['10', 1, 10], ['11', 1, 10], ['20', 2, 10]]);
    for (const s of samples) expect(s.imagePath).toMatch(/COCO_val2014_00000000000[12]\.png$/);
    expect(loadSamples({ questions: data.examples!.questions, annotations: data.examples!.annotations! })).toHaveLength(100);
  });

  it('its KB (assets/demo/kb.sqlite) is what make-kb.sh builds with the current tiny CLIP (not stale)', async () => {
    const kb = join(dir, 'kb.sqlite');
    await buildWikidata({ dump: join(root, 'test', 'fixtures', 'wikidata', 'sample-entities.json'), out: kb, categories: 'all' });
    const r = await kbEmbed(kb, resolveConfig({ overrides: { models: { profile: 'tiny', offline: true }, cache: { mode: 'off' } }, env: {} }));
    expect(r.embedded).toBe(49);
    const fresh = snapshot(kb);
    expect(loadDataFile(join(FIXTURE, 'data.json')).knowledge).toBe(join(root, 'assets', 'demo', 'kb.sqlite'));
    const committed = snapshot(join(root, 'assets', 'demo', 'kb.sqlite'));
    expect(committed.ids).toEqual(fresh.ids);
    expect(committed.dim).toBe(fresh.dim);
    let maxDiff = 0;
    for (let i = 0; i < fresh.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fresh.data[i]! - committed.data[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
  });
});
