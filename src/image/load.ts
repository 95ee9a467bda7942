/**
 * Reading images for the vision stages, with errors that name the image: missing file, not an image,
 * truncated/corrupt data, absurd dimensions. Decoding uses sharp (libvips), which transformers.js also uses, in one of
 * two modes (`DecodeMode`):
 * - `sharp` (default): EXIF orientation applied, an embedded ICC profile converted to sRGB (sharp's own default), CMYK
 *   through an ICC profile, alpha dropped.
 * - `pil`: the pixels Pillow's `Image.open(path).convert('RGB')` gives (what KAT reads): no EXIF rotation, the ICC profile
 *   ignored (sharp's `ignoreIcc`), CMYK converted with Pillow's formula (./pil-convert.ts), L/P/LA/RGBA as Pillow
 *   converts them (grey replicated, palette looked up, alpha dropped), a 16-bit grey PNG clamped to 255 (Pillow's mode I),
 *   16-bit RGB by its high byte (as both read it).
 */
import { sha256 } from '../core/hash.js';
import { readFile, stat } from 'node:fs/promises';
import type { RawImage } from '@huggingface/transformers';
import { transformers } from '../runtime/lazy.js';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { MEMORY_IMAGE_PREFIX, type Sample } from '../core/artifacts.js';
import type { RunContext } from '../core/context.js';
import { InputError } from '../core/errors.js';
import { cocoFileNames } from '../data/coco.js';
import { join } from 'node:path';
import { pilCmykToRgb } from './pil-convert.js';
import { PromiseLru } from '../core/promise-lru.js';

export interface ImageLimits {
  /** Largest accepted width or height, in pixels. */
  maxSide: number;
  /** Largest accepted width × height. */
  maxPixels: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxSide: 20_000, maxPixels: 100_000_000 };

/** A problem with an image file; the message starts with the file path. */
export class ImageError extends InputError {
  override name = 'ImageError';
}

/** How image bytes become RGB pixels: sharp's defaults (auto-orient, ICC → sRGB) or Pillow's `convert('RGB')` (KAT). */
export type DecodeMode = 'sharp' | 'pil';
export const DECODE_MODES = ['sharp', 'pil'] as const;

/** A decoded image (RGB; EXIF orientation applied in `sharp` mode) plus where it came from and a hash of its bytes. */
export interface LoadedImage {
  path: string;
  /** sha256 of the file's bytes: identifies the content in cache keys. */
  hash: string;
  image: RawImage;
  width: number;
  height: number;
  /** How the bytes were decoded. */
  decode: DecodeMode;
  /**
   * `pil` mode, CMYK file: the CMYK bands as Pillow holds them (interleaved, 4 per pixel), for code that, as KAT,
   * resizes before `convert('RGB')` (`image` is the converted RGB).
   */
  cmyk?: Uint8Array;
}

/** Read and decode one image file. Throws `ImageError` naming `path` on any problem. */
export async function readImage(path: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS, decode: DecodeMode = 'sharp'): Promise<LoadedImage> {
  let bytes: Buffer;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ImageError('not a file', path);
    if (st.size === 0) throw new ImageError('empty file, not an image', path);
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof ImageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImageError(code === 'ENOENT' ? 'image file not found' : `cannot read image: ${(err as Error).message}`, path);
  }
  return decodeImage(bytes, path, limits, decode);
}

/** Decode image bytes (any format sharp reads). `name` is what errors and `LoadedImage.path` call it. */
export async function decodeImage(
  bytes: Buffer,
  name: string,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
  decode: DecodeMode = 'sharp',
): Promise<LoadedImage> {
  const path = name;
  if (bytes.length === 0) throw new ImageError('empty file, not an image', path);
  let meta: Metadata;
  try {
    // Header only (no pixels are decoded), so sharp's own pixel limit is lifted here: our limits below refuse an
    // oversized image with its dimensions, before any decoding.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageError(`not an image (or an unsupported format): ${(err as Error).message}`, path);
  }
  const w = (decode === 'sharp' ? meta.autoOrient?.width : undefined) ?? meta.width ?? 0;
  const h = (decode === 'sharp' ? meta.autoOrient?.height : undefined) ?? meta.height ?? 0;
  if (!(w >= 1 && h >= 1)) throw new ImageError(`image has no pixels (${w}x${h})`, path);
  if (w > limits.maxSide || h > limits.maxSide || w * h > limits.maxPixels) {
    throw new ImageError(
      `image dimensions ${w}x${h} exceed the limits (side ≤ ${limits.maxSide}, pixels ≤ ${limits.maxPixels})`,
      path,
    );
  }
  let data: Buffer;
  let info: OutputInfo;
  const cmyk = decode === 'pil' && meta.space === 'cmyk';
  // Pillow opens a 16-bit grey PNG as mode I (32-bit integers) and convert('RGB') clamps each value to 255, where
  // libvips scales 16 bits down to 8
  const grey16 = decode === 'pil' && meta.space === 'grey16' && meta.channels === 1;
  try {
    const opts = { failOn: 'warning', limitInputPixels: limits.maxPixels } as const;
    if (decode === 'sharp') {
      ({ data, info } = await sharp(bytes, opts).rotate().toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true }));
    } else if (grey16) {
      ({ data, info } = await sharp(bytes, { ...opts, ignoreIcc: true }).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true }));
    } else if (cmyk) {
      // the file's CMYK bytes as Pillow holds them (libvips undoes Adobe's inversion as Pillow's "CMYK;I" does)
      ({ data, info } = await sharp(bytes, { ...opts, ignoreIcc: true })
        .pipelineColourspace('cmyk')
        .toColourspace('cmyk')
        .raw()
        .toBuffer({ resolveWithObject: true }));
    } else {
      ({ data, info } = await sharp(bytes, { ...opts, ignoreIcc: true }).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true }));
    }
  } catch (err) {
    throw new ImageError(`truncated or corrupt image data: ${(err as Error).message}`, path);
  }
  const { RawImage: RawImageClass } = await transformers();
  let image: RawImage;
  if (cmyk) {
    if (info.channels !== 4) throw new ImageError(`CMYK image decoded to ${info.channels} channels, expected 4`, path);
    image = new RawImageClass(pilCmykToRgb(data, info.width * info.height), info.width, info.height, 3);
  } else if (grey16) {
    const values = new Uint16Array(data.buffer, data.byteOffset, data.byteLength >> 1);
    const rgb = new Uint8ClampedArray(values.length * 3);
    for (let i = 0; i < values.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = values[i]!; // clamps to 255
    image = new RawImageClass(rgb, info.width, info.height, 3);
  } else {
    const channels = info.channels as 1 | 2 | 3 | 4;
    image = new RawImageClass(new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength), info.width, info.height, channels);
    if (channels !== 3) image = image.rgb();
  }
  const hash = sha256(bytes);
  const loaded: LoadedImage = { path, hash, image, width: info.width, height: info.height, decode };
  if (cmyk) loaded.cmyk = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return loaded;
}

