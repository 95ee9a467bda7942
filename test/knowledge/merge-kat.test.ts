import { describe, expect, it } from 'vitest';
import { katEntityPassage, mergeKat, mergeRegionHits, type RegionHits } from '../../src/stages/retrieve/merge.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/cli.js';

const hit = (id: string, score: number) => ({ id, label: `name ${id}`, description: `desc ${id}`, source: 'wikidata', score });

// Three crops, top-3 each. Crop 1's score list is [0.50, 0.40, 0.30].
const crops: RegionHits[] = [
  { region: 0, hits: [hit('Q9', 0.95), hit('Q1', 0.9), hit('Q2', 0.2)] },
  { region: 1, hits: [hit('Q3', 0.5), hit('Q9', 0.4), hit('Q4', 0.3)] },
  { region: 2, hits: [hit('Q10', 0.99), hit('Q5', 0.98), hit('Q1', 0.97)] },
];

describe("merge kat: KAT's retrieve_knn ranking with its quirk", () => {
  it('scores every crop by rank with crop 1\'s scores, keeps the max, sorts by (score, QID) descending', () => {
    // rank 0 → 0.5: Q9 (crop 0), Q3, Q10; rank 1 → 0.4: Q1, Q9 (0.5 kept), Q5; rank 2 → 0.3: Q2, Q4, Q1 (0.4 kept)
    // ties at 0.5: Q9 > Q3 > Q10 as strings ('Q9' > 'Q3' > 'Q10'); at 0.4: Q5 > Q1; at 0.3: Q4 > Q2
    const out = mergeKat(crops);
    expect(out.map((p) => [p.id, p.score])).toEqual([
      ['Q9', 0.5], ['Q3', 0.5], ['Q10', 0.5], ['Q5', 0.4], ['Q1', 0.4], ['Q4', 0.3], ['Q2', 0.3],
    ]);
    expect(out.find((p) => p.id === 'Q9')!.region).toBe(0); // the first crop that reached the max
    expect(out[0]).toMatchObject({ text: 'title: name Q9 context: name Q9 is a desc Q9', title: 'name Q9', body: 'name Q9 is a desc Q9' });
    // the corrected merge ranks by each hit's own score
    expect(mergeRegionHits(crops, 'max', 3).map((p) => [p.id, p.score])).toEqual([['Q10', 0.99], ['Q5', 0.98], ['Q1', 0.97]]);
    expect(mergeRegionHits(crops, 'kat', 2, 'entity').map((p) => p.text)).toEqual(['entity: name Q9 description: desc Q9', 'entity: name Q3 description: desc Q3']);
  });

  it('zip stops at the shorter list; one crop is an error as in KAT', () => {
    const short: RegionHits[] = [crops[0]!, { region: 1, hits: [hit('Q3', 0.5)] }];
    expect(mergeKat(short).map((p) => p.id)).toEqual(['Q9', 'Q3']);
    expect(() => mergeKat([crops[0]!])).toThrow(/at least 2 regions/);
  });

  // Recorded from KAT's own retrieve_knn (guilk/KAT, run by test/fixtures/kat/reference/run_kat.py; the commit and
  // command are in the file): the hand-made case above, a 9-crop pseudo-random case with ties, and a short second crop.
  it("equals what KAT's retrieve_knn returned on the recorded cases", () => {
    const ref = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'kat', 'reference', 'retrieve_knn.json'), 'utf8')) as {
      source: { commit: string };
      cases: { crops: [string, number][][]; result: { names: string[]; scores: number[] } }[];
    };
    expect(ref.source.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(ref.cases).toHaveLength(3);
    for (const c of ref.cases) {
      const ours = mergeKat(c.crops.map((hits, region) => ({ region, hits: hits.map(([id, score]) => hit(id, score)) })));
      expect(ours.map((p) => p.title)).toEqual(c.result.names);
      expect(ours.map((p) => p.score)).toEqual(c.result.scores);
    }
  });

  it('katEntityPassage keeps KAT\'s wording', () => {
    expect(katEntityPassage('apple', 'fruit of the apple tree').text).toBe('title: apple context: apple is a fruit of the apple tree');
  });
});

describe("passages.kat: KAT's explicit list cycled to n_context", () => {
  it('repeats from the start as `entities + entities[:n - len]` does, keeps the first n, none stays none', async () => {
    const { cycleTo, katPassages } = await import('../../src/stages/passages/kat.js');
    expect(cycleTo(['a', 'b', 'c'], 8)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b']);
    expect(cycleTo([1, 2, 3, 4, 5], 3)).toEqual([1, 2, 3]);
    expect(cycleTo([], 40)).toEqual([]);
    const p = (id: string) => ({ text: id, score: 0, source: 's', id });
    expect(katPassages([p('e1'), p('e2')], [p('i1')], 3).map((x) => x.id)).toEqual(['e1', 'e2', 'e1', 'i1']);
    expect(katPassages([p('e1'), p('e2')], [p('i1')], 3, false).map((x) => x.id)).toEqual(['e1', 'e2', 'i1']);
  });
});
