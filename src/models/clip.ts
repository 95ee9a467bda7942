/**
 * CLIP image and text embeddings with the model's own projection heads (CLIPVisionModelWithProjection /
 * CLIPTextModelWithProjection), L2-normalised, batched, cached per input and model in `ctx.cache`.
 *
 *   const [v] = await embedTexts(['a red bus'], ctx);           // number[] of the projection size, ‖v‖ = 1
 *   const vs  = await embedImages([rawImage], ctx, { keys: ['<image hash>'] });
 *
 * The model is the `clip` role (see hub.ts): `models.ids.clip`, default `Xenova/clip-vit-base-patch32`,
 * or the generated tiny CLIP in profile `tiny`.
 */
import type { RawImage, Tensor } from '@huggingface/transformers';
import { transformers } from '../runtime/lazy.js';
import { Cache } from '../core/cache.js';
import type { RunContext } from '../core/context.js';
import { CacheMissError } from '../core/errors.js';
import { fastPixelValues } from './clip-pixels.js';
import { loadOnce, modelFingerprint, sourceFor, type ModelSource } from './hub.js';

export const CLIP_ROLE = 'clip';

export interface ClipOptions {
  /** Hub id or directory overriding the configured `clip` model. */
  model?: string;
  /** Inputs per forward pass (default 16). */
  batchSize?: number;
  /** Use `ctx.cache` for per-input results (default true). */
  cache?: boolean;
}

export interface ImageEmbedOptions extends ClipOptions {
  /**
   * Stable content keys of the images (e.g. the file hash plus crop box), one per image. When given (and caching is
   * on) each embedding is cached under (model, key). Without keys nothing is cached.
   */
  keys?: readonly string[];
}

type Ctx = Pick<RunContext, 'config' | 'paths' | 'resources' | 'cache'>;

/** Resolved CLIP model source (for fingerprints and traces). */
export function clipSource(ctx: Pick<RunContext, 'config' | 'paths'>, model?: string): ModelSource {
  return sourceFor(ctx, CLIP_ROLE, model);
}

/** modelFingerprint reads and hashes model files: once per run and model, not on every embedding call. */
function runModelFingerprint(ctx: Ctx, source: ModelSource): Promise<string> {
  return ctx.resources.get(`model-fingerprint:${source.from}:${source.location}:${source.dtype}`, () => modelFingerprint(source));
}

/** What identifies the CLIP model in cache keys and stage fingerprints. */
export function clipFingerprint(ctx: Pick<RunContext, 'config' | 'paths'>, model?: string): string {
  return modelFingerprint(clipSource(ctx, model));
}

/** Scale a vector to unit L2 norm (a zero vector stays zero). */
export function l2normalize(v: ArrayLike<number>): number[] {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const n = Math.sqrt(s);
  return Array.from(v, (x) => (n > 0 ? x / n : 0));
}

export function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Rows of a [n, d] tensor as unit vectors. */
function rows(t: Tensor): number[][] {
  const [n, d] = t.dims as [number, number];
  const data = t.data as Float32Array;
  const out: number[][] = [];
  for (let i = 0; i < n; i++) out.push(l2normalize(data.subarray(i * d, (i + 1) * d)));
  return out;
}

/** The tokenizer + text tower, loaded once per run. */
export function loadClipText(ctx: Pick<RunContext, 'resources'>, source: ModelSource) {
  return Promise.all([
    loadOnce(ctx, source, 'tokenizer', async (loc, o) => (await transformers()).AutoTokenizer.from_pretrained(loc, o), false),
    loadOnce(ctx, source, 'clip-text', async (loc, o) => (await transformers()).CLIPTextModelWithProjection.from_pretrained(loc, o)),
  ]);
}

