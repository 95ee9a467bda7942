import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { loadDataFile } from '../../src/data/data-file.js';
import { loadProphetCandidates, loadProphetExamples } from '../../src/data/prophet-released.js';
import { mostAnswer, prophetVote, sampleMake } from '../../src/llm/prophet.js';
import { answerCandidates, examplesProphet } from '../../src/stages/examples/prophet.js';
import { okvqaIn } from '../helpers/cli-inprocess.js';
import { makeCtx } from '../llm/helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'test/fixtures/prophet');
const AOK = join(FIX, 'aokvqa');
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-prophet-stages-'));
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

describe('Prophet pieces', () => {
  it('most frequent answer as Qid2Data: count, first seen among equals, "" skipped for the second', () => {
    expect(mostAnswer(['b', 'a', 'a', 'b', 'c'])).toBe('b');
    expect(mostAnswer(['', '', 'x', 'y', 'y'])).toBe('y');
    expect(() => mostAnswer([])).toThrow();
  });

  it('vote: summed confidence, first seen among equal sums, empty answers skipped, else the top candidate', () => {
    const lp = (p: number) => Math.log(p);
    expect(prophetVote([{ answer: 'a', logprob: lp(0.5) }, { answer: 'b', logprob: lp(0.4) }, { answer: 'b', logprob: lp(0.3) }], 'z')).toMatchObject({ answer: 'b', method: 'vote' });
    expect(prophetVote([{ answer: 'a', logprob: lp(0.5) }, { answer: 'b', logprob: lp(0.5) }], 'z').answer).toBe('a');
    expect(prophetVote([{ answer: '', logprob: 0 }], 'z')).toMatchObject({ answer: 'z', method: 'top-candidate', score: 0 });
  });

  it('sample_make: the query ends at "Answer:", examples carry " answer"; at most K candidates', () => {
    const c = Array.from({ length: 12 }, (_, i) => ({ answer: `c${i}`, confidence: 1 / (i + 1) }));
    const q = sampleMake('Why?', 'A cat.', c);
    expect(q).toBe('===\nContext: A cat.\n===\nQuestion: Why?\n===\nCandidates: c0(1.00), c1(0.50), c2(0.33), c3(0.25), c4(0.20), c5(0.17), c6(0.14), c7(0.12), c8(0.11), c9(0.10)\n===\nAnswer:');
    expect(sampleMake('Why?', 'A cat.', c, 'yes', 2)).toBe('===\nContext: A cat.\n===\nQuestion: Why?\n===\nCandidates: c0(1.00), c1(0.50)\n===\nAnswer: yes');
  });

  it('example candidates from answers (variant): distinct answers by count with min(1, n/3)', () => {
    expect(answerCandidates(['x', 'y', 'y', '', 'y', 'y', 'x'])).toEqual([{ answer: 'y', score: 1 }, { answer: 'x', score: 2 / 3 }]);
  });

  it('released files: a malformed entry names the file and the question', () => {
    const bad = join(tmp, 'bad-candidates.json');
    writeFileSync(bad, JSON.stringify({ '123': [{ answer: 'a', confidence: 0.5 }, { answer: 'b' }] }));
    expect(() => loadProphetCandidates(bad)).toThrow(InputError);
    expect(() => loadProphetCandidates(bad)).toThrow(/bad-candidates\.json.*123\.1.*confidence/);
    const notMap = join(tmp, 'list.json');
    writeFileSync(notMap, '[]');
    expect(() => loadProphetExamples(notMap)).toThrow(/expected a JSON object/);
  });

  it('data.json "prophet" resolves paths; "pool" gives the examples several question files (A-OKVQA test: train + val)', async () => {
    const val = json(join(AOK, 'val.json')) as { question_id: string }[];
    const train = json(join(AOK, 'train.json')) as { question_id: string }[];
    // an aok_test-style examples file: the similar questions come from train and val
    const similar = { [val[0]!.question_id]: [val[1]!.question_id, ...train.slice(0, 99).map((q) => q.question_id)] };
    writeFileSync(join(tmp, 'examples-test.json'), JSON.stringify(similar));
    writeFileSync(join(tmp, 'val-only.json'), JSON.stringify(val.slice(0, 1)));
    const candidates = json(join(AOK, 'candidates.json'));
    writeFileSync(join(tmp, 'data.json'), JSON.stringify({
      dataset: 'aokvqa',
      questions: 'val-only.json',
      prophet: {
        candidates: join(AOK, 'candidates.json'),
        examples: 'examples-test.json',
        captions: join(AOK, 'captions.json'),
        pool: [{ questions: join(AOK, 'train.json') }, { questions: join(AOK, 'val.json') }],
      },
    }));
    const data = loadDataFile(join(tmp, 'data.json'));
    expect(data.prophet?.examples).toBe(join(tmp, 'examples-test.json'));
    expect(data.prophet?.pool).toEqual([{ questions: join(AOK, 'train.json') }, { questions: join(AOK, 'val.json') }]);
    const ctx = makeCtx({ data, questionId: val[0]!.question_id });
    const sample = { dataset: 'aokvqa' as const, questionId: val[0]!.question_id, imageId: (val[0] as any).image_id, question: 'q' };
    const exs = await examplesProphet.run({ sample, fallback: undefined }, examplesProphet.params.parse({}), ctx);
    expect(exs).toHaveLength(100);
    expect(new Set(exs.map((e) => e.questionId))).toEqual(new Set(similar[val[0]!.question_id]));
    const fromVal = exs.find((e) => e.questionId === val[1]!.question_id)!;
    expect(fromVal.candidates?.map((c) => c.answer)).toEqual(candidates[val[1]!.question_id].map((c: { answer: string }) => c.answer));
    expect(fromVal.answer).toBe(mostAnswer((val[1] as any).direct_answers));
  });
});

