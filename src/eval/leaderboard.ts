/**
 * Where a scored run stands among published results (`eval/leaderboard.json`), and what makes a comparison unequal:
 * another annotation version (OK-VQA v1.0 raw answers, v1.1 stemmed answers, the OK-VQA paper's own protocol), another
 * metric (KAT's okvqa_ems), a source that does not say, or a run over part of the evaluation set.
 *
 * The data file is read and checked by hand (no zod: `okvqa eval` stays light), and every entry must carry its source.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { packagePaths } from '../core/paths.js';

export const BENCHMARKS = ['okvqa', 'aokvqa-da-val', 'aokvqa-da-test', 'aokvqa-mc-val', 'aokvqa-mc-test'] as const;
export type Benchmark = (typeof BENCHMARKS)[number];

/** Answer versions a published OK-VQA number was scored against (`unstated` when the source does not say). */
export type PublishedAnnotations = 'v1.0-paper' | 'v1.1' | 'raw' | 'unstated';
export type PublishedMetric = 'vqa' | 'kat-ems' | 'aokvqa' | 'unstated';

export interface PublishedResult {
  system: string;
  venue: string;
  benchmark: Benchmark;
  accuracy: number;
  annotations: PublishedAnnotations;
  metric: PublishedMetric;
  /** The paper or repository the number belongs to. */
  source: string;
  /** Where exactly the number was read. */
  readAt: string;
  note?: string;
}

/** Full size of each evaluation set (a run over fewer questions is not comparable). */
export const BENCHMARK_SIZE: Partial<Record<Benchmark, number>> = { okvqa: 5046, 'aokvqa-da-val': 1145, 'aokvqa-mc-val': 1145 };

const BENCHMARK_LABEL: Record<Benchmark, string> = {
  okvqa: 'OK-VQA (5,046 questions on COCO val2014)',
  'aokvqa-da-val': 'A-OKVQA direct answer, val',
  'aokvqa-da-test': 'A-OKVQA direct answer, test',
  'aokvqa-mc-val': 'A-OKVQA multiple choice, val',
  'aokvqa-mc-test': 'A-OKVQA multiple choice, test',
};

export function defaultLeaderboardPath(): string {
  return join(packagePaths().root, 'eval', 'leaderboard.json');
}

const ANNOTATIONS: readonly string[] = ['v1.0-paper', 'v1.1', 'raw', 'unstated'];
const METRICS: readonly string[] = ['vqa', 'kat-ems', 'aokvqa', 'unstated'];

/** Read and check a leaderboard file: every result needs a benchmark, an accuracy in [0, 100] and its source. */
export function loadLeaderboard(path = defaultLeaderboardPath()): PublishedResult[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`cannot read the leaderboard file: ${(err as Error).message}`, path);
  }
  const systems = (data as { systems?: unknown } | null)?.systems;
  if (!Array.isArray(systems)) throw new InputError('expected {"systems": [...]}', path);
  const out: PublishedResult[] = [];
  systems.forEach((s: unknown, i) => {
    const sys = s as { system?: unknown; venue?: unknown; results?: unknown };
    if (typeof sys?.system !== 'string' || typeof sys.venue !== 'string' || !Array.isArray(sys.results)) {
      throw new InputError('each system needs "system", "venue" and "results"', path, `systems.${i}`);
    }
    sys.results.forEach((r: unknown, j) => {
      const at = `systems.${i}.results.${j}`;
      const x = r as Record<string, unknown>;
      const str = (k: string) => {
        if (typeof x?.[k] !== 'string' || !(x[k] as string).trim()) throw new InputError(`"${k}" must be a non-empty string`, path, `${at}.${k}`);
        return x[k] as string;
      };
      const benchmark = str('benchmark');
      if (!(BENCHMARKS as readonly string[]).includes(benchmark)) throw new InputError(`unknown benchmark "${benchmark}" (one of ${BENCHMARKS.join(', ')})`, path, `${at}.benchmark`);
      if (typeof x.accuracy !== 'number' || !(x.accuracy >= 0 && x.accuracy <= 100)) throw new InputError('"accuracy" must be a number in [0, 100]', path, `${at}.accuracy`);
      const annotations = str('annotations');
      if (!ANNOTATIONS.includes(annotations)) throw new InputError(`"annotations" must be one of ${ANNOTATIONS.join(', ')}`, path, `${at}.annotations`);
      const metric = str('metric');
      if (!METRICS.includes(metric)) throw new InputError(`"metric" must be one of ${METRICS.join(', ')}`, path, `${at}.metric`);
      const res: PublishedResult = {
        system: sys.system as string,
        venue: sys.venue as string,
        benchmark: benchmark as Benchmark,
        accuracy: x.accuracy,
        annotations: annotations as PublishedAnnotations,
        metric: metric as PublishedMetric,
        source: str('source'),
        readAt: str('readAt'),
      };
      if (typeof x.note === 'string') res.note = x.note;
      out.push(res);
    });
  });
  return out;
}