/** The image processor + vision tower, loaded once per run. */
export function loadClipVision(ctx: Pick<RunContext, 'resources'>, source: ModelSource) {
  return Promise.all([
    loadOnce(ctx, source, 'processor', async (loc, o) => (await transformers()).AutoProcessor.from_pretrained(loc, o), false),
    loadOnce(ctx, source, 'clip-vision', async (loc, o) => (await transformers()).CLIPVisionModelWithProjection.from_pretrained(loc, o)),
  ]);
}

/**
 * Look each key up in the cache, compute the misses in batches, store them. `keys[i] === undefined` = uncached.
 * Cache modes are honoured: `off` never reads, `ro` never writes, `replay` throws on a miss.
 * `prepare` (pre-processing) of the next batch runs while `run` (the model) works on the current one.
 */
async function cachedBatches<T, P>(
  ctx: Pick<RunContext, 'cache'>,
  items: readonly T[],
  keys: readonly (string | undefined)[],
  label: string,
  batchSize: number,
  prepare: (batch: T[]) => Promise<P>,
  run: (prepared: P) => Promise<number[][]>,
): Promise<number[][]> {
  // lookup/save rather than get/put: the cache may be a shared PostgreSQL one (an SQLite cache answers synchronously).
  const out: (number[] | undefined)[] = await Promise.all(keys.map((k) => (k === undefined ? undefined : ctx.cache.lookup<number[]>(k))));
  const missing: number[] = [];
  out.forEach((v, i) => {
    if (v !== undefined) ctx.cache.stats.hits++;
    else missing.push(i);
  });
  if (ctx.cache.mode === 'replay') {
    const i = missing.find((m) => keys[m] !== undefined);
    if (i !== undefined) throw new CacheMissError(keys[i]!, label);
  }
  const batches: number[][] = [];
  for (let s = 0; s < missing.length; s += batchSize) batches.push(missing.slice(s, s + batchSize));
  const prep = (b: number[]) => {
    const p = prepare(b.map((i) => items[i]!));
    p.catch(() => undefined); // awaited below; avoid an unhandled rejection if an earlier batch fails first
    return p;
  };
  let next = batches.length ? prep(batches[0]!) : undefined;
  for (let b = 0; b < batches.length; b++) {
    const idx = batches[b]!;
    const prepared = await next!;
    // Start inference first, then pre-process the next batch while ONNX Runtime works off the JS thread.
    const running = run(prepared);
    next = b + 1 < batches.length ? prep(batches[b + 1]!) : undefined;
    const vecs = await running;
    const saves: Promise<void>[] = [];
    idx.forEach((i, j) => {
      out[i] = vecs[j]!;
      const k = keys[i];
      if (k !== undefined) {
        ctx.cache.stats.misses++;
        saves.push(ctx.cache.save(k, label, vecs[j]));
      }
    });
    await Promise.all(saves);
  }
  return out as number[][];
}

/** L2-normalised CLIP text embeddings (`text_embeds`), one per text, cached per (model, text). */
export async function embedTexts(texts: readonly string[], ctx: Ctx, opts: ClipOptions = {}): Promise<number[][]> {
  if (texts.length === 0) return [];
  const source = clipSource(ctx, opts.model);
  const fp = await runModelFingerprint(ctx, source);
  const keys = texts.map((t) => (opts.cache === false ? undefined : Cache.key({ kind: 'clip.text', model: fp, text: t })));
  // models load lazily (memoised per run): a fully cached call never loads them
  return cachedBatches(
    ctx,
    texts,
    keys,
    `clip text ${source.id}`,
    opts.batchSize ?? 32,
    async (batch) => (await loadClipText(ctx, source))[0](batch, { padding: true, truncation: true }),
    async (inputs) => rows((await (await loadClipText(ctx, source))[1](inputs)).text_embeds as Tensor),
  );
}