describe('pre-flight', () => {
  const run = (data: string) =>
    okvqaIn(['run', 'prophet', '--data', data, '--out', join(tmp, `run-${Math.random()}`), '--cache', 'off', '--set', 'llm.backend=openai', '--set', 'llm.model=m'], {
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      OPENAI_API_KEY: 'sk-test',
    });

  it('no "prophet" files in data.json: exit 2 before any question, naming the key and the fix', async () => {
    const d = json(join(FIX, 'data.json'));
    delete d.prophet;
    writeFileSync(join(tmp, 'no-prophet.json'), JSON.stringify({ ...d, questions: join(FIX, d.questions), annotations: join(FIX, d.annotations), examples: { questions: join(FIX, d.examples.questions), annotations: join(FIX, d.examples.annotations) } }));
    const r = await run(join(tmp, 'no-prophet.json'));
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toMatch(/prophet\.candidates/);
    expect(r.stderr + r.stdout).toMatch(/data\.json "prophet"/);
  });

  it("another split's files: exit 2 with the coverage numbers", async () => {
    const d = json(join(FIX, 'data.json'));
    writeFileSync(join(tmp, 'wrong.json'), JSON.stringify({
      dataset: 'okvqa',
      questions: join(FIX, d.questions),
      annotations: join(FIX, d.annotations),
      examples: { questions: join(FIX, d.examples.questions), annotations: join(FIX, d.examples.annotations) },
      prophet: { candidates: join(AOK, 'candidates.json'), examples: join(AOK, 'examples.json'), captions: join(FIX, 'captions.json') },
    }));
    const r = await run(join(tmp, 'wrong.json'));
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toMatch(/0 of 12 questions are in .*candidates\.json/);
  });

  it('no example pool: exit 2 naming data.json "examples"', async () => {
    const d = json(join(FIX, 'data.json'));
    const abs = (x: string) => join(FIX, x);
    writeFileSync(join(tmp, 'no-pool.json'), JSON.stringify({
      dataset: 'okvqa',
      questions: abs(d.questions),
      annotations: abs(d.annotations),
      prophet: { candidates: abs(d.prophet.candidates), examples: abs(d.prophet.examples), captions: abs(d.prophet.captions) },
    }));
    const r = await run(join(tmp, 'no-pool.json'));
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toMatch(/no example pool/);
  });
});
