import type { Caption, Sample, Tag } from '../core/artifacts.js';
import type { RunContext } from '../core/context.js';
import { InputError } from '../core/errors.js';
import { loadCaptions, loadTags, type TextMap } from './captions.js';
import { loadQuestionSet } from './data-file.js';

/** The in-context example pool (usually the training split) with its captions/tags when data.json names them. */
export interface ExamplePool {
  samples: Sample[];
  captions?: TextMap<Caption>;
  tags?: TextMap<Tag>;
}

/** Loads `data.examples` once per run (shared by every stage that needs it). */
export function getExamplePool(ctx: RunContext): Promise<ExamplePool> {
  const ex = ctx.data.examples;
  if (!ex) return Promise.reject(new InputError('this pipeline needs an example pool: add "examples": {"questions", "annotations"} to data.json'));
  return ctx.resources.get(`example-pool:${ex.questions}:${ex.annotations}:${ex.images ?? ''}:${ex.captions ?? ''}:${ex.tags ?? ''}`, () => {
    const samples = loadQuestionSet(ex.questions, ex.annotations, ex.images);
    if (samples.some((s) => !s.answers)) throw new InputError('the example pool needs answers (annotations)', ex.annotations ?? ex.questions);
    const pool: ExamplePool = { samples };
    if (ex.captions) pool.captions = loadCaptions(ex.captions, 'file');
    if (ex.tags) pool.tags = loadTags(ex.tags);
    return pool;
  });
}

/** Most frequent answer of a list (first of the most frequent on ties), as PICa and the prior use. */
export function majorityAnswer(answers: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
  let best = answers[0] ?? '';
  for (const [a, n] of counts) if (n > counts.get(best)!) best = a;
  return best;
}
