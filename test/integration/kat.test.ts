import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/answerer.js';
import type { Passage } from '../../src/core/artifacts.js';
import { scoreKatEmsFiles } from '../../src/eval/score-files.js';
import { exportFid, majorityAnswer } from '../../src/export/fid.js';
import { okvqa, repoRoot } from '../helpers/cli.js';

const KAT = join(repoRoot, 'test', 'fixtures', 'kat');
const data = join(KAT, 'data.json');
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-kat-e2e-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// no LLM server: the tiny profile's embedded GPT-2 answers; everything offline
const env = { OKVQA_CACHE_PATH: join(tmp, 'cache.sqlite'), OPENAI_BASE_URL: '', OPENAI_API_KEY: '' };
const trace = (dir: string) => readFileSync(join(dir, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('KAT end to end on the tiny profile (CLI, offline)', () => {
  it('okvqa run kat: every question answered with KAT-format passages and FiD attribution in the trace; export fid; kat-ems', () => {
    const out = join(tmp, 'kat');
    const r = okvqa(['run', 'kat', '--data', data, '--out', out, '--profile', 'tiny', '--no-progress'], env);
    expect(r.stderr).toContain('kat: 3 answered, 0 failed');
    expect(r.code).toBe(0);
    const t = trace(out);
    expect(t).toHaveLength(3);
    for (const q of t) {
      expect(q.nodes.windows.output).toHaveLength(q.questionId === '5723996' ? 9 : 12); // 600x400 → 576x384 → pad 32 → 4x3 crops; 512x512 → 384² → pad 64 → 3x3
      const passages = q.nodes.passages.output as Passage[];
      expect(passages).toHaveLength(41); // 40 explicit (31 distinct entities cycled) + 1 implicit
      for (const p of passages.slice(0, 40)) expect(p.text).toMatch(/^title: (.+) context: \1 is a .+$/);
      expect(passages[40]!.text).toMatch(/^candidate: .* evidence: /);
      expect(q.nodes.explicit.output.length).toBeLessThanOrEqual(40);
      expect(passages.slice(0, 40).map((p) => p.id)).toEqual(Array.from({ length: 40 }, (_, i) => passages[i % q.nodes.explicit.output.length]!.id));
      expect(q.prediction.method).toBe('fid');
      expect(q.prediction.attribution).toHaveLength(41);
      expect(q.nodes.answer.notes.reader).toMatchObject({ model: 'okvqa-tiny/t5', passages: 41, appendEos: false });
    }
    // caption from the file when it has one, else from the captioning model
    const byId = new Map(t.map((q) => [q.questionId, q]));
    expect(byId.get('3397615').nodes.captions.output[0].source).toBe('file');
    expect(byId.get('115115').nodes.captions.notes.captionSource).toBe('model');

    const train = join(tmp, 'train.json');
    const x = okvqa(['export', 'fid', out, '--out', train]);
    expect(x.code, x.stderr).toBe(0);
    const ex = JSON.parse(readFileSync(train, 'utf8'));
    expect(ex).toHaveLength(3);
    const first = ex.find((e: { id: string }) => e.id === '3397615');
    expect(first).toMatchObject({ question: 'Name the type of plant this is?', target: 'vine' });
    expect(first.answers).toHaveLength(10);
    const p0 = byId.get('3397615').nodes.passages.output as Passage[];
    expect(first.ctxs).toHaveLength(41);
    expect(first.ctxs[0]).toEqual({ title: p0[0]!.title, text: p0[0]!.body, score: p0[0]!.score });
    expect(`title: ${first.ctxs[0].title} context: ${first.ctxs[0].text}`).toBe(p0[0]!.text); // FiD's ctx format = KAT's string
    expect(exportFid(out, { rankScores: true }).examples[0]!.ctxs.map((c) => c.score).slice(0, 3)).toEqual([41, 40, 39]);
    expect(() => exportFid(out, { nodes: ['nope'] })).toThrow(/no node "nope" in the trace/);

    const ems = scoreKatEmsFiles(join(KAT, 'val_annotations.json'), join(out, 'predictions.json'));
    expect(ems).toMatchObject({ metric: 'kat-ems', n: 3 });
    expect(Object.keys(ems.perQuestion).sort()).toEqual(['115115', '3397615', '5723996']);
  }, 180_000);

  it("okvqa run kat-released: KAT's pickles to the reader", () => {
    const out = join(tmp, 'released');
    const r = okvqa(['run', 'kat-released', '--data', data, '--out', out, '--profile', 'tiny', '--no-progress'], env);
    expect(r.stderr).toContain('kat-released: 3 answered, 0 failed');
    for (const q of trace(out)) {
      const passages = q.nodes.passages.output as Passage[];
      expect(passages).toHaveLength(41);
      expect(passages[0]!.text).toMatch(/^title: entity \d\.0 context: entity \d\.0 is a thing number 0 of image \d$/);
      expect(passages[40]!.text).toMatch(/^candidate: answer\d evidence: evidence number \d for the question\.$/);
      expect(q.prediction.attribution).toHaveLength(41);
      expect(q.nodes.question.notes.questionFrom).toBe('kat'); // data.json names KAT's val2014.pkl
    }
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.katText).toEqual({ question: { from: 'kat', file: join(KAT, 'released', 'val2014.pkl') }, katEmsAnswers: { from: 'kat', file: join(KAT, 'released', 'val2014.pkl') } });
  }, 120_000);

  it('the ablations and the corrected merge are one-line overrides that compile', () => {
    const nodes = (name: string) => loadPipeline(name).nodes.map((n) => n.name);
    expect(nodes('kat-explicit-only')).toEqual(expect.arrayContaining(['windows', 'explicit', 'passages', 'answer']));
    expect(nodes('kat-explicit-only')).not.toContain('prompts');
    expect(nodes('kat-implicit-only')).not.toContain('windows');
    expect(loadPipeline('kat-max').nodes.find((n) => n.name === 'explicit')!.params).toMatchObject({ merge: 'max', k: 20, text: 'kat' });
    expect(loadPipeline('kat').nodes.find((n) => n.name === 'explicit')!.params).toMatchObject({ merge: 'kat', search: 'exact' });
    expect(majorityAnswer(['b', 'a', 'a', 'b', 'c'])).toBe('b');
  });
});
