import { z } from 'zod';

/** Params shared by every example selector: PICa's n_shot and n_ensemble, and how examples are written. */
export const selectorParams = {
  shots: z.number().int().positive().default(16),
  ensemble: z.number().int().positive().default(5),
  answer: z.enum(['first', 'most-common']).default('first'),
  tags: z.boolean().default(false),
  contextStyle: z.enum(['pica', 'revive']).default('pica'),
  /**
   * Which of an example image's captions a shot uses: `first`, or `random` — one drawn per shot, seeded by config.seed
   * and the question id (PICa draws one of the five COCO captions per shot: `random.randint(0, len-1)`).
   */
  pick: z.enum(['first', 'random']).default('first'),
};
