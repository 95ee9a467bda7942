import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLeaderboard, placeRun, type PublishedResult } from '../../src/eval/leaderboard.js';
import { scorePredictions } from '../../src/eval/score-files.js';
import { okvqa, repoRoot } from '../helpers/cli.js';
import { itNeeds } from '../helpers/requires.js';

const SHARED = join(repoRoot, '..', 'shared', 'data');
const OKVQA_ANN = join(SHARED, 'okvqa', 'mscoco_val2014_annotations.json');
const PICA = join(repoRoot, 'test', 'fixtures', 'eval', 'pica-released', 'format_answer_VinVLTag_n16_repeat5.json');
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-leaderboard-'));

describe('the published results file (eval/leaderboard.json)', () => {
  const all = loadLeaderboard();

  it('carries the systems the issue names, each number with where it was read', () => {
    const names = all.map((r) => r.system).join('\n');
    for (const s of ['MUTAN + AN', 'Q-Only', 'PICa-Full', 'KAT large', 'REVIVE', 'Prophet', 'PromptCap']) expect(names).toContain(s);
    for (const r of all) {
      expect(r.source).toMatch(/^https:\/\//);
      expect(r.readAt.length).toBeGreaterThan(10);
    }
    expect(all.filter((r) => r.benchmark === 'aokvqa-da-test').length).toBeGreaterThan(0);
  });

  it('refuses an entry without its source', () => {
    const f = join(tmp, 'bad.json');
    writeFileSync(f, JSON.stringify({ systems: [{ system: 'x', venue: 'y', results: [{ benchmark: 'okvqa', accuracy: 50, annotations: 'v1.1', metric: 'vqa', readAt: 'somewhere' }] }] }));
    expect(() => loadLeaderboard(f)).toThrow(/"source" must be a non-empty string/);
  });
});

describe('placing a run', () => {
  const pub = (o: Partial<PublishedResult>): PublishedResult => ({ system: 's', venue: 'v', benchmark: 'okvqa', accuracy: 50, annotations: 'v1.1', metric: 'vqa', source: 'https://x', readAt: 'r', ...o });

  it('ranks by accuracy and says what differs: annotation version, metric, a subset of questions', () => {
    const p = placeRun({ benchmark: 'okvqa', accuracy: 52, metric: 'vqa', answers: 'raw', questions: 100 }, [
      pub({ system: 'A', accuracy: 60, annotations: 'v1.1' }),
      pub({ system: 'B', accuracy: 51, annotations: 'unstated', metric: 'kat-ems' }),
      pub({ system: 'C', accuracy: 40, annotations: 'v1.0-paper' }),
      pub({ system: 'D', accuracy: 45, annotations: 'raw' }),
      pub({ system: 'E', accuracy: 70, benchmark: 'aokvqa-da-val' }),
    ]);
    expect(p.rows.map((r) => r.system)).toEqual(['A', 'this run', 'B', 'D', 'C']);
    expect(p.rank).toBe(2);
    expect(p.of).toBe(5);
    expect(p.rows[0]!.caveats).toEqual(['v1.1 stemmed answers; this run: raw answers']);
    expect(p.rows[2]!.caveats).toEqual(["KAT's okvqa_ems metric, not the official VQA accuracy", 'annotation version not stated at the source']);
    expect(p.rows[3]!.caveats).toEqual([]);
    expect(p.rows[4]!.caveats[0]).toMatch(/OK-VQA paper's protocol/);
    expect(p.comparable).toBe(1);
    expect(p.runCaveats[0]).toBe('this run covers 100 of 5,046 questions');
    // The same v1.1 entry needs no caveat for a run scored on v1.1's stemmed answers.
    const s = placeRun({ benchmark: 'okvqa', accuracy: 52, metric: 'vqa', answers: 'stemmed', questions: 5046 }, [pub({ annotations: 'v1.1' })]);
    expect(s.rows.find((r) => !r.run)!.caveats).toEqual([]);
    expect(s.runCaveats).toEqual(['scored with the official VQA accuracy on v1.1 stemmed answers']);
  });
});

describe('okvqa eval: a released PICa prediction file among the published results', () => {
  itNeeds(!existsSync(OKVQA_ANN) && `${OKVQA_ANN} is missing (../shared)`)('scores it as the official vqaEval.py does (48.48 on raw answers) and places it, saying what differs', () => {
    const r = okvqa(['eval', '--annotations', OKVQA_ANN, '--predictions', PICA]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('overall accuracy: 48.48  (raw answers)');
    expect(r.stdout).toMatch(/Among published results — OK-VQA .*: #\d+ of \d+/);
    const lines = r.stdout.split('\n');
    const run = lines.findIndex((l) => l.includes('▶'));
    const pica = lines.findIndex((l) => l.includes('PICa-Full'));
    const prophet = lines.findIndex((l) => l.includes('Prophet'));
    expect(run).toBeGreaterThan(prophet); // 48.48 < 61.1
    expect(pica).toBe(run + 1); // 48.0 just below
    expect(lines[pica]).toContain('annotation version not stated at the source');
    expect(r.stdout).toMatch(/KAT large \(both knowledge.*okvqa_ems metric/);

    const j = okvqa(['eval', '--annotations', OKVQA_ANN, '--predictions', PICA, '--json']);
    const out = JSON.parse(j.stdout) as { overall: number; answers: string; leaderboard: { benchmark: string; rank: number; rows: { system: string; run?: boolean }[] }[] };
    expect(out.overall).toBe(48.48);
    expect(out.answers).toBe('raw');
    expect(out.leaderboard).toHaveLength(1);
    expect(out.leaderboard[0]!.benchmark).toBe('okvqa');
    expect(out.leaderboard[0]!.rows[out.leaderboard[0]!.rank - 1]!.run).toBe(true);

    const none = okvqa(['eval', '--annotations', OKVQA_ANN, '--predictions', PICA, '--no-leaderboard']);
    expect(none.stdout).not.toContain('Among published results');
    // Stemmed answers need v1.1 files: the shared annotations are raw only.
    const st = okvqa(['eval', '--annotations', OKVQA_ANN, '--predictions', PICA, '--answers', 'stemmed']);
    expect(st.code).not.toBe(0);
    expect(st.stderr).toMatch(/--answers stemmed needs OK-VQA v1\.1 annotations/);
  });

  itNeeds(!existsSync(join(SHARED, 'aokvqa', 'aokvqa_v1p0_val.json')) && 'A-OKVQA val is missing (../shared)')('A-OKVQA val: direct answer and multiple choice each placed', () => {
    const val = JSON.parse(readFileSync(join(SHARED, 'aokvqa', 'aokvqa_v1p0_val.json'), 'utf8')) as { question_id: string; choices: string[]; correct_choice_idx: number; direct_answers: string[] }[];
    const preds = Object.fromEntries(val.map((q, i) => [q.question_id, { direct_answer: i % 2 ? q.direct_answers[0]! : 'nothing', multiple_choice: q.choices[q.correct_choice_idx]! }]));
    const f = join(tmp, 'aok.json');
    writeFileSync(f, JSON.stringify(preds));
    const r = okvqa(['eval', '--annotations', join(SHARED, 'aokvqa', 'aokvqa_v1p0_val.json'), '--predictions', f, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { split: string; leaderboard: { benchmark: string; rows: { system: string }[] }[] };
    expect(out.split).toBe('val');
    expect(out.leaderboard.map((p) => p.benchmark)).toEqual(['aokvqa-da-val', 'aokvqa-mc-val']);
    expect(out.leaderboard[0]!.rows.map((x) => x.system)).toContain('Prophet (MCAN heuristics + GPT-3)');
  });
});

describe('OK-VQA v1.1 annotations: --answers raw | stemmed', () => {
  // Two questions in the v1.1 layout: `answer` stemmed, `raw_answer` as typed. Expected values by hand, from the official
  // rule (each of the ten answers left out in turn, min(1, matches among the other nine / 3), averaged):
  //   q1: ten × (ski | skiing), prediction "skiing": stemmed 0, raw 1.
  //   q2: two × (ski | skiing) + eight × (snow | snow), prediction "skiing": stemmed 0;
  //       raw: the two matching answers see one other match (1/3), the eight others see two (2/3): (2/3 + 16/3) / 10 = 0.6.
  const ans = (list: [string, string][]) => list.map(([answer, raw], i) => ({ answer, raw_answer: raw, answer_confidence: 'yes', answer_id: i + 1 }));
  const file = join(tmp, 'v11.json');
  writeFileSync(
    file,
    JSON.stringify({
      annotations: [
        { image_id: 1, question_id: 1, question_type: 'eight', answer_type: 'other', answers: ans(Array.from({ length: 10 }, () => ['ski', 'skiing'] as [string, string])) },
        { image_id: 2, question_id: 2, question_type: 'eight', answer_type: 'other', answers: ans([...Array.from({ length: 2 }, () => ['ski', 'skiing'] as [string, string]), ...Array.from({ length: 8 }, () => ['snow', 'snow'] as [string, string])]) },
      ],
    }),
  );
  const preds = [{ question_id: 1, answer: 'skiing' }, { question_id: 2, answer: 'skiing' }];

  it('scores the stemmed answer field by default and raw_answer with --answers raw', () => {
    const def = scorePredictions(file, preds);
    const stemmed = scorePredictions(file, preds, { answers: 'stemmed' });
    const raw = scorePredictions(file, preds, { answers: 'raw' });
    if (def.dataset !== 'okvqa' || stemmed.dataset !== 'okvqa' || raw.dataset !== 'okvqa') throw new Error('okvqa expected');
    expect(def.overall).toBe(0);
    expect(def.answers).toBe('stemmed');
    expect(stemmed.overall).toBe(0);
    expect(raw.overall).toBe(80);
    expect(raw.answers).toBe('raw');
    expect(raw.perQuestion).toEqual({ '1': 100, '2': 60 });
  });

  it('the CLI says which answers were scored', () => {
    const pf = join(tmp, 'v11-preds.json');
    writeFileSync(pf, JSON.stringify(preds));
    const r = okvqa(['eval', '--annotations', file, '--predictions', pf, '--answers', 'raw', '--no-leaderboard']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('overall accuracy: 80.00  (raw answers)');
  });
});
