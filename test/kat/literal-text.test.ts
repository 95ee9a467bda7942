import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKatEntities, loadKatImplicit } from '../../src/data/kat-released.js';
import { pyStr } from '../../src/data/pickle.js';
import { buildKatOntology } from '../../src/knowledge/kat-ontology.js';
import { KnowledgeStore } from '../../src/knowledge/store.js';
import { passageText } from '../../src/reader/fid.js';
import { katEntityPassage } from '../../src/stages/retrieve/merge.js';
import { pythonMissing, runPython } from '../helpers/python.js';
import { itNeeds } from '../helpers/requires.js';

const tmp = mkdtempSync(join(tmpdir(), 'okvqa-kat-literal-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const missing = pythonMissing();

// Python writes pickles whose texts hold `$` sequences and a None description, and prints what str.format makes of them.
const WRITE = `
import json, pickle, sys
d = sys.argv[1]
ents = {'COCO_val2014_000000000042.jpg': ([('cost $& more', None), ("it's $1 or $$", 'price in $\\' units')], (0.5, 0.25))}
pickle.dump(ents, open(d + '/ents.pkl', 'wb'))
pickle.dump({'COCO_val2014_000000000042.jpg#1': [('$&', None)]}, open(d + '/gpt3.pkl', 'wb'))
pickle.dump({'Q1': ('cost $& more', None)}, open(d + '/onto.pkl', 'wb'))
print(json.dumps(['{} is a {}'.format(n, t) for n, t in ents['COCO_val2014_000000000042.jpg'][0]] + ['{}'.format(None)]))
`;

describe('passage text keeps $ sequences literally; a pickled None reads as None', () => {
  let python: string[] = [];
  beforeAll(() => {
    if (!missing) python = JSON.parse(runPython(WRITE, [tmp]));
  });

  it('the reader fills {question} and {passage} once, literally', () => {
    const t = 'question: {question} {passage}';
    expect(passageText(t, 'what does $& cost?', 'context: $1 and $$')).toBe('question: what does $& cost? context: $1 and $$');
    expect(passageText(t, "is it $' or $`?", 'p')).toBe("question: is it $' or $`? p");
    // a question that contains "{passage}" is not filled a second time
    expect(passageText(t, 'about {passage}?', 'P')).toBe('question: about {passage}? P');
    expect(pyStr(null)).toBe('None');
    expect(pyStr(true)).toBe('True');
  });

  itNeeds(missing)(`KAT's pickles: names with $ and None descriptions as Python formats them ${missing ? `(skipped: ${missing})` : ''}`, () => {
    const e = loadKatEntities(join(tmp, 'ents.pkl')).get(42)!;
    expect(e.entities.map((x) => `${x.name} is a ${x.description}`)).toEqual(python.slice(0, 2));
    expect(e.entities[0]).toEqual({ name: 'cost $& more', description: 'None' });
    expect(katEntityPassage(e.entities[0]!.name, e.entities[0]!.description).text).toBe('title: cost $& more context: cost $& more is a None');
    expect(loadKatImplicit(join(tmp, 'gpt3.pkl')).get('COCO_val2014_000000000042.jpg#1')).toEqual([{ answer: '$&', evidence: python[2] }]);
    buildKatOntology({ ontology: join(tmp, 'onto.pkl'), out: join(tmp, 'kb.sqlite') });
    const kb = KnowledgeStore.open(join(tmp, 'kb.sqlite'));
    try {
      expect(kb.get('Q1')).toMatchObject({ label: 'cost $& more', description: 'None', text: python[0] });
    } finally {
      kb.close();
    }
  });
});
