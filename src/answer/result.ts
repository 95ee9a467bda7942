/**
 * The answer a library caller gets: the prediction plus what a QA app shows next to it — the passages the reader read
 * with their attribution, the answer candidates with their rationales, the regions and tags, the time of every stage —
 * pulled out of the per-node trace by artifact kind, so it works for any pipeline.
 */
import type { ArtifactKind, Caption, Candidate, Passage, Prediction, Region, Sample, Tag } from '../core/artifacts.js';
import type { CompiledNode, CompiledPipeline } from '../core/graph.js';
import type { SampleResult } from '../core/runner.js';

export interface AttributedPassage extends Passage {
  /** The reader's attribution score for this passage (FiD cross-attention), when the reader gives one. */
  attribution?: number;
  /** Node that produced the passage. */
  node: string;
}

export interface StageTiming {
  node: string;
  stage: string;
  ms: number;
  cached: boolean;
  error?: string;
}

export interface AnswerResult extends SampleResult {
  question: string;
  /** The answer, or null when the question failed (see `error`). */
  answer: string | null;
  score?: number;
  /** How the image was identified: COCO id, or the sha256 of its bytes; and where it was read from. */
  image: { id?: number; hash?: string; path?: string };
  /** Passages the answering node read, in the order it read them, with their attribution when the reader gives one. */
  passages: AttributedPassage[];
  /** Answer candidates of every candidates-producing node (implicit knowledge: `evidence` is the rationale). */
  candidates: (Candidate & { node: string })[];
  /** Regions of every region-producing node (embedding vectors left out). */
  regions: (Omit<Region, 'embedding'> & { node: string })[];
  tags: (Tag & { node: string })[];
  captions: (Caption & { node: string })[];
  /** Time per node (stage), in pipeline order; `cached` when the output came from the cache. */
  timings: StageTiming[];
  /** Notes stages left in the trace (e.g. the reader saying how regions entered), by node. */
  notes: Record<string, Record<string, unknown>>;
}

/** `Prediction.attribution` (the reader's per-passage scores), when present and well-formed. */
export function attributionOf(p: Prediction | undefined): number[] | undefined {
  const a = (p as (Prediction & { attribution?: unknown }) | undefined)?.attribution;
  return Array.isArray(a) && a.every((x) => typeof x === 'number') ? (a as number[]) : undefined;
}

function outputsOfKind<T>(pipeline: CompiledPipeline, r: SampleResult, kind: ArtifactKind): (T & { node: string })[] {
  const out: (T & { node: string })[] = [];
  for (const n of pipeline.nodes) {
    if (n.stage.output !== kind) continue;
    const v = r.nodes[n.name]?.output;
    if (Array.isArray(v)) for (const item of v) out.push({ ...(item as T), node: n.name });
  }
  return out;
}

/** The node whose passages decided the answer: the nearest ancestor of the output (itself first) with a passages input. */
function answeringReader(pipeline: CompiledPipeline): { node: CompiledNode; sources: string[] } | undefined {
  const byName = new Map(pipeline.nodes.map((n) => [n.name, n]));
  const seen = new Set<string>();
  const queue = [pipeline.output];
  while (queue.length) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const node = byName.get(name);
    if (!node) continue;
    const input = Object.entries(node.stage.inputs).find(([k, spec]) => spec.kind === 'passages' && node.bindings[k]);
    if (input) return { node, sources: node.bindings[input[0]]! };
    queue.push(...node.deps);
  }
  return undefined;
}

/** Passages in the order the reader received them (joined sources are concatenated, as the runner does). */
function readerPassages(pipeline: CompiledPipeline, r: SampleResult): AttributedPassage[] {
  const reader = answeringReader(pipeline);
  if (!reader) return [];
  const out: AttributedPassage[] = [];
  for (const src of reader.sources) {
    const v = r.nodes[src]?.output;
    if (Array.isArray(v)) for (const p of v as Passage[]) out.push({ ...p, node: src });
  }
  const attribution = reader.node.name === pipeline.output ? attributionOf(r.prediction) : attributionOf(r.nodes[reader.node.name]?.output as Prediction | undefined);
  if (attribution && attribution.length === out.length) out.forEach((p, i) => (p.attribution = attribution[i]!));
  return out;
}

export function buildAnswerResult(pipeline: CompiledPipeline, sample: Sample, r: SampleResult): AnswerResult {
  const image: AnswerResult['image'] = {};
  if (sample.imageId !== undefined) image.id = sample.imageId;
  if (sample.imageHash !== undefined) image.hash = sample.imageHash;
  if (sample.imagePath !== undefined) image.path = sample.imagePath;
  const notes: AnswerResult['notes'] = {};
  const timings: StageTiming[] = [];
  for (const n of pipeline.nodes) {
    const t = r.nodes[n.name];
    if (!t) continue;
    if (t.notes) notes[n.name] = t.notes;
    const timing: StageTiming = { node: n.name, stage: t.stage, ms: t.ms, cached: t.cached };
    if (t.error) timing.error = t.error;
    timings.push(timing);
  }
  const out: AnswerResult = {
    ...r,
    question: sample.question,
    answer: r.prediction?.answer ?? null,
    image,
    passages: readerPassages(pipeline, r),
    candidates: outputsOfKind<Candidate>(pipeline, r, 'candidates'),
    regions: outputsOfKind<Region>(pipeline, r, 'regions').map(({ embedding: _e, ...rest }) => rest),
    tags: outputsOfKind<Tag>(pipeline, r, 'tags'),
    captions: outputsOfKind<Caption>(pipeline, r, 'captions'),
    timings,
    notes,
  };
  if (r.prediction?.score !== undefined) out.score = r.prediction.score;
  return out;
}

/** A result for an input that failed before the pipeline ran (unreadable image, empty question). */
export function inputFailure(question: string, questionId: string, message: string): AnswerResult {
  return {
    questionId,
    ok: false,
    error: { node: 'input', stage: 'input', message },
    nodes: {},
    usage: { calls: 0, cachedCalls: 0, promptTokens: 0, completionTokens: 0 },
    ms: 0,
    question,
    answer: null,
    image: {},
    passages: [],
    candidates: [],
    regions: [],
    tags: [],
    captions: [],
    timings: [],
    notes: {},
  };
}
