/** The data a report page embeds, built from one run (and optionally a second one to compare with). */
import type { Prediction, Sample } from '../core/artifacts.js';
import { hashValue } from '../core/hash.js';
import type { NodeTrace, SampleResult } from '../core/runner.js';
import { vqaQuestionAccuracy } from '../eval/vqa-accuracy.js';
import { loadLeaderboard, placeRun, runScoresOf, type Placement } from '../eval/leaderboard.js';
import { errorMessage } from '../core/errors.js';
import { compactOutput, compactValue, type CompactOptions } from './compact.js';
import type { ManifestNode, RunFiles } from './run-files.js';

export interface ReportNodeInfo {
  name: string;
  stage: string;
  version?: string;
  /** Artifact kind of the output (captions, regions, passages…), when the stage is known. */
  kind?: string;
  inputs: Record<string, string[]>;
}

export interface ReportNodeRun {
  /** Length of the output list before the report cut it (passages align with the reader's attribution by it). */
  n?: number;
  ms: number;
  cached: boolean;
  out?: unknown;
  notes?: unknown;
  error?: string;
  skipped?: boolean;
  llm?: { calls: number; cachedCalls: number; promptTokens: number; completionTokens: number };
}

export interface ReportQuestion {
  id: string;
  q?: string;
  img?: number;
  at?: string;
  qt?: string;
  answers?: string[];
  choices?: string[];
  cc?: number;
  pred?: string;
  mc?: string;
  /** The prediction's own score (log-probability, vote share…). */
  ps?: number;
  /** Accuracy of the prediction, 0–1, when answers are known. */
  acc?: number;
  ok: boolean;
  err?: string;
  ms: number;
  /** With retrieved knowledge (a passages node produced at least one passage). */
  kn: boolean;
  calls: number;
  cachedCalls: number;
  tokens: number;
  hits: number;
  nodes: Record<string, ReportNodeRun>;
  /** Comparison run: its prediction, accuracy, and the nodes whose outputs differ. */
  b?: { pred?: string; acc?: number; ok: boolean; err?: string; diff: string[]; nodes: Record<string, ReportNodeRun> };
}

export interface CategoryRow {
  group: string;
  name: string;
  n: number;
  acc: number | null;
  bN?: number;
  bAcc?: number | null;
}

export interface StageRow {
  node: string;
  stage: string;
  runs: number;
  cached: number;
  errors: number;
  skipped: number;
  totalMs: number;
  meanMs: number;
  p50Ms: number;
  maxMs: number;
  /** LLM usage summed over questions, when the trace records it per node. */
  llm?: { calls: number; cachedCalls: number; promptTokens: number; completionTokens: number };
}

export interface ReportImage {
  src: string;
  /** Size of the original image (region boxes are in its pixels). */
  w: number;
  h: number;
}

export interface ReportData {
  version: 1;
  title: string;
  generatedAt: string;
  run: RunSummary;
  compare?: RunSummary & { flips: { toRight: number; toWrong: number; changedAnswer: number; nodeDiffs: Record<string, number>; common: number } };
  nodes: ReportNodeInfo[];
  /** Final node (its prediction) and, when it reads passages, the nodes feeding them (for attribution). */
  outputNode?: string;
  passageNodes: string[];
  categories: CategoryRow[];
  stages: StageRow[];
  questions: ReportQuestion[];
  /** Thumbnails by image id. */
  images: Record<string, ReportImage>;
  warnings: string[];
  /** Where the run's official score stands among published results (eval/leaderboard.json), one per benchmark. */
  leaderboard?: Placement[];
}

export interface RunSummary {
  dir: string;
  pipeline?: string;
  dataset?: string;
  status?: string;
  startedAt?: string;
  endedAt?: string;
  commit?: string | null;
  questions: number;
  answered: number;
  failed: number;
  /** Mean accuracy ×100 over questions with answers; the official figure from metrics.json is `official`. */
  accuracy: number | null;
  official?: Record<string, unknown>;
  usage: { calls: number; cachedCalls: number; promptTokens: number; completionTokens: number };
  cache?: unknown;
  totalMs: number;
}

