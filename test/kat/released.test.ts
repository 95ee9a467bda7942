import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StageContext } from '../../src/core/context.js';
import { packagePaths } from '../../src/core/paths.js';
import { loadDataFile, loadSamples } from '../../src/data/data-file.js';
import { KatKeyIndex, loadKatEntities, loadKatImplicit, loadKatQuestions } from '../../src/data/kat-released.js';
import { readPickle } from '../../src/data/pickle.js';
import { buildKatOntology } from '../../src/knowledge/kat-ontology.js';
import { KnowledgeStore } from '../../src/knowledge/store.js';
import { implicitKatReleased } from '../../src/stages/implicit/kat-released.js';
import { passagesKat } from '../../src/stages/passages/kat.js';
import { retrieveKatReleased } from '../../src/stages/retrieve/kat-released.js';
import { testContext } from '../helpers/context.js';
import { pythonMissing, runPython } from '../helpers/python.js';
import { itNeeds } from '../helpers/requires.js';

const ROOT = packagePaths().root;
const KAT = join(ROOT, 'test', 'fixtures', 'kat');
const REL = join(KAT, 'released');
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-kat-released-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function stageCtx(data = loadDataFile(join(KAT, 'data.json'))): StageContext & { notes: Record<string, unknown> } {
  const notes: Record<string, unknown> = {};
  return { ...testContext({ data }), questionId: 'q', node: 'n', note: (k, v) => (notes[k] = v), usage: () => {}, notes };
}

