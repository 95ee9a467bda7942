import type { Example } from '../../core/artifacts.js';
import type { RunContext } from '../../core/context.js';
import { InputError } from '../../core/errors.js';
import { hashValue } from '../../core/hash.js';
import { detectKeying, loadCaptions, loadTags } from '../../data/captions.js';
import { getPoolSamples } from '../../data/example-pool.js';

/** One usable in-context example of the pool (the training split). */
export interface PoolItem {
  questionId: string;
  imageId: number;
  question: string;
  answers: string[];
  imagePath?: string;
  captions: string[];
  tags: string[];
}

export interface ExamplePool {
  items: PoolItem[];
  /** Content hash of the pool (questions, answers, captions, tags): keys cached pool features. */
  hash: string;
  /** Why some annotated questions are not in the pool (no caption, empty answer…), for the trace. */
  skipped: Record<string, number>;
}

/**
 * The example pool named by data.json `examples`, loaded once per run. Like PICa, a question needs a non-empty
 * question and first answer; it also needs a caption of its image (PICa used COCO ground-truth train captions).
 */
export function getExamplePool(ctx: Pick<RunContext, 'data' | 'resources'>): Promise<ExamplePool> {
  const ex = ctx.data.examples;
  if (!ex) {
    return Promise.reject(
      new InputError('in-context examples need a pool: add "examples": {questions, annotations, captions} to data.json'),
    );
  }
  return ctx.resources.get(`examples-pool:${hashValue(ex)}`, async () => {
    if (!ex.captions) {
      throw new InputError(
        'in-context examples need captions of the example images: set "examples.captions" in data.json (e.g. COCO train captions)',
      );
    }
    const samples = await getPoolSamples(ctx);
    const captions = loadCaptions(ex.captions, 'examples');
    const capKeying = detectKeying(captions, samples);
    const tags = ex.tags ? loadTags(ex.tags) : undefined;
    const tagKeying = tags ? detectKeying(tags, samples) : 'image';
    const key = (k: 'image' | 'question', s: { questionId: string; imageId?: number }) => (k === 'question' ? s.questionId : String(s.imageId));
    const items: PoolItem[] = [];
    const skipped: Record<string, number> = {};
    const skip = (why: string) => (skipped[why] = (skipped[why] ?? 0) + 1);
    for (const s of samples) {
      if (!s.question) { skip('empty question'); continue; }
      if (s.imageId === undefined) { skip('no image id'); continue; }
      if (!s.answers?.length || !s.answers[0]) { skip('no answer'); continue; }
      const caps = captions.get(key(capKeying, s))?.map((c) => c.text) ?? [];
      if (!caps.length) { skip('no caption'); continue; }
      const item: PoolItem = {
        questionId: s.questionId,
        imageId: s.imageId,
        question: s.question,
        answers: s.answers,
        captions: caps,
        tags: tags?.get(key(tagKeying, s))?.map((t) => t.label) ?? [],
      };
      if (s.imagePath) item.imagePath = s.imagePath;
      items.push(item);
    }
    if (!items.length) {
      throw new InputError(`the example pool is empty (${JSON.stringify(skipped)}): check examples.captions keys`, ex.questions);
    }
    return { items, skipped, hash: hashValue(items) };
  });
}

export interface ExampleFormat {
  /** `first`: the first annotated answer, as PICa (`answer_dict[key][0]`); `most-common`: the most frequent one. */
  answer: 'first' | 'most-common';
  /** Append the example image's tags to its context (PICa's examples use captions only). */
  tags: boolean;
  contextStyle: 'pica' | 'revive';
}

function mostCommon(answers: readonly string[]): string {
  const counts = new Map<string, number>();
  let best = answers[0]!;
  for (const a of answers) {
    const n = (counts.get(a) ?? 0) + 1;
    counts.set(a, n);
    if (n > counts.get(best)!) best = a;
  }
  return best;
}

export function toExample(item: PoolItem, fmt: ExampleFormat, similarity?: number): Example {
  let context = item.captions[0]!;
  if (fmt.tags && item.tags.length) context = fmt.contextStyle === 'revive' ? `${context} + ${item.tags.join(', ')}` : `${context}. ${item.tags.join(', ')}`;
  const ex: Example = {
    questionId: item.questionId,
    imageId: item.imageId,
    question: item.question,
    answer: fmt.answer === 'first' ? item.answers[0]! : mostCommon(item.answers),
    answers: item.answers,
    context,
  };
  if (similarity !== undefined) ex.similarity = similarity;
  return ex;
}

/** Indices of the `n` highest scores, best first (ties: lower index first). */
export function topK(scores: ArrayLike<number>, n: number, exclude?: (i: number) => boolean): number[] {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!exclude?.(i)) idx.push(i);
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return idx.slice(0, n);
}