/** The official score in metrics.json placed among published results; a missing or unreadable file is a warning. */
function placeOfficial(metrics: Record<string, unknown> | undefined, pipeline: string | undefined, file: string | false | undefined): { placements: Placement[]; warning?: string } {
  if (!metrics || file === false) return { placements: [] };
  const m = metrics as { dataset?: unknown };
  if (m.dataset !== 'okvqa' && m.dataset !== 'aokvqa') return { placements: [] };
  try {
    const published = loadLeaderboard(file);
    const runs = runScoresOf(metrics as Parameters<typeof runScoresOf>[0]).map((r) => ({ ...r, label: `this run${pipeline ? ` (${pipeline})` : ''}` }));
    return { placements: runs.map((r) => placeRun(r, published)) };
  } catch (err) {
    return { placements: [], warning: `leaderboard not shown: ${errorMessage(err)}` };
  }
}

export interface BuildOptions extends CompactOptions {
  /** Published results to place the run among (default: the packaged eval/leaderboard.json; false: none). */
  leaderboard?: string | false;
  /** Artifact kind of each stage's output (from the stage registry); unknown stages are shown as plain JSON. */
  stageKinds?: ReadonlyMap<string, string>;
  title?: string;
}

/** Accuracy of a prediction (0–1): the official VQA per-question accuracy, or A-OKVQA's direct-answer rule. */
export function questionAccuracy(sample: Sample | undefined, ann: { answers: { answer: string }[] } | undefined, pred: Prediction | undefined, failed: boolean): number | undefined {
  if (!sample?.answers && !ann) return undefined;
  const answer = failed ? '' : pred?.answer ?? '';
  if (sample?.dataset === 'aokvqa') {
    if (!sample.answers) return undefined;
    return Math.min(1, sample.answers.filter((a) => a === answer).length / 3);
  }
  if (ann) return vqaQuestionAccuracy(answer, ann.answers as never);
  return vqaQuestionAccuracy(answer, sample!.answers!.map((a) => ({ answer: a })));
}

function compactNodes(nodes: Record<string, NodeTrace> | undefined, opts: CompactOptions & { kinds?: ReadonlyMap<string, string> }): Record<string, ReportNodeRun> {
  const out: Record<string, ReportNodeRun> = {};
  for (const [name, t] of Object.entries(nodes ?? {})) {
    const r: ReportNodeRun = { ms: typeof t.ms === 'number' ? t.ms : 0, cached: !!t.cached };
    if (t.output !== undefined) r.out = compactOutput(t.output, opts.kinds?.get(t.stage), opts);
    if (Array.isArray(t.output)) r.n = t.output.length;
    if (t.notes !== undefined) r.notes = compactValue(t.notes, opts);
    if (t.error) r.error = String(t.error);
    if (t.skipped) r.skipped = true;
    if (t.usage) r.llm = t.usage;
    out[name] = r;
  }
  return out;
}

function nodeInfos(manifestNodes: readonly ManifestNode[] | undefined, results: readonly SampleResult[], kinds: ReadonlyMap<string, string> | undefined): ReportNodeInfo[] {
  const infos: ReportNodeInfo[] = [];
  const seen = new Set<string>();
  for (const n of manifestNodes ?? []) {
    seen.add(n.name);
    const info: ReportNodeInfo = { name: n.name, stage: n.stage, inputs: n.inputs ?? {} };
    if (n.version) info.version = n.version;
    const kind = kinds?.get(n.stage);
    if (kind) info.kind = kind;
    infos.push(info);
  }
  // Nodes only the trace knows (no manifest): take them from the records.
  for (const r of results) {
    for (const [name, t] of Object.entries(r.nodes ?? {})) {
      if (seen.has(name)) continue;
      seen.add(name);
      const info: ReportNodeInfo = { name, stage: t.stage, inputs: {} };
      const kind = kinds?.get(t.stage);
      if (kind) info.kind = kind;
      infos.push(info);
    }
  }
  return infos;
}

