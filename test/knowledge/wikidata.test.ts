import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { packagePaths } from '../../src/core/paths.js';
import { loadCategories, parseCategories } from '../../src/knowledge/categories.js';
import { parseDumpLine } from '../../src/knowledge/dump.js';
import { KnowledgeStore } from '../../src/knowledge/store.js';
import { buildWikidata, subclassClosure } from '../../src/knowledge/wikidata.js';

const FIX = join(packagePaths().root, 'test', 'fixtures', 'wikidata');
const SAMPLE = join(FIX, 'sample-entities.json');
const MINI = join(FIX, 'mini-dump.json');
const KAT = loadCategories(join(packagePaths().knowledge, 'kat-categories.json'));
const dir = mkdtempSync(join(tmpdir(), 'okvqa-wd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const out = () => join(dir, `kb${n++}.sqlite`);

function ids(path: string): string[] {
  const s = KnowledgeStore.open(path, { readonly: true });
  try {
    return (s.db.prepare('SELECT id FROM entities ORDER BY id').all() as { id: string }[]).map((r) => r.id);
  } finally {
    s.close();
  }
}

describe('Wikidata dump → knowledge base', () => {
  it('KAT categories file names the eight classes', () => {
    expect(KAT.map((c) => c.name)).toEqual([
      'role', 'point of interest', 'tool', 'vehicle', 'animal', 'clothing', 'company', 'sport',
    ]);
    expect(KAT.map((c) => c.qid)).toEqual(['Q214339', 'Q960648', 'Q39546', 'Q42889', 'Q729', 'Q11460', 'Q783794', 'Q349']);
    expect(() => parseCategories(['dog'])).toThrow(/not a Wikidata item id/);
  });

  it('--categories all keeps every item of the sample with its English label and description', async () => {
    const kb = out();
    const r = await buildWikidata({ dump: SAMPLE, out: kb, categories: 'all' });
    expect(r).toMatchObject({ items: 49, kept: 49, inserted: 49, malformed: 0, done: true });
    const s = KnowledgeStore.open(kb, { readonly: true });
    const dog = s.get('Q144')!;
    expect(dog.text).toBe('dog is a domestic animal');
    expect(dog).toMatchObject({ label: 'dog', description: 'domestic animal', source: 'wikidata' });
    // Scotland has en, en-gb, en-ca… labels and dozens of other languages: only `en` is used.
    expect(s.get('Q22')!.text).toBe('Scotland is a country in North-West Europe, part of the United Kingdom');
    expect(s.textSearch('Schottland')).toEqual([]);
    s.close();
  });

  it('a category filter keeps exactly the instances and subclasses of the classes (sample: cities + alcoholic beverages)', async () => {
    const kb = out();
    const cats = parseCategories({ categories: [{ name: 'city', qid: 'Q515' }, { name: 'alcoholic beverage', qid: 'Q154' }] });
    const r = await buildWikidata({ dump: SAMPLE, out: kb, categories: cats });
    expect(r.kept).toBe(7);
    expect(ids(kb)).toEqual(['Q220', 'Q268', 'Q279', 'Q282', 'Q44', 'Q64', 'Q84']);
    const s = KnowledgeStore.open(kb, { readonly: true });
    expect(s.get('Q44')!.categories).toEqual(['alcoholic beverage']);
    expect(s.get('Q84')!.categories).toEqual(['city']);
    s.close();
  });

  it('follows P31/P279* chains, skips items without English terms, reports malformed lines by number', async () => {
    const kb = out();
    const bad: [number, string][] = [];
    const r = await buildWikidata({ dump: MINI, out: kb, categories: KAT, onMalformed: (l, m) => bad.push([l, m]) });
    expect(bad).toHaveLength(1);
    expect(bad[0]![0]).toBe(6);
    expect(bad[0]![1]).toMatch(/invalid JSON|not a JSON object/);
    expect(r).toMatchObject({ malformed: 1, noEnglish: 1, kept: 7 });
    // Q9006 reaches animal but has only en-gb/fr terms; Q9007 is a human (not a category); P31 is a property.
    expect(ids(kb)).toEqual(['Q42889', 'Q729', 'Q9001', 'Q9002', 'Q9003', 'Q9005', 'Q9008']);
    const s = KnowledgeStore.open(kb, { readonly: true });
    expect(s.get('Q9003')).toMatchObject({ text: 'Rex is a famous lap dog', categories: ['animal'] });
    expect(s.get('Q9008')!.categories).toEqual(['vehicle', 'animal']);
    s.close();
  });

  it('reads .json.gz and .json.bz2 dumps the same as plain JSON', async () => {
    const gz = join(dir, 'sample.json.gz');
    writeFileSync(gz, gzipSync(readFileSync(SAMPLE)));
    const a = out();
    await buildWikidata({ dump: gz, out: a, categories: 'all' });
    expect(ids(a)).toHaveLength(49);
    const hasBzip2 = !spawnSync('bzip2', ['--help'], { stdio: 'ignore' }).error;
    if (hasBzip2) {
      const bz = join(dir, 'sample.json');
      copyFileSync(SAMPLE, bz);
      expect(spawnSync('bzip2', ['-f', bz]).status).toBe(0);
      const b = out();
      await buildWikidata({ dump: `${bz}.bz2`, out: b, categories: 'all' });
      expect(ids(b)).toEqual(ids(a));
    }
  });

  it('resumes an interrupted build after the last committed line', async () => {
    const kb = out();
    const first = await buildWikidata({ dump: SAMPLE, out: kb, categories: 'all', maxLines: 20, batchSize: 7 });
    expect(first.done).toBe(false);
    expect(ids(kb)).toHaveLength(19); // line 1 is "["
    const second = await buildWikidata({ dump: SAMPLE, out: kb, categories: 'all', batchSize: 7 });
    expect(second.resumedAfter).toBe(20);
    expect(second).toMatchObject({ done: true, kept: 49, inserted: 49 });
    expect(ids(kb)).toHaveLength(49);
    // A finished build is not redone; another dump into the same file is refused.
    expect((await buildWikidata({ dump: SAMPLE, out: kb, categories: 'all' })).done).toBe(true);
    await expect(buildWikidata({ dump: MINI, out: kb, categories: 'all' })).rejects.toThrow(/other input/);
  });

  it('a truncated download fails naming the file, keeps what it read, and resumes once the file is complete', async () => {
    const full = gzipSync(readFileSync(SAMPLE));
    const gz = join(dir, 'partial.json.gz');
    writeFileSync(gz, full.subarray(0, Math.floor(full.length * 0.6)));
    const kb = out();
    await expect(buildWikidata({ dump: gz, out: kb, categories: 'all' })).rejects.toThrow(/partial\.json\.gz: line \d+: unexpected end of file/);
    const partial = ids(kb).length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(49);
    writeFileSync(gz, full);
    const r = await buildWikidata({ dump: gz, out: kb, categories: 'all' });
    expect(r.resumedAfter).toBe(partial + 1);
    expect(ids(kb)).toHaveLength(49);
  });

  it('subclass closure: bit masks per category, cycles terminate', () => {
    const child = Int32Array.from([2, 3, 4, 5, 1]);
    const parent = Int32Array.from([1, 2, 2, 10, 3]); // 1→3→2→1 is a cycle
    const m = subclassClosure({ child, parent, length: 5 }, [1, 10]);
    expect(Object.fromEntries(m)).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1, 10: 2, 5: 2 });
  });

  it('dump lines: brackets and blanks skipped, trailing comma allowed, non-entities are errors', () => {
    expect(parseDumpLine('[').kind).toBe('skip');
    expect(parseDumpLine(' ]').kind).toBe('skip');
    expect(parseDumpLine('{"id":"Q1"},')).toMatchObject({ kind: 'entity', entity: { id: 'Q1' } });
    expect(parseDumpLine('{"id":"Q1"')).toMatchObject({ kind: 'error' });
    expect(parseDumpLine('[1,2],')).toMatchObject({ kind: 'error' });
  });
});
