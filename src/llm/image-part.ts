/**
 * Images for vision-language models: the image a question names, resized so its longest side is at most `maxSide`
 * (never enlarged; EXIF orientation applied; alpha flattened on white) and JPEG-encoded with sharp, then sent as an
 * OpenAI chat content part `{type: "image_url", image_url: {url: "data:image/jpeg;base64,…", detail}}`.
 *
 * The encoded bytes are inside the request, and the whole request is the LLM cache key (request-key.ts): the same image
 * at the same size replays, a changed `maxSide`, quality or image is a new key. Encodings are kept per run in a small
 * LRU (keyed by the source bytes' sha256 and the settings), so the stages of one question encode an image once.
 */
import { readFile } from 'node:fs/promises';
import sharp, { type OutputInfo } from 'sharp';
import type { RunContext } from '../core/context.js';
import { sha256 } from '../core/hash.js';
import { ImageError, imageBytesStore, MEMORY_IMAGE_PREFIX } from '../image/load.js';
import type { ChatContentPart } from './types.js';
import { PromiseLru } from '../core/promise-lru.js';

export interface VlmImageOptions {
  /** Longest side in pixels (the image is shrunk to fit, never enlarged). */
  maxSide: number;
  /** JPEG quality (1–100). */
  quality: number;
}

/** What is sent for one image, and what the trace records about it (never the bytes). */
export interface EncodedImage {
  jpeg: Buffer;
  width: number;
  height: number;
  /** sha256 of the JPEG bytes sent. */
  sha256: string;
  /** sha256 of the source file's bytes. */
  sourceSha256: string;
}

/** Resize and JPEG-encode image bytes (any format sharp reads). Errors name the image. */
export async function encodeImage(bytes: Buffer, name: string, o: VlmImageOptions): Promise<EncodedImage> {
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await sharp(bytes, { failOn: 'warning' })
      .rotate()
      .resize({ width: o.maxSide, height: o.maxSide, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: o.quality })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ImageError(`cannot encode the image for the vision-language model: ${(err as Error).message}`, name);
  }
  return { jpeg: out.data, width: out.info.width, height: out.info.height, sha256: sha256(out.data), sourceSha256: sha256(bytes) };
}

/** The bytes of an image path: a file, or in-memory bytes held for the question (`memory:<sha256>`). */
export async function readImageBytes(ctx: Pick<RunContext, 'resources'>, path: string): Promise<Buffer> {
  if (path.startsWith(MEMORY_IMAGE_PREFIX)) {
    const bytes = (await imageBytesStore(ctx)).get(path);
    if (!bytes) throw new ImageError('in-memory image is no longer held (its question finished)', path);
    return bytes;
  }
  try {
    const bytes = await readFile(path);
    if (bytes.length === 0) throw new ImageError('empty file, not an image', path);
    return bytes;
  } catch (err) {
    if (err instanceof ImageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImageError(code === 'ENOENT' ? 'image file not found' : `cannot read image: ${(err as Error).message}`, path);
  }
}

/** The encoded image of a path, shared by the stages of a run (LRU of 32). */
export async function encodedImageFor(ctx: Pick<RunContext, 'resources'>, path: string, o: VlmImageOptions): Promise<EncodedImage> {
  const lru = await ctx.resources.get('vlm:images', () => new PromiseLru<EncodedImage>(32));
  const bytes = await readImageBytes(ctx, path);
  return lru.get(`${sha256(bytes)}:${o.maxSide}:${o.quality}`, () => encodeImage(bytes, path, o));
}

/** The chat content part of an encoded image; `detail: 'omit'` leaves the field out. */
export function imagePart(img: Pick<EncodedImage, 'jpeg'>, detail: 'auto' | 'low' | 'high' | 'omit'): ChatContentPart {
  const url = `data:image/jpeg;base64,${img.jpeg.toString('base64')}`;
  return { type: 'image_url', image_url: detail === 'omit' ? { url } : { url, detail } };
}

/** Decode a `data:<mime>;base64,…` URL (tests, traces). Returns undefined for anything else. */
export function decodeDataUrl(url: string): { mime: string; bytes: Buffer } | undefined {
  const m = /^data:([\w/+.-]+);base64,(.*)$/s.exec(url);
  return m ? { mime: m[1]!, bytes: Buffer.from(m[2]!, 'base64') } : undefined;
}
