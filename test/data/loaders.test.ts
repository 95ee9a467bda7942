import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectKeying, loadCaptions, loadTags } from '../../src/data/captions.js';
import { indexCocoImages } from '../../src/data/coco.js';
import { loadDataFile, loadSamples } from '../../src/data/data-file.js';
import { loadAokvqa } from '../../src/data/aokvqa.js';
import { loadOkvqa } from '../../src/data/okvqa.js';

const dir = mkdtempSync(join(tmpdir(), 'okvqa-data-'));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('caption and tag files', () => {
  it('reads the VinVL TSV layout', () => {
    const p = write('caps.tsv', '391895\t[{"caption": "a man riding a motorcycle.", "conf": 0.74}]\n522418\t[{"caption": "a cake.", "conf": 0.7}, {"caption": "a knife.", "conf": 0.2}]\n');
    const m = loadCaptions(p);
    expect(m.get('391895')).toEqual([{ text: 'a man riding a motorcycle.', source: 'file', conf: 0.74 }]);
    expect(m.get('522418')).toHaveLength(2);
    const t = loadTags(write('tags.tsv', '1\t[{"class": "mammal", "conf": 0.75}, {"class": "sky", "conf": 0.97}]\n'));
    expect(t.get('1')).toEqual([{ label: 'mammal', conf: 0.75 }, { label: 'sky', conf: 0.97 }]);
  });

  it('reads JSON maps keyed by question or image id, and detects the keying', () => {
    const m = loadCaptions(write('q.json', JSON.stringify({ 2971475: 'a black motorcycle', 3397615: ['a plant', 'a pot'] })));
    expect(m.get('2971475')).toEqual([{ text: 'a black motorcycle', source: 'file' }]);
    expect(m.get('3397615')!.map((c) => c.text)).toEqual(['a plant', 'a pot']);
    const samples = [{ questionId: '2971475', imageId: 297147 }, { questionId: '3397615', imageId: 339761 }];
    expect(detectKeying(m, samples)).toBe('question');
    expect(detectKeying(loadCaptions(write('i.json', JSON.stringify({ 297147: 'x' }))), samples)).toBe('image');
  });

  it('names the file and line of a malformed line', () => {
    const p = write('bad.tsv', '1\t[{"caption": "ok"}]\n2\t[{"caption": broken}]\n');
    expect(() => loadCaptions(p)).toThrow(new RegExp(`${p}:2: bad JSON after the tab`));
    expect(() => loadCaptions(write('notab.tsv', 'no tab here\n'))).toThrow(/notab.tsv:1: expected "id<TAB>json"/);
  });
});

describe('question files', () => {
  it('joins OK-VQA questions and annotations; errors name file and field', () => {
    const q = write('q.json', JSON.stringify({ questions: [{ image_id: 1, question: 'What?', question_id: 10 }] }));
    const a = write('a.json', JSON.stringify({ annotations: [{ image_id: 1, question_id: 10, answers: [{ answer: 'x', raw_answer: 'xs' }] }] }));
    expect(loadOkvqa(q, a)).toEqual([{ dataset: 'okvqa', questionId: '10', imageId: 1, question: 'What?', answers: ['x'] }]);
    expect(loadOkvqa(q, a, { rawAnswers: true })[0]!.answers).toEqual(['xs']);
    const bad = write('badq.json', JSON.stringify({ questions: [{ image_id: 1, question: 5, question_id: 10 }] }));
    expect(() => loadOkvqa(bad)).toThrow(new RegExp(`${bad}: field "questions.0.question"`));
    const noAnn = write('a2.json', JSON.stringify({ annotations: [] }));
    expect(() => loadOkvqa(q, noAnn)).toThrow(/no annotation for question_id 10/);
  });

  it('reads A-OKVQA splits, the test split without answers', () => {
    const p = write('aok_test.json', JSON.stringify([{ split: 'test', image_id: 5, question_id: 'abc', question: 'Why?', choices: ['a', 'b', 'c', 'd'], correct_choice_idx: null, direct_answers: null, difficult_direct_answer: false }]));
    const [s] = loadAokvqa(p);
    expect(s).toEqual({ dataset: 'aokvqa', questionId: 'abc', imageId: 5, question: 'Why?', choices: ['a', 'b', 'c', 'd'] });
  });

  it('resolves COCO images in the 2014 and 2017 layouts, one folder down too', () => {
    const img = join(dir, 'images');
    mkdirSync(join(img, 'val2014'), { recursive: true });
    writeFileSync(join(img, 'val2014', 'COCO_val2014_000000297147.jpg'), '');
    writeFileSync(join(img, '000000461751.jpg'), '');
    const index = indexCocoImages(img);
    expect(index.get(297147)).toBe(join(img, 'val2014', 'COCO_val2014_000000297147.jpg'));
    expect(index.get(461751)).toBe(join(img, '000000461751.jpg'));
    expect(() => indexCocoImages(join(dir, 'nope'))).toThrow(/cannot read images folder/);
  });

  it('data.json resolves paths against its folder and rejects unknown keys', () => {
    write('data.json', JSON.stringify({ dataset: 'okvqa', questions: 'q.json', annotations: 'a.json', examples: { questions: 'q.json', annotations: 'a.json' } }));
    const d = loadDataFile(join(dir, 'data.json'));
    expect(d.questions).toBe(join(dir, 'q.json'));
    expect(d.examples!.annotations).toBe(join(dir, 'a.json'));
    expect(loadSamples(d)).toHaveLength(1);
    const bad = write('bad-data.json', JSON.stringify({ dataset: 'okvqa', questions: 'q.json', captionz: 'x' }));
    expect(() => loadDataFile(bad)).toThrow(/bad-data.json: .*captionz/);
  });
});