describe("KAT's released pickles (okvqa.zip structure, written by Python's pickle)", () => {
  it('reads entities with numpy float32 scores, (answer, evidence) lists, questions and answers', () => {
    const ents = loadKatEntities(join(REL, 'wikidata_okvqa_val2014_topentities.pkl'));
    expect([...ents.keys()].sort((a, b) => a - b)).toEqual([11511, 339761, 572399]);
    const e = ents.get(339761)!;
    expect(e.entities).toEqual([0, 1, 2].map((k) => ({ name: `entity 0.${k}`, description: `thing number ${k} of image 0` })));
    expect(e.scores).toEqual([0.3, 0.29, 0.28].map((x) => Math.fround(x)));
    const imp = loadKatImplicit(join(REL, 'gpt3_okvqa_val2014_answers.pkl'));
    expect(imp.get('COCO_val2014_000000339761.jpg#100')).toEqual([{ answer: 'answer0', evidence: 'evidence number 0 for the question.' }]);
    const q = loadKatQuestions(join(REL, 'val2014.pkl'));
    expect(q.questions.get('COCO_val2014_000000572399.jpg#101')).toBe('Who leaves a toilet like this?');
    expect(q.answers.get('COCO_val2014_000000572399.jpg#101')).toHaveLength(10);
    const idx = new KatKeyIndex(q.questions);
    expect(idx.keyOf(572399, '  who leaves a toilet  like this?')).toBe('COCO_val2014_000000572399.jpg#101');
    expect(idx.keyOf(572399, 'Another question?')).toBeUndefined();
    // the same question twice on one image: paired with the keys in order
    const dup = new KatKeyIndex(new Map([['COCO_val2014_000000000007.jpg#b', 'Why?'], ['COCO_val2014_000000000007.jpg#a', 'why?'], ['COCO_val2014_000000000008.jpg#c', 'Why?']]));
    const qs = [{ questionId: '1', imageId: 7, question: 'Why?' }, { questionId: '2', imageId: 8, question: 'Why?' }, { questionId: '3', imageId: 7, question: 'Why?' }];
    expect([...dup.pair(qs)]).toEqual([['1', 'COCO_val2014_000000000007.jpg#b'], ['2', 'COCO_val2014_000000000008.jpg#c'], ['3', 'COCO_val2014_000000000007.jpg#a']]);
  });

  const missing = pythonMissing(['numpy']);
  itNeeds(missing)(`numpy arrays and scalars of every protocol decode to their values ${missing ? `(skipped: ${missing})` : ''}`, () => {
    const protos = [2, 3, 4, 5];
    runPython(
      `import pickle, numpy as np, sys
for proto in (2, 3, 4, 5):
    pickle.dump({'a': np.array([[1.5, -2.25], [3, 4]], dtype=np.float32), 'b': np.float64(0.1), 'c': (np.int64(-7), np.float32(0.3)),
                 'd': [('x', 'y')], 'e': np.arange(3, dtype='>i4')}, open(sys.argv[1] + '/np%d.pkl' % proto, 'wb'), protocol=proto)`,
      [tmp],
    );
    for (const proto of protos) {
      expect(readPickle(join(tmp, `np${proto}.pkl`))).toEqual({ a: [1.5, -2.25, 3, 4], b: 0.1, c: [-7, Math.fround(0.3)], d: [['x', 'y']], e: [0, 1, 2] });
    }
  });

  it('retrieve.kat-released + implicit.kat-released + passages.kat give KAT\'s reader passages', async () => {
    const data = loadDataFile(join(KAT, 'data.json'));
    const samples = loadSamples(data);
    const ctx = stageCtx(data);
    const s = samples.find((x) => x.imageId === 572399)!;
    const explicit = await retrieveKatReleased.run({ sample: s }, retrieveKatReleased.params.parse({}), ctx);
    expect(explicit.map((p) => p.text)).toEqual([0, 1, 2, 3].map((k) => `title: entity 1.${k} context: entity 1.${k} is a thing number ${k} of image 1`));
    expect(explicit[0]).toMatchObject({ title: 'entity 1.0', body: 'entity 1.0 is a thing number 0 of image 1', source: 'kat-released' });
    const implicit = await implicitKatReleased.run({ sample: s }, implicitKatReleased.params.parse({}), ctx);
    expect(implicit.map((p) => p.text)).toEqual(['candidate: answer1 evidence: evidence number 1 for the question.']);
    expect(ctx.notes.katKey).toBe('COCO_val2014_000000572399.jpg#101');
    const all = await passagesKat.run({ explicit, implicit }, passagesKat.params.parse({}), ctx);
    expect(all).toHaveLength(41);
    expect(all.slice(0, 40).map((p) => p.id)).toEqual(Array.from({ length: 40 }, (_, i) => `kat:${i % 4}`)); // cycled as KAT
    expect(all[40]!.text).toMatch(/^candidate: answer1 evidence: /);
    // no {split}.pkl: the key "{image}#{question id}" is tried, else a clear error
    const noQ = stageCtx({ ...data, kat: { ...data.kat, questions: undefined } });
    await expect(implicitKatReleased.run({ sample: s }, implicitKatReleased.params.parse({}), noQ)).rejects.toThrow(/no key .*#5723996.*kat\.questions/);
    const other = { ...s, imageId: 42 };
    await expect(retrieveKatReleased.run({ sample: other }, retrieveKatReleased.params.parse({}), ctx)).rejects.toThrow(/no entities for image 42/);
  });

  it('kb build from KAT\'s wikidata_ontology.pkl keeps its order and KAT\'s entity text', () => {
    const out = join(tmp, 'onto.sqlite');
    expect(buildKatOntology({ ontology: join(REL, 'wikidata_ontology.pkl'), out })).toMatchObject({ entities: 2, inserted: 2 });
    const store = KnowledgeStore.open(out, { readonly: true });
    try {
      const [a, b] = store.byRowids([1, 2]);
      expect(a).toMatchObject({ id: 'Q7187', label: 'gene', text: 'gene is a basic physical and functional unit of heredity', source: 'kat-ontology' });
      expect(b).toMatchObject({ id: 'Q42', text: 'Douglas Adams is a English writer and humorist' });
    } finally {
      store.close();
    }
  });
});
