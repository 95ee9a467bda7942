import type { Sample } from '../core/artifacts.js';
import type { RunContext } from '../core/context.js';
import { InputError } from '../core/errors.js';
import { loadQuestionSet } from './data-file.js';

/**
 * The questions and answers of the example pool (data.json `examples`, usually the training split), loaded once per run.
 * Stages that also need the pool's captions (PICa's in-context examples) use `stages/examples/pool.ts`, built on this.
 */
export function getPoolSamples(ctx: Pick<RunContext, 'data' | 'resources'>): Promise<Sample[]> {
  const ex = ctx.data.examples;
  if (!ex) return Promise.reject(new InputError('this pipeline needs an example pool: add "examples": {"questions", "annotations"} to data.json'));
  return ctx.resources.get(`pool-samples:${ex.questions}:${ex.annotations ?? ''}:${ex.images ?? ''}`, () => {
    const samples = loadQuestionSet(ex.questions, ex.annotations, ex.images, ctx.data.dataset);
    if (samples.some((s) => !s.answers)) throw new InputError('the example pool needs answers (annotations)', ex.annotations ?? ex.questions);
    return samples;
  });
}
