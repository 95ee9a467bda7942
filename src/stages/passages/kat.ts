/**
 * KAT's reader input (guilk/KAT src/data.py OkvqaDataset.__getitem__): the first `nContext` explicit passages, cycled
 * to `nContext` when fewer were found (`while len(entities) < n_context: entities += entities[:n_context - len]`), then
 * every implicit passage (`candidate: {answer} evidence: {evidence}`). The reader prefixes each with `question: {q} `.
 */
import { z } from 'zod';
import type { Passage } from '../../core/artifacts.js';
import { defineStage } from '../../core/stage.js';

/** KAT's explicit list: the first n, repeated from the start until there are n (none stay none). */
export function cycleTo<T>(items: readonly T[], n: number): T[] {
  const head = items.slice(0, n);
  if (head.length === 0) return [];
  return Array.from({ length: n }, (_, i) => head[i % head.length]!);
}

export function katPassages(explicit: readonly Passage[], implicit: readonly Passage[], nContext: number, cycle = true): Passage[] {
  const ex = cycle ? cycleTo(explicit, nContext) : explicit.slice(0, nContext);
  return [...ex, ...implicit];
}

export const passagesKat = defineStage({
  id: 'passages.kat',
  version: '1',
  description: "KAT's reader passages: n_context explicit (cycled to n_context when fewer), then the implicit ones",
  inputs: { explicit: { kind: 'passages', optional: true }, implicit: { kind: 'passages', optional: true } },
  output: 'passages',
  params: z.object({
    /** KAT's --n_context (40). */
    nContext: z.number().int().positive().default(40),
    /** Repeat the explicit passages up to nContext as KAT does (false: keep the ones found). */
    cycle: z.boolean().default(true),
    /** Keep at most this many implicit passages (default: all, as KAT). */
    implicitMax: z.number().int().nonnegative().optional(),
  }),
  cache: false,
  async run({ explicit, implicit }, p, ctx) {
    const imp = (implicit ?? []).slice(0, p.implicitMax ?? Infinity);
    const out = katPassages(explicit ?? [], imp, p.nContext, p.cycle);
    ctx.note('explicit', explicit?.length ?? 0);
    ctx.note('implicit', imp.length);
    return out;
  },
});