/** What a run was scored as. `answers` is the OK-VQA answer version (`raw` or v1.1 `stemmed`); unused for A-OKVQA. */
export interface RunScore {
  benchmark: Benchmark;
  accuracy: number;
  metric: 'vqa' | 'kat-ems' | 'aokvqa';
  answers?: 'raw' | 'stemmed';
  questions: number;
  label?: string;
}

export interface PlacementRow {
  system: string;
  venue: string;
  accuracy: number;
  /** True for the run being placed. */
  run?: boolean;
  /** Why this published number is not scored exactly as the run was (empty: same protocol). */
  caveats: string[];
  source?: string;
  readAt?: string;
  note?: string;
}

export interface Placement {
  benchmark: Benchmark;
  benchmarkLabel: string;
  /** 1-based position of the run among the published results plus itself (ties: the run goes first). */
  rank: number;
  of: number;
  /** Published results sorted by accuracy, the run among them. */
  rows: PlacementRow[];
  /** Caveats about the run itself (a subset of the questions, …). */
  runCaveats: string[];
  /** How many rows are scored under the same protocol as the run. */
  comparable: number;
}

function answersLabel(a: 'raw' | 'stemmed' | undefined): string {
  return a === 'stemmed' ? 'v1.1 stemmed answers' : 'raw answers';
}

function caveatsFor(p: PublishedResult, run: RunScore): string[] {
  const c: string[] = [];
  if (run.benchmark === 'okvqa') {
    if (p.metric === 'kat-ems' && run.metric !== 'kat-ems') c.push("KAT's okvqa_ems metric, not the official VQA accuracy");
    else if (p.metric === 'vqa' && run.metric === 'kat-ems') c.push('official VQA accuracy, not okvqa_ems');
    else if (p.metric === 'unstated') c.push('metric not stated at the source');
    if (p.annotations === 'v1.0-paper') c.push("the OK-VQA paper's protocol (5 answers used twice, Porter-stemmed)");
    else if (p.annotations === 'unstated') c.push('annotation version not stated at the source');
    else if (p.annotations === 'v1.1' && run.answers !== 'stemmed') c.push(`v1.1 stemmed answers; this run: ${answersLabel(run.answers)}`);
    else if (p.annotations === 'raw' && run.answers === 'stemmed') c.push('raw answers; this run: v1.1 stemmed answers');
  } else if (p.metric === 'unstated') {
    c.push('metric not stated at the source');
  }
  if (p.note && /secondary source/i.test(p.note)) c.push('secondary source');
  if (p.note && /split not confirmed/i.test(p.note)) c.push('split not confirmed');
  return c;
}

/**
 * Place a run among the published results of its benchmark. Rows are sorted by accuracy (highest first); every row says
 * what keeps it from being an exact comparison.
 */
