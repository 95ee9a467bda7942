import { describe, expect, it } from 'vitest';
import { katEntityPassage, mergeKat, mergeRegionHits, type RegionHits } from '../../src/stages/retrieve/merge.js';
import { pythonMissing, runPython } from '../helpers/python.js';
import { itNeeds } from '../helpers/requires.js';

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

  const missing = pythonMissing();
  itNeeds(missing)(`equals KAT's retrieve_knn loop run in Python ${missing ? `(skipped: ${missing})` : ''}`, () => {
    // guilk/KAT build_wikidata_entity_db.py retrieve_knn, the ranking part verbatim (faiss results given as data).
    const script = `
import json, sys
top_ids_and_scores = [(ids, scores) for ids, scores in json.load(sys.stdin)]
top_results = {}
for top_ids_and_score in top_ids_and_scores:
    str_top_ids = top_ids_and_score[0]
    top_scores = list(top_ids_and_scores[1][-1])
    for (wiki_id, top_score) in zip(str_top_ids, top_scores):
        if wiki_id in top_results:
            top_results[wiki_id] = max(top_results[wiki_id], top_score)
        else:
            top_results[wiki_id] = top_score
wiki_ids, wiki_scores = list(top_results.keys()) , list(top_results.values())
wiki_scores, wiki_ids = zip(*sorted(zip(wiki_scores, wiki_ids)))
wiki_ids, wiki_scores = wiki_ids[::-1], wiki_scores[::-1]
print(json.dumps([list(wiki_ids), list(wiki_scores)]))`;
    // a larger pseudo-random case with many ties and repeated ids
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const big: RegionHits[] = Array.from({ length: 9 }, (_, r) => ({
      region: r,
      hits: Array.from({ length: 20 }, () => hit(`Q${Math.floor(rnd() * 40)}`, Math.round(rnd() * 8) / 8)).sort((a, b) => b.score - a.score),
    }));
    for (const c of [crops, big]) {
      const [ids, scores] = JSON.parse(runPython(script, [], JSON.stringify(c.map((r) => [r.hits.map((h) => h.id), r.hits.map((h) => h.score)])))) as [string[], number[]];
      const ours = mergeKat(c);
      expect(ours.map((p) => p.id)).toEqual(ids);
      expect(ours.map((p) => p.score)).toEqual(scores);
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
