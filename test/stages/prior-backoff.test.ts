/** `candidates.prior` on a question that shares no word with the example pool backs off to the pool's answer frequencies. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StageContext } from '../../src/core/context.js';
import { candidatesPrior } from '../../src/stages/candidates/prior.js';
import { testContext } from '../helpers/context.js';
import { repoRoot } from '../helpers/cli.js';

const mini = join(repoRoot, 'test/fixtures/okvqa-mini');

function stageContext(): { ctx: StageContext; notes: Record<string, unknown> } {
  const notes: Record<string, unknown> = {};
  const base = testContext({ data: { examples: { questions: join(mini, 'train_questions.json'), annotations: join(mini, 'train_annotations.json') } } });
  return { ctx: { ...base, questionId: 'q1', node: 'candidates', note: (k, v) => void (notes[k] = v), usage: () => {} }, notes };
}

describe('candidates.prior back-off', () => {
  const params = candidatesPrior.params.parse({});

  it('a question no pool question shares a word with gets the pool-wide answer frequencies, noted as backoff', async () => {
    const { ctx, notes } = stageContext();
    const out = await candidatesPrior.run({ sample: { questionId: 'q1', imageId: 'i1', question: 'Zyxxq qwfp?' } } as never, params, ctx);
    expect(out.length).toBe(params.top);
    expect(notes.backoff).toMatch(/overall answer frequencies/);
    // scores are the pool-wide counts / 10, best first: recompute them from the pool file independently
    const anns = (await import(join(mini, 'train_annotations.json'), { with: { type: 'json' } })).default as { annotations: { answers: { answer: string }[] }[] };
    const counts = new Map<string, number>();
    for (const a of anns.annotations) for (const x of a.answers) counts.set(x.answer, (counts.get(x.answer) ?? 0) + 1);
    const best = Math.max(...counts.values());
    expect(out[0]!.score).toBeCloseTo(best / 10, 9);
    expect(out.map((c) => c.score)).toEqual([...out.map((c) => c.score)].sort((a, b) => b - a));
  });

  it('a question with similar pool questions does not back off', async () => {
    const { ctx, notes } = stageContext();
    const anns = (await import(join(mini, 'train_questions.json'), { with: { type: 'json' } })).default as { questions: { question: string }[] };
    const out = await candidatesPrior.run({ sample: { questionId: 'q1', imageId: 'i1', question: anns.questions[0]!.question } } as never, params, ctx);
    expect(out.length).toBeGreaterThan(0);
    expect(notes.backoff).toBeUndefined();
  });
});
