import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateVqa, vqaQuestionAccuracy, type GtAnswer, type VqaGroundTruth, type VqaPrediction } from '../../src/eval/vqa-accuracy.js';
import { normalizeAnswer, processPunctuation, pyRound } from '../../src/eval/normalize.js';
import { itNeeds } from '../helpers/requires.js';

const gt = (answers: string[]): GtAnswer[] => answers.map((answer, i) => ({ answer, answer_id: i + 1 }));
const acc = (pred: string, answers: string[]) => vqaQuestionAccuracy(pred, gt(answers));

describe('official VQA accuracy', () => {
  it('leave-one-out min(1, matches/3) averaged over the ten answers', () => {
    expect(acc('cat', Array(10).fill('cat'))).toBe(1);
    // 3 of 10 say "dog": leaving one of them out leaves 2 matches (2/3), leaving another out leaves 3 (1).
    const answers = ['dog', 'dog', 'dog', ...Array(7).fill('cat')];
    expect(acc('dog', answers)).toBeCloseTo((3 * (2 / 3) + 7 * 1) / 10, 12);
    expect(acc('dog', ['dog', ...Array(9).fill('cat')])).toBeCloseTo((0 + 9 * (1 / 3)) / 10, 12);
    expect(acc('bird', answers)).toBe(0);
  });

  it('normalises nothing when the ten answers are identical (the shortcut)', () => {
    expect(acc('Cat', Array(10).fill('cat'))).toBe(0);
    expect(acc('the cat', Array(10).fill('cat'))).toBe(0);
    expect(acc('two', Array(10).fill('2'))).toBe(0);
    // …but whitespace is always cleaned
    expect(acc(' cat\n', Array(10).fill('cat'))).toBe(1);
  });

  it('normalises answers and prediction when the answers differ', () => {
    const mixed = (a: string) => [...Array(9).fill(a), 'something else'];
    expect(acc('Cat', mixed('cat'))).toBe(1);
    expect(acc('the cat', mixed('a cat'))).toBe(1);
    expect(acc('two', mixed('2'))).toBe(1);
    expect(acc('none', mixed('0'))).toBe(1);
    expect(acc('dont', mixed("don't"))).toBe(1);
    expect(acc('dont', mixed('don’t'))).toBe(0); // the table uses ASCII apostrophes
    expect(acc('U.S.A.', mixed('usa'))).toBe(1);
    expect(acc('3.5', mixed('3.5'))).toBe(1);
    expect(acc('1,000', mixed('1000'))).toBe(1);
    expect(acc('yes!', mixed('yes'))).toBe(1);
    expect(acc('left\nright', mixed('left right'))).toBe(1);
  });

  it('punctuation rules: a, b / 1,000 / periods before digits / 32-period limit', () => {
    expect(processPunctuation('a, b')).toBe('a b'); // ", " present: commas removed
    expect(processPunctuation('a,b')).toBe('a b'); // no space around: replaced by a space
    expect(processPunctuation('1,000')).toBe('1000'); // digit,digit: every punct removed
    expect(processPunctuation('x-y 1,0')).toBe('xy 10');
    expect(processPunctuation('3.5')).toBe('3.5');
    expect(processPunctuation('u.s.a.')).toBe('usa');
    expect(processPunctuation('.5')).toBe('.5');
    const many = Array(40).fill('a.').join('');
    expect(processPunctuation(many)).toBe('a'.repeat(32) + 'a.'.repeat(8));
    expect(normalizeAnswer('The  Two Dogs')).toBe('2 dogs');
    expect(normalizeAnswer('an apple a day')).toBe('apple day');
  });

  it('Python round(x, 2): ties to even on the exact binary value', () => {
    expect(pyRound(0.125)).toBe(0.12);
    expect(pyRound(0.375)).toBe(0.38);
    expect(pyRound(2.675)).toBe(2.67); // 2.675 is below the tie in binary
    expect(pyRound(13.98456)).toBe(13.98);
    expect(pyRound(100 * (2 / 3))).toBe(66.67);
  });

  const python = ['python3', 'python'].find((cmd) => {
    try {
      execFileSync(cmd, ['-c', 'pass']);
      return true;
    } catch {
      return false;
    }
  });
  itNeeds(!python && 'no python3 on PATH')('pyRound agrees with Python on random and tie values', () => {
    let s = 7;
    const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
    const xs = [...Array.from({ length: 300 }, () => rnd() * 100), ...Array.from({ length: 100 }, (_, i) => (2 * i + 1) / 8), ...Array.from({ length: 100 }, (_, i) => i / 1000 + 0.005)];
    const out = execFileSync(python!, ['-c', 'import json,sys; print(json.dumps([round(x, 2) for x in json.load(sys.stdin)]))'], { input: JSON.stringify(xs) });
    expect(xs.map((x) => pyRound(x))).toEqual(JSON.parse(out.toString()));
  });

  it('matches the official evaluator on an adversarial set (expected values produced by vqaEval.py)', () => {
    const dir = join(import.meta.dirname, '../fixtures/eval');
    const anns = JSON.parse(readFileSync(join(dir, 'adversarial-annotations.json'), 'utf8')).annotations as VqaGroundTruth[];
    const preds = JSON.parse(readFileSync(join(dir, 'adversarial-predictions.json'), 'utf8')) as VqaPrediction[];
    const expected = JSON.parse(readFileSync(join(dir, 'adversarial-expected.json'), 'utf8')) as { overall: number; perQuestion: Record<string, number>; perAnswerType: Record<string, number>; perQuestionType: Record<string, number> };
    const score = evaluateVqa(anns, preds);
    expect(score.overall).toBe(expected.overall);
    expect(score.perQuestion).toEqual(expected.perQuestion);
    expect(score.perAnswerType).toEqual(expected.perAnswerType);
    expect(score.perQuestionType).toEqual(expected.perQuestionType);
    expect(score.n).toBe(1500);
  });

  it('requires predictions for exactly the annotated questions', () => {
    const anns: VqaGroundTruth[] = [{ question_id: 1, answers: gt(Array(10).fill('a')) }, { question_id: 2, answers: gt(Array(10).fill('b')) }];
    expect(() => evaluateVqa(anns, [{ question_id: 1, answer: 'a' }])).toThrow(/1 annotated question\(s\) have no prediction \(2\)/);
    expect(() => evaluateVqa(anns, [{ question_id: 1, answer: 'a' }, { question_id: 2, answer: 'b' }, { question_id: 3, answer: 'c' }])).toThrow(/not annotated \(3\)/);
    const ok = evaluateVqa(anns, [{ question_id: 2, answer: 'b' }, { question_id: 1, answer: 'x' }]);
    expect(ok.overall).toBe(50);
    expect(ok.perQuestion).toEqual({ '1': 0, '2': 100 });
    expect(ok.perQuestionType).toEqual({});
  });
});

describe('optional OK-VQA v1.1-style stemming', () => {
  it('is off by default and, when on, stems the prediction only', async () => {
    const { stemAnswer } = await import('../../src/eval/stem.js');
    expect(stemAnswer('skiing')).toBe('ski');
    expect(stemAnswer('dogs')).toBe('dog');
    expect(stemAnswer('hot dogs')).toBe('hot dog');
    const answers = gt([...Array(9).fill('ski'), 'snow']);
    expect(vqaQuestionAccuracy('skiing', answers)).toBe(0);
    expect(vqaQuestionAccuracy('skiing', answers, { transformPrediction: stemAnswer })).toBe(1);
  });
});
