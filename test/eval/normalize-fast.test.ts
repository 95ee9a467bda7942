// The fast normalisation and per-question accuracy against the straightforward transcriptions of vqaEval.py they
// replaced (kept here as references), on random strings built from the characters the rules care about.
import { describe, expect, it } from 'vitest';
import { stableStringify } from '../../src/core/hash.js';
import { mulberry32 } from '../../src/core/random.js';
import { CONTRACTIONS } from '../../src/eval/contractions.js';
import { cleanWhitespace, normalizeAnswer, processDigitArticle, processPunctuation, pySplit, pyStrip } from '../../src/eval/normalize.js';
import { vqaQuestionAccuracy, type GtAnswer } from '../../src/eval/vqa-accuracy.js';

const PUNCT = [';', '/', '[', ']', '"', '{', '}', '(', ')', '=', '+', '\\', '_', '-', '>', '<', '@', '`', ',', '?', '!'];
const MANUAL: Record<string, string> = { none: '0', zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10' };

function refPunctuation(inText: string): string {
  let out = inText;
  const comma = /(\d)(,)(\d)/.test(inText);
  for (const p of PUNCT) {
    if (inText.includes(p + ' ') || inText.includes(' ' + p) || comma) out = out.replaceAll(p, '');
    else out = out.replaceAll(p, ' ');
  }
  let n = 0;
  return out.replace(/\.(?![0-9])/g, (m) => (n++ < 32 ? '' : m));
}

function refDigitArticle(inText: string): string {
  const words: string[] = [];
  for (let w of pySplit(inText.toLowerCase())) {
    if (Object.hasOwn(MANUAL, w)) w = MANUAL[w]!;
    if (!['a', 'an', 'the'].includes(w)) words.push(w);
  }
  return words.map((w) => (Object.hasOwn(CONTRACTIONS, w) ? CONTRACTIONS[w]! : w)).join(' ');
}

function refAccuracy(prediction: string, answers: GtAnswer[]): number {
  const clean = (s: string) => pyStrip(s.replaceAll('\n', ' ').replaceAll('\t', ' '));
  const gts = answers.map((a) => ({ ...a, answer: clean(a.answer) }));
  let res = clean(prediction);
  if (new Set(gts.map((a) => a.answer)).size > 1) {
    for (const a of gts) a.answer = refDigitArticle(refPunctuation(a.answer));
    res = refDigitArticle(refPunctuation(res));
  }
  const keys = gts.map((a) => stableStringify(a));
  let sum = 0;
  for (let i = 0; i < gts.length; i++) {
    let matching = 0;
    for (let j = 0; j < gts.length; j++) if (keys[j] !== keys[i] && gts[j]!.answer === res) matching++;
    sum += Math.min(1, matching / 3);
  }
  return sum / gts.length;
}

const PIECES = [...PUNCT, '.', '.', ' ', ' ', '  ', '\t', '\n', '\u00a0', '\u2003', '1', '0', ',', '3', 'a', 'an', 'the', 'The', 'two', 'none', 'dont', 'cant', 'x', 'Yes', 'é', 'İ', 'ß', "'"];
const rand = mulberry32(20261201);
function randomText(): string {
  const n = Math.floor(rand() * 12);
  let s = '';
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(rand() * PIECES.length)]!;
  return s;
}

describe('fast VQA normalisation equals the reference transcription', () => {
  it('processPunctuation, processDigitArticle, normalizeAnswer, cleanWhitespace on 20,000 random strings', () => {
    for (let i = 0; i < 20_000; i++) {
      const s = randomText();
      expect(processPunctuation(s), JSON.stringify(s)).toBe(refPunctuation(s));
      expect(processDigitArticle(s), JSON.stringify(s)).toBe(refDigitArticle(s));
      expect(normalizeAnswer(s), JSON.stringify(s)).toBe(refDigitArticle(refPunctuation(s)));
      expect(cleanWhitespace(s), JSON.stringify(s)).toBe(pyStrip(s.replaceAll('\n', ' ').replaceAll('\t', ' ')));
    }
    const periods = Array(40).fill('a.').join('');
    expect(processPunctuation(periods)).toBe(refPunctuation(periods));
  });

  it('per-question accuracy with duplicated answer objects and extra fields, on 3,000 random questions', () => {
    const words = ['cat', 'Cat', 'the cat', 'cat.', 'dog', ' cat', 'two', '2'];
    for (let i = 0; i < 3000; i++) {
      const answers: GtAnswer[] = Array.from({ length: 10 }, (_, j) => {
        const a: GtAnswer = { answer: words[Math.floor(rand() * words.length)]! };
        if (rand() < 0.7) a.answer_id = rand() < 0.3 ? 1 : j + 1;
        if (rand() < 0.5) a.answer_confidence = rand() < 0.5 ? 'yes' : 'maybe';
        return a;
      });
      const pred = words[Math.floor(rand() * words.length)]!;
      expect(vqaQuestionAccuracy(pred, answers)).toBe(refAccuracy(pred, answers));
    }
  });
});
