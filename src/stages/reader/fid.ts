/**
 * `reader.fid`: KAT's / REVIVE's Fusion-in-Decoder reader (see src/reader/fid.ts for what it computes).
 *
 * The engine calls a stage once per question; concurrent calls of one run are grouped by a micro-batcher into one
 * (ΣN, L) encoder call and one batched decode (`batchSize` questions, `batchWindowMs`).
 *
 * Regions (REVIVE): with `regionsAs: auto` and a checkpoint carrying `onnx/visual_projection.onnx`, each region's CLIP
 * embedding ‖ normalised box becomes one visual token appended to the fused encoder states; otherwise each region is read
 * as a text passage `region: {label} tags: {its tags} box: {x1} {y1} {x2} {y2}` appended after the given passages.
 */
import { z } from 'zod';
import type { Passage, Prediction, Region, Tag } from '../../core/artifacts.js';
import type { StageContext } from '../../core/context.js';
import { hashValue } from '../../core/hash.js';
import { defineStage, type InputSpecs } from '../../core/stage.js';
import { checkDevice, checkModel } from '../checks.js';
import { nearestChoice } from '../../eval/predictions.js';
import { MicroBatcher } from '../../reader/batcher.js';
import { EncoderStateCache } from '../../reader/encoder-cache.js';
import { fidGenerate, FID_KAT, type FidAnswer, type FidOptions, type FidQuestion } from '../../reader/fid.js';
import { loadT5Reader, readerFingerprint, readerSource, type T5Reader } from '../../reader/t5.js';

