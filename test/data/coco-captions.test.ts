/** COCO's own caption files (captions_train2014.json) and PICa's per-shot caption draw (issue 10). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCaptions } from '../../src/data/captions.js';
import { examplesRandom } from '../../src/stages/examples/random.js';
import { examplesQuestionSim } from '../../src/stages/examples/similar.js';
import { FIXTURES, fixtureData, fixtureSamples, makeCtx } from '../llm/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'okvqa-coco-captions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fixture's train captions rewritten in COCO's layout with five captions per image (k = 0…4). */
function writeCocoCaptions(): string {
  const byImage = JSON.parse(readFileSync(join(FIXTURES, 'train_captions.json'), 'utf8')) as Record<string, string[]>;
  const images = Object.keys(byImage).map((id) => ({ id: Number(id), file_name: `COCO_train2014_${id.padStart(12, '0')}.jpg`, height: 480, width: 640 }));
  const annotations = Object.entries(byImage).flatMap(([id, caps], i) =>
    [0, 1, 2, 3, 4].map((k) => ({ image_id: Number(id), id: i * 10 + k, caption: `${caps[0]} [${k}]` })),
  );
  const path = join(dir, 'captions_train2014.json');
  writeFileSync(path, JSON.stringify({ info: { description: 'COCO 2014 Dataset' }, images, licenses: [], annotations }));
  return path;
}

const cocoPath = writeCocoCaptions();

describe('COCO caption files', () => {
  it('loads captions_train2014.json: every caption of each image, in file order', () => {
    const m = loadCaptions(cocoPath);
    expect(m.get('1810')!.map((c) => c.text)).toEqual([0, 1, 2, 3, 4].map((k) => `a white toilet sitting on the side of a road. [${k}]`));
    // the bare annotation list (what PICa's load_anno also accepts)
    const list = join(dir, 'list.json');
    writeFileSync(list, JSON.stringify([{ image_id: 7, id: 1, caption: 'a' }, { image_id: 7, id: 2, caption: 'b' }]));
    expect(loadCaptions(list).get('7')!.map((c) => c.text)).toEqual(['a', 'b']);
  });

  it('names the file and the annotation when one is malformed', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ images: [], annotations: [{ image_id: 1, caption: 'ok' }, { id: 3 }] }));
    expect(() => loadCaptions(bad)).toThrow(/bad\.json: field "annotations\[1\]": COCO annotation 1 needs "image_id" and "caption"/);
  });
});

describe('example captions: first, or one drawn per shot (seeded), as PICa', () => {
  const data = { ...fixtureData(), examples: { ...fixtureData().examples!, captions: cocoPath } };
  const sample = fixtureSamples()[0]!;
  const contexts = async (params: Record<string, unknown>, seed = 0) => {
    const ctx = makeCtx({ data, config: { seed } });
    const ex = await examplesRandom.run({ sample }, examplesRandom.params.parse({ shots: 4, ensemble: 2, ...params }), { ...ctx, questionId: sample.questionId });
    return ex.map((e) => e.context);
  };

  it('first: always the first caption; random: drawn among the five, reproducible per seed', async () => {
    const first = await contexts({});
    expect(first.every((c) => c.endsWith('[0]'))).toBe(true);
    const r1 = await contexts({ pick: 'random' });
    const r2 = await contexts({ pick: 'random' });
    expect(r2).toEqual(r1);
    expect(new Set(r1.map((c) => c.slice(-3))).size).toBeGreaterThan(1);
    // the same examples (the caption draw does not move the example draw), only their captions differ
    expect(r1.map((c) => c.slice(0, -4))).toEqual(first.map((c) => c.slice(0, -4)));
    const other = await contexts({ pick: 'random' }, 1);
    const firstOther = await contexts({}, 1);
    expect(other.map((c) => c.slice(0, -4))).toEqual(firstOther.map((c) => c.slice(0, -4)));
    expect(other).not.toEqual(firstOther);
  });

  it('similarity selectors draw too, and their cache key carries the seed only when drawing', async () => {
    const ctx0 = makeCtx({ data, config: { seed: 0 } });
    const ctx1 = makeCtx({ data, config: { seed: 1 } });
    const p = (pick: string) => examplesQuestionSim.params.parse({ encoder: 'tfidf', shots: 4, ensemble: 2, pick });
    expect(await examplesQuestionSim.fingerprint!(p('first'), ctx0)).toBe(await examplesQuestionSim.fingerprint!(p('first'), ctx1));
    expect(await examplesQuestionSim.fingerprint!(p('random'), ctx0)).not.toBe(await examplesQuestionSim.fingerprint!(p('random'), ctx1));
    const ex = await examplesQuestionSim.run({ sample }, p('random'), { ...ctx0, questionId: sample.questionId });
    expect(new Set(ex.map((e) => e.context.slice(-3))).size).toBeGreaterThan(1);
  });
});