function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function stageRows(infos: readonly ReportNodeInfo[], results: readonly SampleResult[]): StageRow[] {
  return infos.map((info) => {
    const ms: number[] = [];
    let cached = 0;
    let errors = 0;
    let skipped = 0;
    let llm: StageRow['llm'];
    for (const r of results) {
      const t = r.nodes?.[info.name];
      if (!t) continue;
      if (t.usage) {
        llm ??= { calls: 0, cachedCalls: 0, promptTokens: 0, completionTokens: 0 };
        for (const k of Object.keys(llm) as (keyof typeof llm)[]) llm[k] += t.usage[k] ?? 0;
      }
      if (t.skipped) {
        skipped++;
        continue;
      }
      ms.push(typeof t.ms === 'number' ? t.ms : 0);
      if (t.cached) cached++;
      if (t.error) errors++;
    }
    ms.sort((a, b) => a - b);
    const total = ms.reduce((s, x) => s + x, 0);
    const round = (x: number) => Math.round(x * 100) / 100;
    const row: StageRow = {
      node: info.name,
      stage: info.stage,
      runs: ms.length,
      cached,
      errors,
      skipped,
      totalMs: round(total),
      meanMs: ms.length ? round(total / ms.length) : 0,
      p50Ms: round(percentile(ms, 0.5)),
      maxMs: round(ms[ms.length - 1] ?? 0),
    };
    if (llm) row.llm = llm;
    return row;
  });
}

function hasKnowledge(result: SampleResult, passageNodes: ReadonlySet<string>): boolean {
  for (const name of passageNodes) {
    const out = result.nodes?.[name]?.output;
    if (Array.isArray(out) && out.length > 0) return true;
  }
  return false;
}

function summarize(files: RunFiles, accs: (number | undefined)[]): RunSummary {
  const usage = { calls: 0, cachedCalls: 0, promptTokens: 0, completionTokens: 0 };
  let failed = 0;
  let totalMs = 0;
  for (const r of files.results) {
    if (!r.ok) failed++;
    totalMs += typeof r.ms === 'number' ? r.ms : 0;
    for (const k of Object.keys(usage) as (keyof typeof usage)[]) usage[k] += r.usage?.[k] ?? 0;
  }
  const known = accs.filter((a): a is number => a !== undefined);
  const m = files.manifest;
  const s: RunSummary = {
    dir: files.dir,
    questions: m.questions ?? files.results.length,
    answered: files.results.length,
    failed,
    accuracy: known.length ? (known.reduce((x, y) => x + y, 0) / known.length) * 100 : null,
    usage,
    totalMs: Math.round(totalMs),
  };
  if (m.pipeline?.name) s.pipeline = m.pipeline.name;
  const dataset = m.data?.dataset ?? files.samples.values().next().value?.dataset;
  if (dataset) s.dataset = dataset;
  if (m.status) s.status = m.status;
  if (m.startedAt) s.startedAt = m.startedAt;
  if (m.endedAt) s.endedAt = m.endedAt;
  if (m.okvqa?.commit !== undefined) s.commit = m.okvqa.commit;
  if (files.metrics) s.official = files.metrics;
  if (m.cache) s.cache = m.cache;
  return s;
}

function passageNodesOf(infos: readonly ReportNodeInfo[], outputNode: string | undefined): { feeding: string[]; all: Set<string> } {
  // Retrieved (explicit) knowledge: passages from retrieval stages, not the LLM's own rationales turned into passages.
  const all = new Set(infos.filter((n) => n.kind === 'passages' && !n.stage.startsWith('implicit.')).map((n) => n.name));
  const out = infos.find((n) => n.name === outputNode);
  return { feeding: out?.inputs.passages ?? [], all };
}

