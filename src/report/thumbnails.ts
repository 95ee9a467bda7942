/** Small embedded thumbnails (data URIs) of a run's images: the report stays one file and far smaller than the originals. */
import PQueue from 'p-queue';
import sharp from 'sharp';
import { errorMessage } from '../core/errors.js';
import type { ReportImage } from './model.js';

export interface ThumbnailOptions {
  /** Longest side of a thumbnail in pixels (default 160). */
  size?: number;
  /** WebP quality 1–100 (default 40). */
  quality?: number;
  concurrency?: number;
  onWarning?: (msg: string) => void;
}

/** One thumbnail: orientation applied (boxes are in oriented pixels), fitted inside size×size, WebP. */
export async function thumbnail(input: string | Buffer, opts: ThumbnailOptions = {}): Promise<ReportImage> {
  const size = opts.size ?? 160;
  const img = sharp(input, { limitInputPixels: 100_000_000 });
  const meta = await img.metadata();
  const w = meta.autoOrient?.width ?? meta.width ?? 0;
  const h = meta.autoOrient?.height ?? meta.height ?? 0;
  const buf = await img.rotate().resize(size, size, { fit: 'inside', withoutEnlargement: true }).webp({ quality: opts.quality ?? 40 }).toBuffer();
  return { src: `data:image/webp;base64,${buf.toString('base64')}`, w, h };
}

/** Thumbnails for image ids with a known path; unreadable images are reported once each and left out. */
export async function thumbnails(paths: ReadonlyMap<number, string>, opts: ThumbnailOptions = {}): Promise<Map<number, ReportImage>> {
  const out = new Map<number, ReportImage>();
  const queue = new PQueue({ concurrency: opts.concurrency ?? 4 });
  for (const [id, path] of paths) {
    void queue.add(async () => {
      try {
        out.set(id, await thumbnail(path, opts));
      } catch (err) {
        opts.onWarning?.(`image ${id} (${path}): ${errorMessage(err)}`);
      }
    });
  }
  await queue.onIdle();
  return out;
}
