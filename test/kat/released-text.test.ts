import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/answerer.js';
import type { StageContext } from '../../src/core/context.js';
import { loadDataFile, loadSamples } from '../../src/data/data-file.js';
import { questionKatReleased } from '../../src/stages/question/kat-released.js';
import { okvqa, repoRoot } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { pythonMissing, runPython } from '../helpers/python.js';
import { itNeeds } from '../helpers/requires.js';

const KAT = join(repoRoot, 'test', 'fixtures', 'kat');
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-kat-text-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const missing = pythonMissing();

// KAT's {split}.pkl as Python writes it, with question texts spelled differently from OK-VQA's (case, spacing) and gold
// answers that are not the annotation file's: what the reader reads and kat-ems scores must visibly come from it.
const WRITE = `
import json, pickle, sys
kat, out = sys.argv[1], sys.argv[2]
qs = json.load(open(kat + '/val_questions.json'))['questions']
img = lambda i: 'COCO_val2014_{}.jpg'.format(str(i).zfill(12))
questions = {img(q['image_id']) + '#' + str(n): '  ' + q['question'].upper().replace(' ', '  ') for n, q in enumerate(qs)}
answers = {img(q['image_id']) + '#' + str(n): ['kat gold %d' % n] * 10 for n, q in enumerate(qs)}
pickle.dump((questions, answers), open(out + '/val2014.pkl', 'wb'))
print(json.dumps({str(q['question_id']): [questions[img(q['image_id']) + '#' + str(n)], 'kat gold %d' % n] for n, q in enumerate(qs)}))
`;

function ctxFor(dataPath: string): StageContext & { notes: Record<string, unknown> } {
  const notes: Record<string, unknown> = {};
  return { ...testContext({ data: loadDataFile(dataPath) }), questionId: 'q', node: 'question', note: (k, v) => (notes[k] = v), usage: () => {}, notes };
}

describe("kat-released: the question text and kat-ems's gold answers from KAT's {split}.pkl", () => {
  let kat: Record<string, [string, string]> = {};
  const withPkl = join(tmp, 'data.json');
  const withoutPkl = join(tmp, 'data-okvqa.json');
  beforeAll(() => {
    if (missing) return;
    kat = JSON.parse(runPython(WRITE, [KAT, tmp]));
    const base = JSON.parse(readFileSync(join(KAT, 'data.json'), 'utf8'));
    const abs = (p: string) => join(KAT, p);
    const common = { dataset: 'okvqa', questions: abs(base.questions), annotations: abs(base.annotations), images: abs(base.images) };
    writeFileSync(withPkl, JSON.stringify({ ...common, kat: { entities: abs(base.kat.entities), implicit: abs(base.kat.implicit), questions: join(tmp, 'val2014.pkl') } }));
    writeFileSync(withoutPkl, JSON.stringify({ ...common, kat: { entities: abs(base.kat.entities), implicit: abs(base.kat.implicit) } }));
  });

  it("the pipeline's reader reads the question node's sample", () => {
    const answer = loadPipeline('kat-released').nodes.find((n) => n.name === 'answer')!;
    expect(answer.bindings.sample).toEqual(['question']);
  });

  itNeeds(missing)(`question.kat-released: KAT's text when data.json names {split}.pkl, else OK-VQA's ${missing ? `(skipped: ${missing})` : ''}`, async () => {
    for (const s of loadSamples(loadDataFile(withPkl))) {
      const ctx = ctxFor(withPkl);
      const out = await questionKatReleased.run({ sample: s }, questionKatReleased.params.parse({}), ctx);
      expect(out).toEqual({ ...s, question: kat[s.questionId]![0] });
      expect(out.question).not.toBe(s.question);
      expect(ctx.notes.questionFrom).toBe('kat');
      const plain = ctxFor(withoutPkl);
      expect(await questionKatReleased.run({ sample: s }, questionKatReleased.params.parse({}), plain)).toBe(s);
      expect(plain.notes.questionFrom).toBe('okvqa');
    }
  });

  itNeeds(missing)(`pre-flight: every question of the run has a key in the pkl ${missing ? `(skipped: ${missing})` : ''}`, async () => {
    const data = loadDataFile(withPkl);
    const samples = loadSamples(data);
    const check = (d = data, qs = samples) => questionKatReleased.check!(questionKatReleased.params.parse({}), { ...testContext({ data: d }), node: 'question', samples: qs });
    expect(await check()).toEqual([]);
    const stranger = { ...samples[0]!, questionId: 'x1', question: 'Is this a question KAT never saw?' };
    const found = await check(data, [...samples, stranger]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'error', key: 'kat.questions' });
    expect(found[0]!.message).toMatch(/^1 of 4 questions have no key/);
    expect(await check({ ...data, kat: { ...data.kat, questions: join(tmp, 'nope.pkl') } })).toMatchObject([{ severity: 'error', message: /file not found/ }]);
  });

  itNeeds(missing)(`okvqa eval --metric kat-ems: gold answers from the pkl with --data or the run's manifest, else the annotations ${missing ? `(skipped: ${missing})` : ''}`, async () => {
    const run = join(tmp, 'run');
    (await import('node:fs')).mkdirSync(run, { recursive: true });
    const predictions = join(run, 'predictions.json');
    writeFileSync(predictions, JSON.stringify(Object.entries(kat).map(([id, [, gold]]) => ({ question_id: Number(id), answer: gold }))));
    const ann = join(KAT, 'val_annotations.json');
    const ems = (extra: string[]) => {
      const r = okvqa(['eval', '--annotations', ann, '--predictions', predictions, '--metric', 'kat-ems', '--json', ...extra]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { overall: number; answers: { from: string; file: string } };
    };
    expect(ems(['--data', withPkl])).toMatchObject({ overall: 100, answers: { from: 'kat', file: join(tmp, 'val2014.pkl') } });
    expect(ems(['--data', withoutPkl])).toMatchObject({ overall: 0, answers: { from: 'annotations', file: ann } });
    expect(ems([])).toMatchObject({ overall: 0, answers: { from: 'annotations' } });
    // a kat-released run's manifest says where its KAT-metric answers come from
    const data = loadDataFile(withPkl);
    writeFileSync(join(run, 'manifest.json'), JSON.stringify({ data, katText: { question: { from: 'kat', file: data.kat!.questions }, katEmsAnswers: { from: 'kat', file: data.kat!.questions } } }));
    expect(ems([])).toMatchObject({ overall: 100, answers: { from: 'kat' } });
  }, 60_000);
});