export const fidParams = z.strictObject({
  /** Reader model (hub id or folder); default: the `reader` role (Xenova/flan-t5-base; profile tiny: okvqa-tiny/t5). */
  model: z.string().optional(),
  /**
   * Weights to load for the reader alone (default: `models.dtype`): `q8` = the dynamic-int8 files
   * (`onnx/encoder_model_quantized.onnx`, `onnx/decoder_model_merged_quantized.onnx`), about 2× faster on CPU.
   */
  dtype: z.enum(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4']).optional(),
  /** Tokens per passage (KAT text_maxlength: 64). */
  textMaxLength: z.number().int().min(2).default(FID_KAT.textMaxLength),
  /** Decoder positions counting the start token, as transformers' generate(max_length) (KAT: 10 → ≤ 9 new tokens). */
  maxLength: z.number().int().min(2).default(FID_KAT.maxLength),
  /**
   * Append EOS to each passage. false = KAT (its transformers 3.0.2 T5 tokenizer appended none), the default, used by
   * every shipped pipeline that does not override it; true = what current tokenizers (and flan-t5's training) do.
   */
  appendEos: z.boolean().default(FID_KAT.appendEos),
  /** 1 = greedy (KAT); more = beam search. */
  numBeams: z.number().int().min(1).default(FID_KAT.numBeams),
  /** FiD passage attribution from the first decoded token's cross-attention (when the decoder exposes it). */
  attribution: z.boolean().default(true),
  /** How each passage is read (KAT: `question: {question} {passage}`). */
  template: z.string().default(FID_KAT.template),
  /** Passages read per question (the first N; KAT feeds all it builds). */
  maxPassages: z.number().int().positive().optional(),
  /** How regions enter: visual tokens when the checkpoint has a projection (auto), always as text, or not at all. */
  regionsAs: z.enum(['auto', 'tokens', 'text', 'none']).default('auto'),
  /** Questions per encoder/decoder batch, and how long a lone question waits for others (ms). */
  batchSize: z.number().int().positive().default(8),
  batchWindowMs: z.number().int().min(0).default(5),
  /**
   * Encoder states of passages kept by content for the run (MB; 0 = off): a question read again with some passages
   * changed (only the implicit ones, say) encodes only the changed ones. 196 KB a passage at flan-t5-base.
   */
  encoderCacheMb: z.number().min(0).default(256),
});
export type FidParams = z.infer<typeof fidParams>;

function fidOptions(p: FidParams): FidOptions {
  return {
    textMaxLength: p.textMaxLength,
    maxLength: p.maxLength,
    appendEos: p.appendEos,
    numBeams: p.numBeams,
    attribution: p.attribution,
    template: p.template,
  };
}

/** The image size a region's box lives in: its own, else the whole-image region's box. */
export function imageSizeOf(regions: readonly Region[]): { width: number; height: number } | undefined {
  const own = regions.find((r) => r.image)?.image;
  if (own) return own;
  const whole = regions.find((r) => r.source === 'image');
  return whole ? { width: whole.box.xmax, height: whole.box.ymax } : undefined;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Normalised box [x1/w, y1/h, x2/w, y2/h]. */
export function normalisedBox(r: Region, size: { width: number; height: number }): [number, number, number, number] {
  return [r.box.xmin / size.width, r.box.ymin / size.height, r.box.xmax / size.width, r.box.ymax / size.height];
}

/**
 * A region as a text passage: `region: {label} tags: {t1, t2} box: {x1} {y1} {x2} {y2}` (box normalised by the image size,
 * 2 decimals; pixels when the size is unknown; `tags:` left out when the region has none).
 */
export function regionPassage(r: Region, tags: readonly Tag[], size: { width: number; height: number } | undefined): string {
  const own = tags.filter((t) => t.region === r.id).map((t) => t.label);
  const box = size ? normalisedBox(r, size).map(round2) : [r.box.xmin, r.box.ymin, r.box.xmax, r.box.ymax].map(Math.round);
  return `region: ${r.label ?? r.source}${own.length ? ` tags: ${own.join(', ')}` : ''} box: ${box.join(' ')}`;
}

export interface RegionPlan {
  /** Extra text passages (regions read as text). */
  texts: string[];
  /** Visual token feature rows. */
  visual: number[][];
  /** What happened, for the trace. */
  note: string;
}

/** Decide how the regions enter the reader. */
export function planRegions(
  regions: readonly Region[] | undefined,
  tags: readonly Tag[] | undefined,
  reader: Pick<T5Reader, 'visual' | 'visualFeatures'>,
  mode: FidParams['regionsAs'],
): RegionPlan {
  if (!regions?.length || mode === 'none') return { texts: [], visual: [], note: regions?.length ? 'regions not used (regionsAs: none)' : 'no regions' };
  const size = imageSizeOf(regions);
  const asText = (why: string): RegionPlan => ({
    texts: regions.map((r) => regionPassage(r, tags ?? [], size)),
    visual: [],
    note: `${regions.length} regions read as text passages: ${why}`,
  });
  if (mode === 'text') return asText('regionsAs: text');
  if (!reader.visual) {
    if (mode === 'tokens') throw new Error('regionsAs: tokens, but the reader checkpoint has no onnx/visual_projection.onnx');
    return asText('the reader checkpoint has no onnx/visual_projection.onnx');
  }
  const problem = !size
    ? 'the image size is unknown (regions carry no image size and there is no whole-image region)'
    : regions.some((r) => !r.embedding)
      ? 'some regions have no CLIP embedding (set embed: true on the regions stage)'
      : reader.visualFeatures !== undefined && regions.some((r) => r.embedding!.length + 4 !== reader.visualFeatures)
        ? `region embeddings have ${regions[0]!.embedding!.length} dimensions, the visual projection takes ${reader.visualFeatures! - 4} + 4`
        : undefined;
  if (problem) {
    if (mode === 'tokens') throw new Error(`regionsAs: tokens, but ${problem}`);
    return asText(problem);
  }
  return {
    texts: [],
    visual: regions.map((r) => [...r.embedding!, ...normalisedBox(r, size!)]),
    note: `${regions.length} visual tokens`,
  };
}

/** A-OKVQA multiple choice: the choice equal to the generated answer (any case), else the nearest by word overlap. */
export function withChoice(pred: Prediction, choices: readonly string[] | undefined, ctx: Pick<StageContext, 'note'>): void {
  if (!choices?.length) return;
  const exact = choices.find((c) => c.toLowerCase() === pred.answer.toLowerCase());
  pred.multipleChoice = exact ?? nearestChoice(pred.answer, choices)!;
  if (exact === undefined) ctx.note('multipleChoice', 'the answer is not a choice: nearest choice by word overlap');
}

interface BatchItem {
  q: FidQuestion;
}

/** The run's encoder-state cache of one loaded reader (its files, dtype and device). */
export function encoderCacheFor(ctx: Pick<StageContext, 'resources'>, reader: T5Reader, mb: number): Promise<EncoderStateCache> {
  const key = `fid-encoder-cache:${reader.source.location}:${reader.source.dtype}:${reader.source.device}`;
  return ctx.resources.get(key, () => new EncoderStateCache(mb * 1024 * 1024));
}

/** The run's micro-batcher for one reader + options (shared by every question of the run). */
async function batcherFor(ctx: StageContext, reader: T5Reader, p: FidParams): Promise<MicroBatcher<BatchItem, FidAnswer>> {
  const o = fidOptions(p);
  const cache = p.encoderCacheMb > 0 ? await encoderCacheFor(ctx, reader, p.encoderCacheMb) : undefined;
  const key = `fid-batcher:${reader.source.location}:${reader.source.dtype}:${reader.source.device}:${hashValue({ o, b: p.batchSize, w: p.batchWindowMs })}`;
  return ctx.resources.get(key, () => new MicroBatcher<BatchItem, FidAnswer>((items) => fidGenerate(reader, items.map((i) => i.q), o, cache), {
    maxSize: p.batchSize,
    windowMs: p.batchWindowMs,
  }));
}

/** What every reader reads: the question, its passages, and (REVIVE) the regions with their tags. */
export const READER_INPUTS = {
  sample: { kind: 'sample' },
  passages: { kind: 'passages' },
  regions: { kind: 'regions', optional: true },
  tags: { kind: 'tags', optional: true },
} as const satisfies InputSpecs;

export const readerFid = defineStage({
  id: 'reader.fid',
  version: '1',
  description:
    'Fusion-in-Decoder reader (FiD / KAT) on a T5 ONNX checkpoint: passages read as "question: {q} {passage}", encoded apart, fused, decoded; FiD passage attribution; REVIVE visual tokens',
  inputs: READER_INPUTS,
  output: 'answer',
  params: fidParams,
  fingerprint: (p, ctx) => readerFingerprint(ctx, p.model, p.dtype),
  check: async (p, ctx) => [...checkModel(ctx, 'reader', p.model), ...(await checkDevice(ctx))],
  async run({ sample, passages, regions, tags }, p, ctx): Promise<Prediction> {
    const reader = await loadT5Reader(ctx, readerSource(ctx, p.model, p.dtype));
    const used: readonly Passage[] = p.maxPassages ? passages.slice(0, p.maxPassages) : passages;
    const plan = planRegions(regions, tags, reader, p.regionsAs);
    const q: FidQuestion = { question: sample.question, passages: [...used.map((x) => x.text), ...plan.texts] };
    if (plan.visual.length) q.visual = plan.visual;
    const batcher = await batcherFor(ctx, reader, p);
    const a = await batcher.submit({ q });

    const pred: Prediction = { answer: a.text, score: Math.exp(a.logprob), logprob: a.logprob, method: 'fid' };
    withChoice(pred, sample.choices, ctx);
    if (a.attribution) {
      // aligned with the passages input (all of them: those beyond maxPassages were not read and score 0)
      pred.attribution = passages.map((_, i) => (i < used.length ? a.attribution![i]! : 0));
    }
    ctx.note('reader', {
      model: reader.source.id,
      passages: used.length,
      passagesRead: a.passagesRead,
      appendEos: p.appendEos,
      tokens: a.tokens,
      tokenLogprobs: a.tokenLogprobs,
      crossAttentionLength: a.crossLength,
      fusedLength: a.fusedLength,
      batchQuestions: a.batchQuestions,
      batchEncodedPassages: a.batchEncodedPassages,
      batchCachedPassages: a.batchCachedPassages,
    });
    ctx.note('regions', plan.note);
    ctx.note('visualTokens', a.visualTokens);
    if (plan.texts.length && a.attribution) ctx.note('regionAttribution', a.attribution.slice(used.length));
    if (a.visualAttribution) ctx.note('visualAttribution', a.visualAttribution);
    if (a.attribution) ctx.note('attribution', { kind: a.attributionKind, scores: pred.attribution });
    else ctx.note('attribution', `absent: ${a.attributionMissing}`);
    return pred;
  },
});
