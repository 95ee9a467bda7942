/**
 * A finished run in FiD's training format (facebookresearch/FiD, the format KAT's reader was trained from): one example
 * per answered question, `{id, question, answers, target, ctxs: [{title, text, score}]}`, the ctxs being the passages
 * the reader received, in the order it received them. FiD's `Dataset` reads a ctx as `title: {title} context: {text}`,
 * so KAT's explicit passages export as title = entity name, text = `{name} is a {description}` (KAT's exact string);
 * implicit ones as title = candidate, text = evidence (FiD formats them as title/context, KAT's OkvqaDataset as
 * `candidate: … evidence: …`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Passage, Sample } from '../core/artifacts.js';
import { InputError } from '../core/errors.js';
import type { SampleResult } from '../core/runner.js';
import { loadSamples } from '../data/data-file.js';
import type { DataSources } from '../data/sources.js';

export interface FidCtx {
  title: string;
  text: string;
  score: number;
}

export interface FidExample {
  id: string;
  question: string;
  answers: string[];
  target: string;
  ctxs: FidCtx[];
}

export interface ExportFidOptions {
  /** Passage nodes to export (default: what the run's output node read as `passages`). */
  nodes?: string[];
  /** Data sources (default: the run's manifest `data`). */
  data?: DataSources;
  /**
   * Write `score` as N − rank instead of the passage's own score. FiD's `Dataset.sort_data` sorts ctxs by score, which
   * would reorder KAT's list (40 explicit, then implicit); rank scores keep the order the reader saw.
   */
  rankScores?: boolean;
}

interface Manifest {
  pipeline?: { output?: string };
  nodes?: { name: string; stage: string; inputs?: Record<string, string[]> }[];
  data?: DataSources;
}

/** The most frequent answer; ties go to the one seen first (Python's `Counter(answers).most_common(1)`). */
export function majorityAnswer(answers: readonly string[]): string {
  const count = new Map<string, number>();
  for (const a of answers) count.set(a, (count.get(a) ?? 0) + 1);
  let best = '';
  let top = 0;
  for (const [a, n] of count) {
    if (n > top) {
      top = n;
      best = a;
    }
  }
  return best;
}

export function passageToCtx(p: Passage, score: number): FidCtx {
  return { title: p.title ?? '', text: p.body ?? p.text, score };
}

export function exportFid(runDir: string, opts: ExportFidOptions = {}): { examples: FidExample[]; nodes: string[]; skipped: number } {
  const manifestPath = join(runDir, 'manifest.json');
  const tracePath = join(runDir, 'trace.jsonl');
  if (!existsSync(tracePath)) throw new InputError('not a run folder (no trace.jsonl)', runDir);
  const manifest = (existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : {}) as Manifest;
  let nodes = opts.nodes;
  if (!nodes?.length) {
    const out = manifest.nodes?.find((n) => n.name === (manifest.pipeline?.output ?? 'answer'));
    nodes = out?.inputs?.passages;
    if (!nodes?.length) throw new InputError('the run\'s output node reads no passages: name the passage node(s) with --node', manifestPath);
  }
  const data = opts.data ?? manifest.data;
  if (!data?.questions) throw new InputError('no data sources in manifest.json: pass --data', manifestPath);
  const samples = new Map<string, Sample>(loadSamples(data).map((s) => [s.questionId, s]));
  const examples: FidExample[] = [];
  let skipped = 0;
  for (const line of readFileSync(tracePath, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line) as SampleResult;
    const sample = samples.get(rec.questionId);
    if (!rec.ok || !sample) {
      skipped++;
      continue;
    }
    const passages: Passage[] = [];
    for (const n of nodes) {
      const t = rec.nodes[n];
      if (!t) throw new InputError(`question ${rec.questionId}: no node "${n}" in the trace`, tracePath);
      if (!Array.isArray(t.output)) throw new InputError(`question ${rec.questionId}: node "${n}" has no passage list in the trace`, tracePath);
      passages.push(...(t.output as Passage[]));
    }
    const answers = sample.answers ?? [];
    examples.push({
      id: sample.questionId,
      question: sample.question,
      answers,
      target: majorityAnswer(answers),
      ctxs: passages.map((p, i) => passageToCtx(p, opts.rankScores ? passages.length - i : p.score)),
    });
  }
  return { examples, nodes, skipped };
}
