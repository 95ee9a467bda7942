import { z } from 'zod';

/** Params shared by every example selector: PICa's n_shot and n_ensemble, and how examples are written. */
export const selectorParams = {
  shots: z.number().int().positive().default(16),
  ensemble: z.number().int().positive().default(5),
  answer: z.enum(['first', 'most-common']).default('first'),
  tags: z.boolean().default(false),
  contextStyle: z.enum(['pica', 'revive']).default('pica'),
};
