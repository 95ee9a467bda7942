/**
 * The pieces of python/okvqa_py's trainer that are not the model: the official VQA metric it selects checkpoints by
 * (against the official script's own output), its answer decoding (against transformers.js, what reader.fid decodes
 * with), KAT's learning-rate schedule, FiD's random target per draw, and batching.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AutoTokenizer } from '@huggingface/transformers';
import { packagePaths } from '../../src/core/paths.js';
import { PYTHON, pythonMissing } from '../helpers/python.js';
import { describeNeeds } from '../helpers/requires.js';

const root = packagePaths().root;
const missing = pythonMissing(['torch']);
const T5 = join(root, 'assets', 'models', 'okvqa-tiny', 't5');

function py(script: string, input?: string): string {
  const r = spawnSync(PYTHON, ['-c', script], {
    cwd: root, encoding: 'utf8', input, env: { ...process.env, PYTHONPATH: join(root, 'python'), OMP_NUM_THREADS: '1' }, maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

describeNeeds(missing)('okvqa_py training helpers', () => {
  it('vqa_metric equals the official VQA evaluator on every question of the 1,500-question adversarial fixture', () => {
    const out = py(`
import json
from okvqa_py.vqa_metric import vqa_accuracy
F = 'test/fixtures/eval/'
ann = json.load(open(F + 'adversarial-annotations.json'))['annotations']
pred = {p['question_id']: p['answer'] for p in json.load(open(F + 'adversarial-predictions.json'))}
exp = json.load(open(F + 'adversarial-expected.json'))['perQuestion']
bad = [a['question_id'] for a in ann if round(100 * vqa_accuracy(pred[a['question_id']], a['answers']), 2) != exp[str(a['question_id'])]]
print(json.dumps({'n': len(ann), 'bad': bad[:5], 'nbad': len(bad),
  'strings': [vqa_accuracy('two', ['2'] * 9 + ['3']), vqa_accuracy('two', ['2'] * 10), vqa_accuracy('Red.', ['red'] * 8 + ['blue'] * 2), vqa_accuracy('blue', ['red'] * 8 + ['blue'] * 2)]}))
`);
    const r = JSON.parse(out);
    expect(r.n).toBe(1500);
    expect(r.nbad, JSON.stringify(r.bad)).toBe(0);
    // plain answer strings are distinct answer objects: 2 of 10 blue → each left-out set holds 1 or 2 → (8·2/3 + 2·1/3)/10
    expect(r.strings[0]).toBe(1);
    expect(r.strings[1]).toBe(0); // the script's quirk: ten identical answers → nothing is normalised, 'two' ≠ '2'
    expect(r.strings[2]).toBe(1);
    expect(r.strings[3]).toBeCloseTo((8 * (2 / 3) + 2 * (1 / 3)) / 10, 12);
  });

  it('decodes token ids as reader.fid does (transformers.js decode, special tokens skipped, trimmed)', async () => {
    const tok = await AutoTokenizer.from_pretrained(T5, { local_files_only: true } as never);
    const texts = ["it's red .", 'What color is the dog ?', "don't , won't !", 'a  b', 'coffee', 'x#y (z)', 'the cup'];
    const seqs: number[][] = texts.map((t) => tok.encode(t, { add_special_tokens: true }) as number[]);
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 200; i++) seqs.push(Array.from({ length: 1 + Math.floor(rand() * 9) }, () => Math.floor(rand() * 326)));
    const expected = seqs.map((s) => tok.decode(s, { skip_special_tokens: true }).trim());
    const got = JSON.parse(py(`
import json, sys
from okvqa_py.decode import AnswerDecoder
d = AnswerDecoder(${JSON.stringify(T5)})
print(json.dumps([d.decode(s) for s in json.load(sys.stdin)]))
`, JSON.stringify(seqs)));
    expect(got).toEqual(expected);
  });

  it("KAT's schedule, FiD's random target per draw, a fixed target when exported, batch layout, exports without ids refused", () => {
    const r = JSON.parse(py(`
import json, random
from okvqa_py.train import warmup_linear
from okvqa_py.data import ReaderDataset, collate, load_examples, ExportError
import tempfile, os
p = os.path.join(tempfile.mkdtemp(), 'x.json')
json.dump([{'id': '1', 'question': 'q', 'answers': ['a'], 'ctxs': []}], open(p, 'w'))
try:
    load_examples(p)
    refused = None
except ExportError as e:
    refused = str(e)
f = warmup_linear(1000, 8000)
ex = {'id': 'q', 'answers': ['red'] * 8 + ['blue'] * 2, 'answer_ids': [[5, 1]] * 8 + [[6, 7, 1]] * 2,
      'passage_ids': [[3, 4, 5], [3, 4]], 'regions': [[0.5] * 6, [0.25] * 6]}
ds = ReaderDataset([ex], rng=random.Random(1))
draws = [tuple(ds[0]['target']) for _ in range(4000)]
fixed = ReaderDataset([dict(ex, target='blue')])
ex2 = {'id': 'r', 'answers': ['x'], 'answer_ids': [[9, 1]], 'passage_ids': [[3, 4, 5, 6, 7]], 'regions': [[1.0] * 6]}
b = collate([fixed[0], ReaderDataset([ex2])[0]], text_maxlength=4, with_regions=True)
print(json.dumps({'lr': [f(0), f(500), f(1000), f(4500), f(8000), f(9000)],
  'red': draws.count((5, 1)) / len(draws), 'other': sorted(set(draws)),
  'fixed': [fixed[0]['target'] for _ in range(5)],
  'ids': b['input_ids'].tolist(), 'mask': b['attention_mask'].tolist(), 'labels': b['labels'].tolist(),
  'rmask': b['region_mask'].tolist(), 'rshape': list(b['region_features'].shape), 'refused': refused}))
`));
    expect(r.lr).toEqual([0, 0.5, 1, 0.5, 0, 0]);
    expect(r.red).toBeGreaterThan(0.77);
    expect(r.red).toBeLessThan(0.83);
    expect(r.other).toEqual([[5, 1], [6, 7, 1]]);
    expect(r.fixed).toEqual(Array(5).fill([6, 7, 1]));
    // passages cut to text_maxlength, padded to the longest; a question with fewer passages gets a fully masked row
    expect(r.ids).toEqual([[[3, 4, 5, 0], [3, 4, 0, 0]], [[3, 4, 5, 6], [0, 0, 0, 0]]]);
    expect(r.mask).toEqual([[[1, 1, 1, 0], [1, 1, 0, 0]], [[1, 1, 1, 1], [0, 0, 0, 0]]]);
    expect(r.labels[1]).toEqual([9, 1, -100]);
    expect(r.rmask).toEqual([[1, 1], [1, 0]]);
    expect(r.rshape).toEqual([2, 2, 6]);
    // an export without token ids is refused, naming the fix
    expect(r.refused).toMatch(/okvqa export fid --tokenizer/);
  });
});
