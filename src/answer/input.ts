/**
 * What a library caller hands to `answer()`: a question and, optionally, an image as a path, a `file:` URL or bytes —
 * no COCO id or dataset needed. Turned here into the `Sample` the pipeline runs on.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatasetName, Sample } from '../core/artifacts.js';
import type { RunContext } from '../core/context.js';
import { InputError } from '../core/errors.js';
import { hashValue, sha256 } from '../core/hash.js';
import { ImageError, imageBytesStore } from '../stages/image/load.js';

export type ImageInput = string | URL | Buffer | Uint8Array;

export interface AnswerInput {
  /** A file path, a `file:` URL (string or URL), or the image's bytes (any format sharp decodes: JPEG, PNG, WebP…). */
  image?: ImageInput;
  /**
   * COCO image id. When given, it identifies the image in cache keys (as in batch runs, so their caches are shared) and
   * file-backed stages (VinVL captions/tags) can look it up. Without it the image's content hash identifies it.
   */
  imageId?: number;
  question: string;
  /** Default: derived from the image and the question, so asking the same thing twice hits the cache. */
  questionId?: string;
  /** Default `okvqa`. */
  dataset?: DatasetName;
  /** A-OKVQA multiple choice. */
  choices?: string[];
  /** The image path as a dataset `Sample` carries it (same as `image` given as a path). */
  imagePath?: string;
}

/** A sample ready to run, plus what to release once its question is done. */
export interface PreparedInput {
  sample: Sample;
  release(): void;
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array; // Buffer is a Uint8Array
}

/** The local path an image input names, or undefined for bytes. Only local files: a QA app uploads, it does not fetch. */
export function imageInputPath(image: string | URL): string {
  if (image instanceof URL) {
    if (image.protocol !== 'file:') throw new ImageError(`only local images are read (a path, a Buffer or a file: URL), not ${image.protocol} URLs`, image.href);
    return fileURLToPath(image);
  }
  if (image.startsWith('file:')) return fileURLToPath(image);
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(image)) {
    throw new ImageError('only local images are read (a path, a Buffer or a file: URL); download the image first', image);
  }
  return resolve(image);
}

async function fileHash(path: string): Promise<string> {
  try {
    return sha256(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImageError(code === 'ENOENT' ? 'image file not found' : code === 'EISDIR' ? 'not a file' : `cannot read image: ${(err as Error).message}`, path);
  }
}

/** Question id when the caller gives none: a content key of the image identity and the question. */
export function derivedQuestionId(image: { imageId?: number; imageHash?: string }, question: string): string {
  return `q-${hashValue([image.imageId ?? null, image.imageHash ?? null, question]).slice(0, 16)}`;
}

/**
 * Build the sample for one input. Bytes are held in the run's in-memory image store until `release()`; a path or URL
 * is read once to hash its content when no COCO id identifies the image.
 */
export async function prepareInput(input: AnswerInput, ctx: Pick<RunContext, 'resources'>): Promise<PreparedInput> {
  if (typeof input.question !== 'string' || !input.question.trim()) throw new InputError('answer(): "question" must be a non-empty string');
  if (input.imageId !== undefined && !(Number.isInteger(input.imageId) && input.imageId >= 0)) {
    throw new InputError(`answer(): "imageId" must be a non-negative integer (a COCO image id), got ${String(input.imageId)}`);
  }
  const image = input.image ?? input.imagePath;
  let imagePath: string | undefined;
  let imageHash: string | undefined;
  let release = () => {};
  if (image !== undefined) {
    if (isBytes(image)) {
      const bytes = Buffer.isBuffer(image) ? image : Buffer.from(image.buffer, image.byteOffset, image.byteLength);
      if (bytes.length === 0) throw new ImageError('empty image bytes', 'answer() image');
      const held = (await imageBytesStore(ctx)).hold(bytes);
      imagePath = held.path;
      imageHash = held.hash;
      release = held.release;
    } else if (typeof image === 'string' || image instanceof URL) {
      imagePath = imageInputPath(image);
      if (input.imageId === undefined) imageHash = await fileHash(imagePath);
    } else {
      throw new InputError('answer(): "image" must be a path, a file: URL or a Buffer');
    }
  }
  const identity: { imageId?: number; imageHash?: string } = {};
  if (input.imageId !== undefined) identity.imageId = input.imageId;
  // A COCO id, when given, is the image's identity (as in batch runs); otherwise its bytes are.
  else if (imageHash !== undefined) identity.imageHash = imageHash;
  const sample: Sample = {
    dataset: input.dataset ?? 'okvqa',
    questionId: input.questionId ?? derivedQuestionId(identity, input.question),
    question: input.question,
    ...identity,
  };
  if (imagePath !== undefined) sample.imagePath = imagePath;
  if (input.choices) sample.choices = input.choices;
  return { sample, release };
}