interface Scored {
  result: SampleResult;
  sample: Sample | undefined;
  acc: number | undefined;
}

function scoreRun(files: RunFiles): Scored[] {
  return files.results.map((result) => {
    const sample = files.samples.get(result.questionId);
    const ann = files.annotations.get(result.questionId);
    return { result, sample, acc: questionAccuracy(sample, ann, result.prediction, !result.ok) };
  });
}

function categoryRows(rows: readonly { q: ReportQuestion; bAcc?: number | undefined; inB: boolean }[], withB: boolean): CategoryRow[] {
  const groups = new Map<string, Map<string, { n: number; sum: number; known: number; bN: number; bSum: number; bKnown: number }>>();
  const add = (group: string, name: string | undefined, acc: number | undefined, inB: boolean, bAcc: number | undefined) => {
    if (name === undefined) return;
    let g = groups.get(group);
    if (!g) groups.set(group, (g = new Map()));
    let c = g.get(name);
    if (!c) g.set(name, (c = { n: 0, sum: 0, known: 0, bN: 0, bSum: 0, bKnown: 0 }));
    c.n++;
    if (acc !== undefined) {
      c.sum += acc;
      c.known++;
    }
    if (inB) {
      c.bN++;
      if (bAcc !== undefined) {
        c.bSum += bAcc;
        c.bKnown++;
      }
    }
  };
  for (const { q, bAcc, inB } of rows) {
    add('all', 'all questions', q.acc, inB, bAcc);
    add('answer type', q.at, q.acc, inB, bAcc);
    add('question type', q.qt, q.acc, inB, bAcc);
    add('knowledge', q.kn ? 'with retrieved knowledge' : 'without retrieved knowledge', q.acc, inB, bAcc);
    add('outcome', q.ok ? 'answered' : 'failed', q.acc, inB, bAcc);
  }
  const out: CategoryRow[] = [];
  for (const [group, g] of groups) {
    const entries = [...g.entries()].sort((a, b) => b[1].n - a[1].n);
    for (const [name, c] of entries) {
      const row: CategoryRow = { group, name, n: c.n, acc: c.known ? (c.sum / c.known) * 100 : null };
      if (withB) {
        row.bN = c.bN;
        row.bAcc = c.bKnown ? (c.bSum / c.bKnown) * 100 : null;
      }
      out.push(row);
    }
  }
  return out;
}

