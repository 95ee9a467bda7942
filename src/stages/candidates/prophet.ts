/**
 * `candidates.prophet`: the question's answer candidates from Prophet's released heuristics (`candidates_okvqa.json`,
 * `candidates_aokvqa_{val,test}.json`; data.json `prophet.candidates`), in the file's order (best first), confidence as
 * `score`. A question the file does not cover takes the optional `fallback` input (any `candidates.*` stage whose
 * scores are confidences) — a variant; without it, it fails as Prophet would.
 */
import { z } from 'zod';
import type { Candidate } from '../../core/artifacts.js';
import { InputError } from '../../core/errors.js';
import { fileIdentity } from '../../core/file-identity.js';
import { defineStage } from '../../core/stage.js';
import { checkProphetFile, prophetPath, releasedCandidates, requireProphetPath } from '../prophet-files.js';

export const candidatesProphet = defineStage({
  id: 'candidates.prophet',
  version: '1',
  description: "Prophet's released answer candidates with confidences (candidates_okvqa.json); optional fallback candidates input",
  inputs: { sample: { kind: 'sample' }, fallback: { kind: 'candidates', optional: true } },
  output: 'candidates',
  params: z.strictObject({
    /** Candidates file; default data.json `prophet.candidates`. */
    file: z.string().optional(),
    /** Pre-flight: every question must be in the file (true, as Prophet) or may use the fallback input (false). */
    required: z.boolean().default(true),
  }),
  cache: false,
  fingerprint: (p, ctx) => fileIdentity(prophetPath(ctx, 'candidates', p.file)),
  check: (p, ctx) => checkProphetFile(ctx, 'candidates', p.file, ctx.samples.map((s) => s.questionId), p.required),
  async run({ sample, fallback }, p, ctx) {
    const path = fallback ? prophetPath(ctx, 'candidates', p.file) : requireProphetPath(ctx, 'candidates', p.file);
    const released = path ? (await releasedCandidates(ctx, path)).get(sample.questionId) : undefined;
    if (released) return released.map((c): Candidate => ({ answer: c.answer, score: c.confidence, source: 'prophet' }));
    if (fallback) {
      ctx.note('candidateSource', 'fallback (question not in the released candidates)');
      return fallback;
    }
    throw new InputError(`question ${sample.questionId} is not in Prophet's candidates`, path);
  },
});
