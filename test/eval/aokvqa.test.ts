import { describe, expect, it } from 'vitest';
import { evaluateAokvqa } from '../../src/eval/aokvqa-accuracy.js';
import type { AokvqaRecord } from '../../src/data/aokvqa.js';

const rec = (id: string, da: string[], choices: string[], correct: number, difficult = false): AokvqaRecord => ({
  question_id: id, image_id: 1, question: 'q', choices, correct_choice_idx: correct, direct_answers: da, difficult_direct_answer: difficult,
});

describe('A-OKVQA evaluation', () => {
  const records = [
    rec('a', ['cat', 'cat', 'cat', 'cat', 'dog', 'dog', 'cat', 'cat', 'cat', 'cat'], ['cat', 'dog', 'cow', 'pig'], 0),
    rec('b', ['red', 'red', 'blue', 'blue', 'blue', 'blue', 'blue', 'blue', 'blue', 'blue'], ['red', 'blue', 'green', 'pink'], 1),
    rec('c', Array(10).fill('x'), ['x', 'y', 'z', 'w'], 2, true),
  ];

  it('DA: exact match min(1, n/3), difficult questions dropped, no normalisation', () => {
    const s = evaluateAokvqa(records, { a: { direct_answer: 'dog', multiple_choice: 'cat' }, b: { direct_answer: 'Blue', multiple_choice: 'blue' }, c: { direct_answer: 'x', multiple_choice: 'z' } });
    expect(s.nDirectAnswer).toBe(2);
    expect(s.directAnswer).toBeCloseTo(((2 / 3 + 0) / 2) * 100, 10);
    expect(s.nMultipleChoice).toBe(3);
    expect(s.multipleChoice).toBeCloseTo(100, 10);
  });

  it('MC prediction must be a valid choice; missing predictions are an error', () => {
    expect(() => evaluateAokvqa(records, { a: { multiple_choice: 'horse' }, b: { multiple_choice: 'red' }, c: { multiple_choice: 'x' } })).toThrow(/valid choice/);
    expect(() => evaluateAokvqa(records, { a: { direct_answer: 'cat' } })).toThrow(/question b has no direct_answer/);
  });
});
