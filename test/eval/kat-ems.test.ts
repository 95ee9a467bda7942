import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packagePaths } from '../../src/core/paths.js';
import { evaluateKatEms, okvqaEms, squadNormalize } from '../../src/eval/kat-ems.js';
import { pyRound } from '../../src/eval/normalize.js';
import { loadVqaAnnotations } from '../../src/data/okvqa.js';
import { okvqa } from '../helpers/cli.js';
import { pythonMissing, runPython } from '../helpers/python.js';
import { itNeeds } from '../helpers/requires.js';

const EVAL = join(packagePaths().root, 'test', 'fixtures', 'eval');
const ann = loadVqaAnnotations(join(EVAL, 'adversarial-annotations.json'));
const preds = JSON.parse(readFileSync(join(EVAL, 'adversarial-predictions.json'), 'utf8')) as { question_id: number; answer: string }[];
const expected = JSON.parse(readFileSync(join(EVAL, 'kat-ems', 'expected.json'), 'utf8')) as { perQuestion: Record<string, number>; mean: number };

describe("kat-ems: KAT's okvqa_ems", () => {
  it('normalises as SQuAD: lower, punctuation, articles, whitespace', () => {
    expect(squadNormalize('The  Apple-Pie!')).toBe('applepie');
    expect(squadNormalize('an\u00a0ant\tthere')).toBe('ant there');
    expect(squadNormalize('theatre a.m.')).toBe('theatre am');
    expect(okvqaEms('Dogs', ['dogs', 'dog', 'the dogs', 'cat'])).toBe(2 / 3);
    expect(okvqaEms('dog', Array(10).fill('dog'))).toBe(1);
  });

  it('equals KAT\'s src/evaluation.py on the 1,500-question adversarial set (committed Python output)', () => {
    const s = evaluateKatEms(ann, preds);
    expect(s.n).toBe(1500);
    for (const a of ann) {
      const id = String(a.question_id);
      expect(s.perQuestion[id], id).toBe(pyRound(100 * expected.perQuestion[id]!, 2));
    }
    expect(s.overall).toBe(pyRound(100 * expected.mean, 2));
  });

  it('okvqa eval --metric kat-ems --json (built CLI): overall in percent, perQuestion', () => {
    const args = ['eval', '--annotations', join(EVAL, 'adversarial-annotations.json'), '--predictions', join(EVAL, 'adversarial-predictions.json'), '--metric', 'kat-ems'];
    const r = okvqa([...args, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ metric: 'kat-ems', n: 1500, overall: pyRound(100 * expected.mean, 2) });
    expect(s.perQuestion['1005']).toBe(pyRound(100 * expected.perQuestion['1005']!, 2));
    expect(okvqa([...args.slice(0, -1), 'bleu']).stderr).toMatch(/--metric must be vqa or kat-ems/);
  });

  const missing = pythonMissing();
  itNeeds(missing)(`the committed fixture is what the generator writes now ${missing ? `(skipped: ${missing})` : ''}`, () => {
    const script = readFileSync(join(EVAL, 'kat-ems', 'generate.py'), 'utf8').replace(/json\.dump\(out, open\([^\n]*\n?$/, 'print(json.dumps(out))\n');
    const fresh = JSON.parse(runPython(`__file__ = ${JSON.stringify(join(EVAL, 'kat-ems', 'generate.py'))}\n${script}`));
    expect(fresh.perQuestion).toEqual(expected.perQuestion);
  });
});