/** Build the report data. `images` (thumbnails by image id) is left empty: see thumbnails.ts and report.ts. */
export function buildReport(a: RunFiles, b: RunFiles | undefined, opts: BuildOptions = {}): ReportData {
  const infos = nodeInfos(a.manifest.nodes, a.results, opts.stageKinds);
  const copts = { ...opts, ...(opts.stageKinds ? { kinds: opts.stageKinds } : {}) };
  const outputNode = a.manifest.pipeline?.output ?? infos[infos.length - 1]?.name;
  const passages = passageNodesOf(infos, outputNode);
  const scoredA = scoreRun(a);
  const scoredB = b ? new Map(scoreRun(b).map((s) => [s.result.questionId, s])) : undefined;
  const flips = { toRight: 0, toWrong: 0, changedAnswer: 0, nodeDiffs: {} as Record<string, number>, common: 0 };

  const rows: { q: ReportQuestion; bAcc?: number | undefined; inB: boolean }[] = [];
  for (const { result: r, sample, acc } of scoredA) {
    const ann = a.annotations.get(r.questionId);
    const u = r.usage ?? { calls: 0, cachedCalls: 0, promptTokens: 0, completionTokens: 0 };
    const q: ReportQuestion = {
      id: r.questionId,
      ok: !!r.ok,
      ms: typeof r.ms === 'number' ? r.ms : 0,
      kn: hasKnowledge(r, passages.all),
      calls: u.calls ?? 0,
      cachedCalls: u.cachedCalls ?? 0,
      tokens: (u.promptTokens ?? 0) + (u.completionTokens ?? 0),
      hits: Object.values(r.nodes ?? {}).filter((t) => t.cached).length,
      nodes: compactNodes(r.nodes, copts),
    };
    if (sample) {
      q.q = sample.question;
      q.img = sample.imageId;
      if (sample.answers) q.answers = sample.answers;
      if (sample.choices) q.choices = sample.choices;
      if (sample.correctChoiceIdx !== undefined) q.cc = sample.correctChoiceIdx;
    }
    if (ann?.answer_type) q.at = ann.answer_type;
    if (ann?.question_type) q.qt = ann.question_type;
    if (r.prediction) {
      q.pred = r.prediction.answer;
      if (typeof r.prediction.score === 'number') q.ps = r.prediction.score;
      if (r.prediction.multipleChoice !== undefined) q.mc = r.prediction.multipleChoice;
    }
    if (acc !== undefined) q.acc = acc;
    if (r.error) q.err = `${r.error.node ? `${r.error.node} (${r.error.stage}): ` : ''}${r.error.message}`;

    let bAcc: number | undefined;
    const sb = scoredB?.get(r.questionId);
    if (sb) {
      flips.common++;
      bAcc = sb.acc;
      const diff: string[] = [];
      const bNodes: Record<string, NodeTrace> = {};
      const names = new Set([...Object.keys(r.nodes ?? {}), ...Object.keys(sb.result.nodes ?? {})]);
      for (const name of names) {
        const x = r.nodes?.[name];
        const y = sb.result.nodes?.[name];
        const same = x && y && !x.error && !y.error && hashValue(x.output ?? null) === hashValue(y.output ?? null);
        if (!same) {
          diff.push(name);
          flips.nodeDiffs[name] = (flips.nodeDiffs[name] ?? 0) + 1;
          if (y) bNodes[name] = y;
        }
      }
      q.b = { ok: !!sb.result.ok, diff, nodes: compactNodes(bNodes, copts) };
      if (sb.result.prediction) q.b.pred = sb.result.prediction.answer;
      if (sb.acc !== undefined) q.b.acc = sb.acc;
      if (sb.result.error) q.b.err = `${sb.result.error.node}: ${sb.result.error.message}`;
      if ((q.pred ?? '') !== (q.b.pred ?? '')) flips.changedAnswer++;
      if (acc !== undefined && sb.acc !== undefined) {
        if (acc === 0 && sb.acc > 0) flips.toRight++;
        if (acc > 0 && sb.acc === 0) flips.toWrong++;
      }
    }
    rows.push({ q, bAcc, inB: !!sb });
  }

  const data: ReportData = {
    version: 1,
    title: opts.title ?? `okvqa report: ${a.manifest.pipeline?.name ?? a.dir}${b ? ` vs ${b.manifest.pipeline?.name ?? b.dir}` : ''}`,
    generatedAt: new Date().toISOString(),
    run: summarize(a, scoredA.map((s) => s.acc)),
    nodes: infos,
    passageNodes: passages.feeding,
    categories: categoryRows(rows, !!b),
    stages: stageRows(infos, a.results),
    questions: rows.map((r) => r.q),
    images: {},
    warnings: [...a.warnings, ...(b?.warnings.map((w) => `comparison run: ${w}`) ?? [])],
  };
  if (outputNode) data.outputNode = outputNode;
  const placed = placeOfficial(a.metrics, data.run.pipeline, opts.leaderboard);
  if (placed.placements.length) data.leaderboard = placed.placements;
  if (placed.warning) data.warnings.push(placed.warning);
  if (b && scoredB) data.compare = { ...summarize(b, [...scoredB.values()].map((s) => s.acc)), flips };
  return data;
}