export function placeRun(run: RunScore, published: readonly PublishedResult[]): Placement {
  const rows: PlacementRow[] = published
    .filter((p) => p.benchmark === run.benchmark)
    .map((p) => {
      const row: PlacementRow = { system: p.system, venue: p.venue, accuracy: p.accuracy, caveats: caveatsFor(p, run), source: p.source, readAt: p.readAt };
      if (p.note) row.note = p.note;
      return row;
    });
  const runRow: PlacementRow = { system: run.label ?? 'this run', venue: '', accuracy: run.accuracy, run: true, caveats: [] };
  rows.push(runRow);
  rows.sort((a, b) => b.accuracy - a.accuracy || (a.run ? -1 : b.run ? 1 : 0));
  const runCaveats: string[] = [];
  const size = BENCHMARK_SIZE[run.benchmark];
  if (size !== undefined && run.questions < size) runCaveats.push(`this run covers ${run.questions.toLocaleString('en-US')} of ${size.toLocaleString('en-US')} questions`);
  if (run.benchmark === 'okvqa') runCaveats.push(`scored with ${run.metric === 'kat-ems' ? "KAT's okvqa_ems" : 'the official VQA accuracy'} on ${answersLabel(run.answers)}`);
  return {
    benchmark: run.benchmark,
    benchmarkLabel: BENCHMARK_LABEL[run.benchmark],
    rank: rows.indexOf(runRow) + 1,
    of: rows.length,
    rows,
    runCaveats,
    comparable: rows.filter((r) => !r.run && r.caveats.length === 0).length,
  };
}

/** A plain-text table of a placement, for the terminal. */
export function formatPlacement(p: Placement): string {
  const lines = [`Among published results — ${p.benchmarkLabel}: #${p.rank} of ${p.of}${p.runCaveats.length ? ` (${p.runCaveats.join('; ')})` : ''}`];
  const w = Math.min(60, Math.max(...p.rows.map((r) => r.system.length)));
  for (const r of p.rows) {
    const name = r.system.length > w ? r.system.slice(0, w - 1) + '…' : r.system.padEnd(w);
    const mark = r.run ? '▶' : ' ';
    const note = r.run ? '' : r.caveats.length ? `  * ${r.caveats.join('; ')}` : '  (same protocol)';
    lines.push(` ${mark} ${r.accuracy.toFixed(2).padStart(6)}  ${name}${r.venue ? `  ${r.venue}` : ''}${note}`);
  }
  if (p.rows.some((r) => !r.run && r.caveats.length)) lines.push('   * not scored exactly as this run: compare with care (sources: eval/leaderboard.json)');
  return lines.join('\n');
}

/** The benchmarks a score can be placed on: OK-VQA, or A-OKVQA val direct answer / multiple choice (test has no answers). */
export function runScoresOf(
  score:
    | { dataset: 'okvqa'; n: number; overall: number; answers?: 'raw' | 'stemmed' }
    | { dataset: 'aokvqa'; n: number; directAnswer: number | null; multipleChoice: number | null; nDirectAnswer: number; nMultipleChoice: number; split?: string },
  metric: 'vqa' | 'kat-ems' = 'vqa',
): RunScore[] {
  if (score.dataset === 'okvqa') {
    const r: RunScore = { benchmark: 'okvqa', accuracy: score.overall, metric, questions: score.n };
    if (score.answers) r.answers = score.answers;
    return [r];
  }
  if (score.split !== undefined && score.split !== 'val') return [];
  const out: RunScore[] = [];
  // DA is scored over questions not marked difficult; the val set's size counts all of them.
  if (score.directAnswer !== null) out.push({ benchmark: 'aokvqa-da-val', accuracy: score.directAnswer, metric: 'aokvqa', questions: score.n });
  if (score.multipleChoice !== null) out.push({ benchmark: 'aokvqa-mc-val', accuracy: score.multipleChoice, metric: 'aokvqa', questions: score.nMultipleChoice });
  return out;
}
