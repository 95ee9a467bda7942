import type { Region } from '../../core/artifacts.js';
import type { RunContext } from '../../core/context.js';
import { clipSource, embedImages } from '../../models/clip.js';
import type { LoadedImage } from '../../image/load.js';
import { cropImage, cropRect, roundBox } from '../../image/geometry.js';

/** Content key of a crop: the image's byte hash (and decode mode, when not sharp's) plus the integer pixel rectangle cropped. */
export function cropKey(img: LoadedImage, region: Pick<Region, 'box'>): string {
  return `${imageContentKey(img)}:${cropRect(region.box, img.width, img.height).join(',')}`;
}

/** An image's identity in cache keys: the sha256 of its bytes, plus the decode mode when it is not the default `sharp`. */
export function imageContentKey(img: Pick<LoadedImage, 'hash' | 'decode'>): string {
  return img.decode === 'sharp' ? img.hash : `${img.hash}/${img.decode}`;
}

/** Add L2-normalised CLIP embeddings of each region's crop (batched; cached per crop and model). */
export async function embedRegions(
  regions: Region[],
  img: LoadedImage,
  ctx: Pick<RunContext, 'config' | 'paths' | 'resources' | 'cache'>,
  model?: string,
): Promise<Region[]> {
  if (regions.length === 0) return regions;
  const crops = await Promise.all(regions.map((r) => cropImage(img.image, r.box)));
  const opts = model ? { model, keys: regions.map((r) => cropKey(img, r)) } : { keys: regions.map((r) => cropKey(img, r)) };
  const vecs = await embedImages(crops, ctx, opts);
  const id = clipSource(ctx, model).id;
  return regions.map((r, i) => ({ ...r, embedding: vecs[i]!, embeddingModel: id }));
}

/** Number the regions 0..n-1 and round their boxes for stable output; record the image size when given. */
export function finalizeRegions(regions: Omit<Region, 'id'>[], image?: { width: number; height: number }): Region[] {
  return regions.map((r, id) => ({ ...r, id, box: roundBox(r.box), ...(image ? { image: { width: image.width, height: image.height } } : {}) }));
}
