import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KnowledgeStore } from '../../src/knowledge/store.js';
import { buildWordnet, hypernymChain, parseSynsetLine, readSynsets, synsetText } from '../../src/knowledge/wordnet.js';

const dir = mkdtempSync(join(tmpdir(), 'okvqa-wn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('WordNet knowledge base', () => {
  it('parses a data.noun line: lemmas, lexicographer file, hypernyms, definition without examples', () => {
    const s = parseSynsetLine(
      '00002137 03 n 02 abstraction 0 abstract_entity 0 010 @ 00001740 n 0000 + 00694095 v 0101 ~ 00023280 n 0000 ~ 00024444 n 0000 ~ 00031563 n 0000 ~ 00032220 n 0000 ~ 00033319 n 0000 ~ 00033914 n 0000 ~ 05818169 n 0000 ~ 08016141 n 0000 | a general concept formed by extracting common features from specific examples; "a typical abstraction"  ',
      'n',
    )!;
    expect(s).toMatchObject({
      id: 'wn:n00002137',
      lemmas: ['abstraction', 'abstract entity'],
      lexname: 'noun.Tops',
      hypernyms: ['wn:n00001740'],
      definition: 'a general concept formed by extracting common features from specific examples',
    });
    expect(synsetText('abstraction', s.definition)).toBe(
      'abstraction is a general concept formed by extracting common features from specific examples',
    );
    expect(parseSynsetLine('  1 This software and database is being provided', 'n')).toBeUndefined();
  });

  it('dog: gloss and hypernym chain up to entity', () => {
    const nouns = readSynsets('noun');
    const byId = new Map(nouns.map((s) => [s.id, s]));
    const dog = nouns.find((s) => s.lemmas[0] === 'dog' && s.definition.startsWith('a member of the genus Canis'))!;
    expect(synsetText('dog', dog.definition)).toMatch(/^dog is a member of the genus Canis/);
    const chain = hypernymChain(dog, byId);
    expect(chain.slice(0, 2)).toEqual(['canine', 'carnivore']);
    expect(chain).toContain('mammal');
    expect(chain.at(-1)).toBe('entity');
  });

  it('builds a subset: one entity per synset with its chain, idempotent on rerun', () => {
    const kb = join(dir, 'wn.sqlite');
    const r = buildWordnet({ out: kb, pos: ['noun'], limit: 200 });
    expect(r).toMatchObject({ synsets: 200, inserted: 200 });
    expect(buildWordnet({ out: kb, pos: ['noun'], limit: 200 }).inserted).toBe(0);
    const s = KnowledgeStore.open(kb, { readonly: true });
    expect(s.stats()).toMatchObject({ entities: 200, sources: { wordnet: 200 }, embedded: {} });
    const entity = s.get('wn:n00001740')!;
    expect(entity).toMatchObject({ label: 'entity', source: 'wordnet', broader: [] });
    expect(entity.text).toMatch(/^entity is that which is perceived/);
    const physical = s.get('wn:n00001930')!;
    expect(physical.broader).toEqual(['entity']);
    expect(s.textSearch('physical existence', 3)[0]!.id).toBe('wn:n00001930');
    s.close();
  });
});