export { MEMORY_IMAGE_PREFIX } from '../core/artifacts.js';

/**
 * Image bytes held in memory for the duration of the questions that use them (library callers passing a Buffer),
 * reference-counted by content hash so two questions on the same bytes share one copy.
 */
export class ImageBytesStore {
  private readonly entries = new Map<string, { bytes: Buffer; refs: number }>();

  /** Hold `bytes`; returns its pseudo path and a release function (call it once the question is done). */
  hold(bytes: Buffer, hash = sha256(bytes)): { path: string; hash: string; release: () => void } {
    const e = this.entries.get(hash);
    if (e) e.refs++;
    else this.entries.set(hash, { bytes, refs: 1 });
    let released = false;
    return {
      path: MEMORY_IMAGE_PREFIX + hash,
      hash,
      release: () => {
        if (released) return;
        released = true;
        const cur = this.entries.get(hash);
        if (cur && --cur.refs <= 0) this.entries.delete(hash);
      },
    };
  }

  get(path: string): Buffer | undefined {
    return path.startsWith(MEMORY_IMAGE_PREFIX) ? this.entries.get(path.slice(MEMORY_IMAGE_PREFIX.length))?.bytes : undefined;
  }
}

/** The run's store of in-memory image bytes. */
export function imageBytesStore(ctx: Pick<RunContext, 'resources'>): Promise<ImageBytesStore> {
  return ctx.resources.get('images:bytes', () => new ImageBytesStore());
}

/** Load an image through the run's image LRU (shared by the stages of a run), decoded as `decode` says. */
export async function loadImage(ctx: Pick<RunContext, 'resources'>, path: string, decode: DecodeMode = 'sharp'): Promise<LoadedImage> {
  // small (32): stages of one question share a decode without the run holding a whole batch of pixels
  const lru = await ctx.resources.get('images:lru', () => new PromiseLru<LoadedImage>(32));
  const key = `${decode}:${path}`;
  if (path.startsWith(MEMORY_IMAGE_PREFIX)) {
    const bytes = (await imageBytesStore(ctx)).get(path);
    if (!bytes) throw new ImageError('in-memory image is no longer held (its question finished)', path);
    return lru.get(key, () => decodeImage(bytes, path, DEFAULT_IMAGE_LIMITS, decode));
  }
  // a file replaced under the same path (a long-lived answerer, a re-encoded copy) is decoded again
  const st = await stat(path).catch(() => undefined);
  return lru.get(st ? `${key}:${st.size}:${st.mtimeMs}` : key, () => readImage(path, DEFAULT_IMAGE_LIMITS, decode));
}

/**
 * The image path of a sample, or an error naming the question. `imagesFolder` (data.json "images") tells a file missing
 * from the folder apart from a run that names no folder at all.
 */
export function sampleImagePath(sample: Sample, imagesFolder?: string): string {
  if (sample.imagePath) return sample.imagePath;
  if (imagesFolder && sample.imageId !== undefined) {
    const [expected, ...others] = cocoFileNames(sample.imageId);
    throw new ImageError(
      `image file missing: question ${sample.questionId} needs COCO image ${sample.imageId}, which is not in the images folder ${imagesFolder} ` +
        `(looked for ${expected}, ${others.join(', ')}, in the folder and one level down)`,
      join(imagesFolder, expected!),
    );
  }
  throw new InputError(
    `question ${sample.questionId} (image ${sample.imageId ?? sample.imageHash ?? 'unknown'}) has no image path: give an images folder in data.json ("images"), or an image to answer()`,
  );
}
