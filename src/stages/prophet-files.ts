/**
 * Prophet's released heuristics as the stages share them: each file loaded once per run through `ctx.resources`, the
 * examples' question pool (data.json `prophet.pool`, else `examples`), and Prophet's example shuffle stream.
 */
import type { Sample } from '../core/artifacts.js';
import type { RunContext } from '../core/context.js';
import { InputError } from '../core/errors.js';
import { fileIdentity } from '../core/file-identity.js';
import { PythonRandom } from '../core/python-random.js';
import { seedFor } from '../core/random.js';
import type { CheckFinding } from '../core/stage.js';
import { loadQuestionSet, loadSamples } from '../data/data-file.js';
import { getPoolSamples } from '../data/example-pool.js';
import { loadProphetCandidates, loadProphetCaptions, loadProphetExamples, type ReleasedCandidate } from '../data/prophet-released.js';
import { checkFile } from './checks.js';

type Ctx = Pick<RunContext, 'data' | 'resources'>;
export type ProphetFile = 'candidates' | 'examples' | 'captions';

const HOW: Record<ProphetFile, string> = {
  candidates: 'name Prophet\'s candidates file (assets/candidates_okvqa.json) in data.json "prophet": {"candidates": …}',
  examples: 'name Prophet\'s answer-aware examples file (assets/answer_aware_examples_okvqa.json) in data.json "prophet": {"examples": …}',
  captions: 'name Prophet\'s captions file (assets/captions_okvqa.json) in data.json "prophet": {"captions": …}',
};

export function prophetPath(ctx: Pick<RunContext, 'data'>, which: ProphetFile, param?: string): string | undefined {
  return param ?? ctx.data.prophet?.[which];
}

export function requireProphetPath(ctx: Pick<RunContext, 'data'>, which: ProphetFile, param?: string): string {
  const p = prophetPath(ctx, which, param);
  if (!p) throw new InputError(`no Prophet ${which} file: ${HOW[which]}, or set the node's "file" param`);
  return p;
}

export function releasedCandidates(ctx: Ctx, path: string): Promise<Map<string, ReleasedCandidate[]>> {
  return ctx.resources.get(`prophet-candidates:${path}`, () => loadProphetCandidates(path));
}

export function releasedExamples(ctx: Ctx, path: string): Promise<Map<string, string[]>> {
  return ctx.resources.get(`prophet-examples:${path}`, () => loadProphetExamples(path));
}

export function releasedCaptions(ctx: Ctx, path: string): Promise<Map<string, string>> {
  return ctx.resources.get(`prophet-captions:${path}`, () => loadProphetCaptions(path));
}

/** The examples' questions with answers, by question id: data.json `prophet.pool` files, else the `examples` pool. */
export function prophetPool(ctx: Ctx): Promise<Map<string, Sample>> {
  const files = ctx.data.prophet?.pool;
  const key = files ? files.map((f) => `${f.questions}|${f.annotations ?? ''}`).join(';') : `examples:${ctx.data.examples?.questions}`;
  return ctx.resources.get(`prophet-pool:${key}`, async () => {
    const samples = files
      ? files.flatMap((f) => loadQuestionSet(f.questions, f.annotations, undefined, ctx.data.dataset))
      : await getPoolSamples(ctx);
    const out = new Map<string, Sample>();
    for (const s of samples) out.set(s.questionId, s);
    return out;
  });
}

/** File identities of the pool files (part of the examples node's fingerprint). */
export function poolIdentity(ctx: Pick<RunContext, 'data'>): string {
  const files = ctx.data.prophet?.pool;
  if (files) return files.map((f) => `${fileIdentity(f.questions)}+${fileIdentity(f.annotations)}`).join(',');
  return `${fileIdentity(ctx.data.examples?.questions)}+${fileIdentity(ctx.data.examples?.annotations)}`;
}

/**
 * Prophet's shuffle, as `Runner.run` draws it: one Python `random` stream (seeded once) over the evaluated questions in
 * the question file's order, each question's first `k` similar examples shuffled in turn. A question's order therefore
 * depends on its place in the file (a `--limit` run gets the same orders as the full run). Null when some question of
 * the file has no entry in the examples file (then the stream is not Prophet's; callers shuffle per question).
 */
export function shuffleStream(ctx: Ctx, examplesPath: string, k: number, seed: number): Promise<Map<string, number[]> | null> {
  const qfile = ctx.data.questions;
  if (!qfile) return Promise.resolve(null);
  return ctx.resources.get(`prophet-stream:${qfile}:${examplesPath}:${k}:${seed}`, async () => {
    const similar = await releasedExamples(ctx, examplesPath);
    const questions = loadSamples({ ...ctx.data, annotations: undefined, images: undefined });
    if (questions.some((q) => !similar.has(q.questionId))) return null;
    const rng = new PythonRandom(seed);
    const out = new Map<string, number[]>();
    for (const q of questions) {
      const n = Math.min(k, similar.get(q.questionId)!.length);
      out.set(q.questionId, rng.shuffle(Array.from({ length: n }, (_, i) => i)));
    }
    return out;
  });
}

/** A per-question shuffle (Python's algorithm, seeded by the seed and the question id): for questions off the stream. */
export function perQuestionOrder(n: number, seed: number, questionId: string): number[] {
  return new PythonRandom(seedFor(seed, questionId)).shuffle(Array.from({ length: n }, (_, i) => i));
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** Pre-flight: the file is named, parses, and covers `ids` (missing ones: error when required, else a warning). */
export async function checkProphetFile(
  ctx: Pick<RunContext, 'data' | 'resources'> & { node: string },
  which: ProphetFile,
  param: string | undefined,
  ids: readonly string[],
  required: boolean,
): Promise<CheckFinding[]> {
  const path = prophetPath(ctx, which, param);
  const key = param ? 'params.file' : `prophet.${which}`;
  if (!path && !required) return [];
  const missing = checkFile(key, path, HOW[which]);
  if (missing.length) return missing;
  let map: Map<string, unknown>;
  try {
    map = which === 'candidates' ? await releasedCandidates(ctx, path!) : which === 'examples' ? await releasedExamples(ctx, path!) : await releasedCaptions(ctx, path!);
  } catch (err) {
    return [{ severity: 'error', key, message: err instanceof Error ? err.message : String(err) }];
  }
  const unique = [...new Set(ids)];
  const covered = unique.filter((id) => map.has(id)).length;
  if (covered === unique.length) return [];
  const unit = which === 'captions' ? 'images' : 'questions';
  const message = `${fmt(covered)} of ${fmt(unique.length)} ${unit} are in ${path}`;
  if (required) {
    return [{ severity: 'error', key, message: `${message} (is it the file of another split or task?)`, fix: `use the file of these questions, or the prophet-any pipeline (falls back to this project's stages)` }];
  }
  return [{ severity: 'warning', key, message: `${message}; the others use the fallback` }];
}
