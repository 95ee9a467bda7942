import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../core/errors.js';
import type { DataSources } from '../../data/sources.js';
import { scoreKatEmsFiles, scorePredictionFiles, hasStemmedAnswers } from '../../eval/score-files.js';
import { formatScore } from '../format.js';

interface EvalOpts {
  annotations: string;
  predictions: string;
  questions?: string;
  dataset?: string;
  stem?: boolean;
  json?: boolean;
  metric: string;
  answerField: string;
  answers?: string;
  leaderboard: string | boolean;
  data?: string;
}

/**
 * kat-ems's gold answers: KAT's `{split}.pkl` (img_answers, as KAT's evaluation scored against) when `--data` names it
 * (`"kat": {"questions"}`), or when the run's manifest.json beside the predictions says its KAT-metric answers come from
 * it (a `kat-released` run whose data.json named it); otherwise the annotation file's. The data loaders (zod, pickles)
 * load only here, so plain `okvqa eval` stays light.
 */
async function katGold(predictions: string, dataPath: string | undefined): Promise<{ answers: Map<string, string[]>; file: string } | undefined> {
  let data: DataSources | undefined;
  let file: string | undefined;
  const { loadDataFile, loadSamples } = await import('../../data/data-file.js');
  if (dataPath) {
    data = loadDataFile(dataPath);
    file = data.kat?.questions;
  } else {
    const manifest = join(dirname(predictions), 'manifest.json');
    if (!existsSync(manifest)) return undefined;
    let m: { data?: DataSources; katText?: { katEmsAnswers?: { from?: string; file?: string } } };
    try {
      m = JSON.parse(readFileSync(manifest, 'utf8')) as typeof m;
    } catch {
      return undefined;
    }
    if (m.katText?.katEmsAnswers?.from !== 'kat') return undefined;
    data = m.data;
    file = m.katText.katEmsAnswers.file;
  }
  if (!data || !file) return undefined;
  if (!data.questions) throw new InputError('kat-ems: KAT\'s {split}.pkl is named, but no OK-VQA questions file to match its keys with ("questions")', dataPath ?? predictions);
  const { katAnswersByQuestionId } = await import('../../data/kat-released.js');
  return { answers: katAnswersByQuestionId(file, loadSamples({ ...data, annotations: undefined, images: undefined })).answers, file };
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('score predictions exactly as the official evaluators (VQA vqaEval.py for OK-VQA, eval_predictions.py for A-OKVQA) and place them among published results')
    .requiredOption('--annotations <file>', 'OK-VQA annotation JSON (v1.0, or v1.1 with stemmed answer + raw_answer), or the A-OKVQA split JSON')
    .requiredOption('--predictions <file>', 'OK-VQA: [{"question_id","answer"}]; A-OKVQA: {qid: {"direct_answer","multiple_choice"}}')
    .option('--questions <file>', 'OK-VQA questions JSON (checked against the annotations)')
    .option('--dataset <name>', 'okvqa or aokvqa (default: from the annotation file)')
    .option('--answers <version>', "OK-VQA: score against raw answers (v1.1's raw_answer; v1.0's answers are raw) or v1.1's stemmed answers (default: the file's \"answer\" field, as the official script)")
    .option('--stem', 'OK-VQA v1.1-style stemming of predictions before matching (NOT the official metric; off by default)')
    .option('--metric <name>', "vqa (official, default) or kat-ems (KAT's okvqa_ems: SQuAD normalisation, min(matches/3, 1); OK-VQA)", 'vqa')
    .option('--answer-field <field>', 'kat-ems: compare with each answer\'s "answer" (default) or "raw_answer"', 'answer')
    .option('--data <data.json>', "kat-ems: gold answers from KAT's {split}.pkl when this data.json names it (\"kat\": {\"questions\"}); default: the run's manifest.json beside --predictions")
    .option('--leaderboard <file>', 'published results to place the run among (default: the packaged eval/leaderboard.json)')
    .option('--no-leaderboard', 'do not place the run among published results')
    .option('--json', 'print the full result as JSON')
    .action(async (opts: EvalOpts) => {
      if (opts.metric !== 'vqa' && opts.metric !== 'kat-ems') throw new Error(`--metric must be vqa or kat-ems, got "${opts.metric}"`);
      if (opts.answers !== undefined && opts.answers !== 'raw' && opts.answers !== 'stemmed') throw new Error(`--answers must be raw or stemmed, got "${opts.answers}"`);
      const answers = opts.answers as 'raw' | 'stemmed' | undefined;
      const lb = await import('../../eval/leaderboard.js');
      const place = (runs: import('../../eval/leaderboard.js').RunScore[]) => {
        if (opts.leaderboard === false) return [];
        const published = lb.loadLeaderboard(typeof opts.leaderboard === 'string' ? opts.leaderboard : undefined);
        return runs.map((r) => lb.placeRun(r, published));
      };
      const print = (text: string, json: Record<string, unknown>, placements: import('../../eval/leaderboard.js').Placement[]) => {
        if (opts.json) process.stdout.write(JSON.stringify(opts.leaderboard === false ? json : { ...json, leaderboard: placements }) + '\n');
        else process.stdout.write([text, ...placements.map((p) => '\n' + lb.formatPlacement(p))].join('\n') + '\n');
      };
      if (opts.metric === 'kat-ems') {
        if (opts.answerField !== 'answer' && opts.answerField !== 'raw_answer') throw new Error(`--answer-field must be answer or raw_answer, got "${opts.answerField}"`);
        if (opts.stem) throw new Error('--stem applies to the vqa metric only');
        if (answers) throw new Error('kat-ems: choose the answer version with --answer-field answer|raw_answer');
        const gold = await katGold(opts.predictions, opts.data);
        const s = scoreKatEmsFiles(opts.annotations, opts.predictions, { answerField: opts.answerField, ...(gold ? { gold } : {}) });
        const from = s.answers?.from === 'kat' ? `KAT's ${s.answers.file}` : `${opts.annotations} ("${opts.answerField}")`;
        const { readVqaAnnotations } = await import('../../data/eval-files.js');
        const stemmed = !gold && opts.answerField === 'answer' && hasStemmedAnswers(readVqaAnnotations(opts.annotations));
        const placements = place([{ benchmark: 'okvqa', accuracy: s.overall, metric: 'kat-ems', answers: stemmed ? 'stemmed' : 'raw', questions: s.n }]);
        print(`OK-VQA  questions: ${s.n}\ngold answers: ${from}\nKAT okvqa_ems accuracy: ${s.overall.toFixed(2)}`, s as unknown as Record<string, unknown>, placements);
        return;
      }
      const stemAnswer = opts.stem ? (await import('../../eval/stem.js')).stemAnswer : undefined;
      if (opts.dataset && opts.dataset !== 'okvqa' && opts.dataset !== 'aokvqa') throw new Error(`--dataset must be okvqa or aokvqa, got "${opts.dataset}"`);
      const score = scorePredictionFiles(opts.annotations, opts.predictions, {
        ...(opts.dataset ? { dataset: opts.dataset as 'okvqa' | 'aokvqa' } : {}),
        ...(opts.questions ? { questions: opts.questions } : {}),
        ...(stemAnswer ? { transformPrediction: stemAnswer } : {}),
        ...(answers ? { answers } : {}),
      });
      // Stemming predictions is not a published protocol: no placement then.
      const placements = opts.stem ? [] : place(lb.runScoresOf(score));
      print(formatScore(score), score as unknown as Record<string, unknown>, placements);
    });
}
