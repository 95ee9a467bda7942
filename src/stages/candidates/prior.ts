import { z } from 'zod';
import type { Candidate } from '../../core/artifacts.js';
import type { RunContext } from '../../core/context.js';
import { defineStage } from '../../core/stage.js';
import { getPoolSamples } from '../../data/example-pool.js';
import { normalizeAnswer } from '../../eval/normalize.js';
import { TfidfIndex } from '../../text/tfidf.js';
import { fileIdentity } from '../../core/file-identity.js';
import { checkExamplePool } from '../checks.js';

interface PriorIndex {
  tfidf: TfidfIndex;
  questionIds: string[];
  /** Per pool question: normalised answer → { count, surface forms with counts }. */
  answers: Map<string, { count: number; forms: Map<string, number> }>[];
  /** Over the whole pool: normalised answer → summed counts and surface forms (the back-off when no question is similar). */
  overall: Map<string, { count: number; forms: Map<string, number> }>;
}

function buildIndex(ctx: RunContext): Promise<PriorIndex> {
  return ctx.resources.get(`prior-index:${ctx.data.examples?.questions}:${ctx.data.examples?.annotations}`, async () => {
    const pool = await getPoolSamples(ctx);
    const answers = pool.map((s) => {
      const m = new Map<string, { count: number; forms: Map<string, number> }>();
      for (const raw of s.answers ?? []) {
        const key = normalizeAnswer(raw);
        if (!key) continue;
        let e = m.get(key);
        if (!e) m.set(key, (e = { count: 0, forms: new Map() }));
        e.count++;
        e.forms.set(raw, (e.forms.get(raw) ?? 0) + 1);
      }
      return m;
    });
    const overall = new Map<string, { count: number; forms: Map<string, number> }>();
    for (const m of answers)
      for (const [key, e] of m) {
        let o = overall.get(key);
        if (!o) overall.set(key, (o = { count: 0, forms: new Map() }));
        o.count += e.count;
        for (const [f, n] of e.forms) o.forms.set(f, (o.forms.get(f) ?? 0) + n);
      }
    return { tfidf: new TfidfIndex(pool.map((s) => s.question)), questionIds: pool.map((s) => s.questionId), answers, overall };
  });
}

/**
 * Question-prior baseline: the answers of the k training questions most similar to this one (TF-IDF cosine over question
 * text), each weighted by similarity^power × (answer count / 10), summed per normalised answer. Optionally boosts answers
 * whose words appear in the image's captions/tags. Uses no image: it is the "Q-only" style baseline of the OK-VQA paper.
 * A question that shares no word with any pool question (no similar question, or none with an answer) backs off to the
 * pool's overall answer frequencies (answer count / 10, summed over the pool), noted in the trace as `backoff`.
 */
export const candidatesPrior = defineStage({
  id: 'candidates.prior',
  version: '2',
  description: 'Answer candidates voted by the most similar training questions (TF-IDF), optionally boosted by caption words',
  inputs: { sample: { kind: 'sample' }, captions: { kind: 'captions', optional: true }, tags: { kind: 'tags', optional: true } },
  output: 'candidates',
  params: z.strictObject({
    k: z.number().int().positive().default(80),
    power: z.number().min(0).default(2),
    /** Multiplier added for an answer that occurs in the captions/tags: score × (1 + boost). 0 disables. */
    boost: z.number().min(0).default(0),
    top: z.number().int().positive().default(10),
  }),
  fingerprint: (_p, ctx) => [fileIdentity(ctx.data.examples?.questions), fileIdentity(ctx.data.examples?.annotations)].join('|'),
  check: (_p, ctx) => checkExamplePool(ctx, { captions: false, images: false }),
  async run({ sample, captions, tags }, params, ctx) {
    const index = await buildIndex(ctx);
    const hits = index.tfidf.search(sample.question, params.k, (i) => index.questionIds[i] === sample.questionId);
    const scores = new Map<string, { score: number; forms: Map<string, number> }>();
    for (const h of hits) {
      const w = h.score ** params.power;
      for (const [key, e] of index.answers[h.index]!) {
        let s = scores.get(key);
        if (!s) scores.set(key, (s = { score: 0, forms: new Map() }));
        s.score += (w * e.count) / 10;
        for (const [f, n] of e.forms) s.forms.set(f, (s.forms.get(f) ?? 0) + n);
      }
    }
    if (scores.size === 0) {
      // back-off: no pool question is similar (no shared word), so the pool's overall answer frequencies vote
      for (const [key, e] of index.overall) scores.set(key, { score: e.count / 10, forms: e.forms });
      ctx.note('backoff', "no example-pool question shares a word with this one: the pool's overall answer frequencies");
    }
    if (params.boost > 0) {
      const context = ` ${[...(captions ?? []).map((c) => c.text), ...(tags ?? []).map((t) => t.label)].map(normalizeAnswer).join(' ')} `;
      for (const [key, s] of scores) if (context.includes(` ${key} `)) s.score *= 1 + params.boost;
    }
    const out: Candidate[] = [...scores.entries()]
      .map(([, s]) => ({ answer: mostFrequent(s.forms), score: s.score, source: 'prior' }))
      .sort((a, b) => b.score - a.score || a.answer.localeCompare(b.answer));
    return out.slice(0, params.top);
  },
});

function mostFrequent(forms: Map<string, number>): string {
  let best = '';
  let n = -1;
  for (const [f, c] of forms) if (c > n || (c === n && f < best)) [best, n] = [f, c];
  return best;
}
