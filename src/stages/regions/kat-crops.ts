/**
 * KAT's crops (guilk/KAT build_wikidata_entity_db.py `_multicrop_transform` + `MultiCrop`): resize the shorter side to
 * 384 (bicubic; torchvision `Resize(384)`: the longer side is `int(384 * long / short)`), pad `(side % 256) // 2` black
 * pixels on both ends of each axis (`F.pad`), cut 256-px windows at stride 128 (`unfold`: `floor((L - 256) / 128) + 1`
 * per axis, row by row; pixels past the last full window are dropped), resize each window to 224. No whole image.
 * A 640×480 photo gives 512×384 → padded 512×512 → 3×3 = 9 crops.
 */
import { RawImage } from '@huggingface/transformers';
import type { Box } from '../../core/artifacts.js';
import { clampBox } from './geometry.js';

export interface KatCropOptions {
  /** Shorter side after the first resize (KAT: 384). */
  short: number;
  /** Window side in the resized, padded image (KAT: 256). */
  kernel: number;
  /** Window stride (KAT: kernel / 2 = 128). */
  stride: number;
}

export const KAT_CROPS: KatCropOptions = { short: 384, kernel: 256, stride: 128 };

export interface KatCropLayout {
  /** Size after the shorter-side resize. */
  resized: { width: number; height: number };
  /** Black pixels added on each side (left = right = padX, top = bottom = padY). */
  padX: number;
  padY: number;
  /** Windows: top-left corner in the padded image, row by row (y outer, x inner), as `unfold(1).unfold(2)` orders them. */
  windows: { x: number; y: number }[];
  /** Each window mapped back to original-image pixels (clamped to the image; padding maps outside and is cut). */
  boxes: Box[];
}

/** torchvision `Resize(short)` output size for a PIL image of `width`×`height`. */
export function resizeShorter(width: number, height: number, short: number): { width: number; height: number } {
  if (width <= height) return { width: short, height: Math.trunc((short * height) / width) };
  return { width: Math.trunc((short * width) / height), height: short };
}

function unfoldStarts(length: number, kernel: number, stride: number): number[] {
  if (length < kernel) return [];
  const n = Math.floor((length - kernel) / stride) + 1;
  return Array.from({ length: n }, (_, i) => i * stride);
}

export function katCropLayout(width: number, height: number, opts: KatCropOptions = KAT_CROPS): KatCropLayout {
  if (!(width > 0 && height > 0)) throw new Error(`katCropLayout: bad image size ${width}x${height}`);
  const resized = resizeShorter(width, height, opts.short);
  const padX = Math.floor((resized.width % opts.kernel) / 2);
  const padY = Math.floor((resized.height % opts.kernel) / 2);
  const ys = unfoldStarts(resized.height + 2 * padY, opts.kernel, opts.stride);
  const xs = unfoldStarts(resized.width + 2 * padX, opts.kernel, opts.stride);
  const windows = ys.flatMap((y) => xs.map((x) => ({ x, y })));
  const sx = width / resized.width;
  const sy = height / resized.height;
  const boxes = windows.map(({ x, y }) =>
    clampBox(
      { xmin: (x - padX) * sx, ymin: (y - padY) * sy, xmax: (x - padX + opts.kernel) * sx, ymax: (y - padY + opts.kernel) * sy },
      width,
      height,
    ),
  );
  return { resized, padX, padY, windows, boxes };
}

/**
 * The pixels of KAT's crops: the image resized (bicubic, sharp's affine interpolator as transformers.js uses), then each
 * `kernel`² window cut from the zero-padded result. The CLIP processor then resizes each 256² window to 224² (bicubic)
 * and normalises, as KAT's `Resize(224)` + `Normalize`.
 */
export async function katCrops(image: RawImage, layout: KatCropLayout, opts: KatCropOptions = KAT_CROPS): Promise<RawImage[]> {
  const rgb = image.channels === 3 ? image : image.rgb();
  const r = await rgb.resize(layout.resized.width, layout.resized.height, { resample: 'bicubic' });
  const W = r.width;
  const H = r.height;
  const k = opts.kernel;
  return layout.windows.map(({ x, y }) => {
    const data = new Uint8ClampedArray(k * k * 3);
    for (let row = 0; row < k; row++) {
      const sy = y + row - layout.padY;
      if (sy < 0 || sy >= H) continue;
      const x0 = Math.max(0, x - layout.padX);
      const x1 = Math.min(W, x - layout.padX + k);
      if (x1 <= x0) continue;
      const dst = (row * k + (x0 - (x - layout.padX))) * 3;
      data.set(r.data.subarray((sy * W + x0) * 3, (sy * W + x1) * 3), dst);
    }
    return new RawImage(data, k, k, 3);
  });
}