/** L2-normalised CLIP image embeddings (`image_embeds`), one per image; cached per (model, key) when keys are given. */
export async function embedImages(
  images: readonly RawImage[],
  ctx: Ctx,
  opts: ImageEmbedOptions = {},
): Promise<number[][]> {
  if (images.length === 0) return [];
  if (opts.keys && opts.keys.length !== images.length) {
    throw new Error(`embedImages: ${images.length} images but ${opts.keys.length} keys`);
  }
  const source = clipSource(ctx, opts.model);
  const fp = await runModelFingerprint(ctx, source);
  const keys = images.map((_, i) =>
    opts.cache === false || !opts.keys ? undefined : Cache.key({ kind: 'clip.image', model: fp, image: opts.keys[i] }),
  );
  return cachedBatches(
    ctx,
    images,
    keys,
    `clip image ${source.id}`,
    opts.batchSize ?? 16,
    async (batch) => {
      const [processor] = await loadClipVision(ctx, source);
      const ip = (processor as unknown as { image_processor?: Parameters<typeof fastPixelValues>[1] }).image_processor;
      return (ip && (await fastPixelValues(batch, ip))) ?? ((await processor(batch)).pixel_values as Tensor);
    },
    async (pixel_values) => rows((await (await loadClipVision(ctx, source))[1]({ pixel_values })).image_embeds as Tensor),
  );
}

/** The vision tower's input side and normalisation, from its image processor config (crop size, mean, std). */
export async function clipPixelConfig(
  ctx: Pick<RunContext, 'config' | 'paths' | 'resources'>,
  model?: string,
): Promise<{ size: number; mean: [number, number, number]; std: [number, number, number] }> {
  const [processor] = await loadClipVision(ctx, clipSource(ctx, model));
  const ip = (processor as unknown as { image_processor?: { crop_size?: number | { height: number; width: number }; image_mean?: number | number[]; image_std?: number | number[] } }).image_processor;
  const crop = ip?.crop_size;
  const size = typeof crop === 'number' ? crop : crop?.height;
  const triple = (v: number | number[] | undefined, what: string): [number, number, number] => {
    if (typeof v === 'number') return [v, v, v];
    if (Array.isArray(v) && v.length === 3) return [v[0]!, v[1]!, v[2]!];
    throw new Error(`CLIP image processor of ${clipSource(ctx, model).id}: no 3-channel ${what}`);
  };
  if (!size) throw new Error(`CLIP image processor of ${clipSource(ctx, model).id}: no crop size`);
  return { size, mean: triple(ip?.image_mean, 'image_mean'), std: triple(ip?.image_std, 'image_std') };
}

/**
 * L2-normalised CLIP image embeddings of pre-computed pixel values (each CHW float32, `size`², already normalised),
 * for pre-processing the processor does not do (KAT's crops); cached per (model, key) when keys are given.
 */
export async function embedPixelValues(
  pixels: readonly Float32Array[],
  size: number,
  ctx: Ctx,
  opts: ImageEmbedOptions = {},
): Promise<number[][]> {
  if (pixels.length === 0) return [];
  if (opts.keys && opts.keys.length !== pixels.length) throw new Error(`embedPixelValues: ${pixels.length} images but ${opts.keys.length} keys`);
  const source = clipSource(ctx, opts.model);
  const fp = await runModelFingerprint(ctx, source);
  const keys = pixels.map((_, i) =>
    opts.cache === false || !opts.keys ? undefined : Cache.key({ kind: 'clip.pixels', model: fp, image: opts.keys[i] }),
  );
  const per = 3 * size * size;
  return cachedBatches(
    ctx,
    pixels,
    keys,
    `clip image ${source.id}`,
    opts.batchSize ?? 16,
    async (batch) => {
      const data = new Float32Array(batch.length * per);
      batch.forEach((p, i) => {
        if (p.length !== per) throw new Error(`embedPixelValues: expected ${per} values (3×${size}×${size}), got ${p.length}`);
        data.set(p, i * per);
      });
      return new (await transformers()).Tensor('float32', data, [batch.length, 3, size, size]);
    },
    async (pixel_values) => rows((await (await loadClipVision(ctx, source))[1]({ pixel_values })).image_embeds as Tensor),
  );
}
