/** Box geometry for regions: sliding windows (KAT), clamping, conversions, crops. All boxes are in image pixels. */
import type { RawImage } from '@huggingface/transformers';
import type { Box } from '../core/artifacts.js';

export interface WindowSpec {
  /** Window side as a fraction of the image's shorter side (0 < size ≤ 1), or in pixels when > 1. */
  size: number;
  /** Step between windows, same units as `size`; defaults to half the window. */
  stride?: number;
}

/**
 * KAT-style sliding windows: for each spec, square windows of the given side slid over the image with the given stride
 * (the last window in each row/column is aligned to the image edge so the whole image is covered), plus — when
 * `includeWhole` — the whole image first. Duplicates are dropped.
 */
export function slidingWindows(width: number, height: number, specs: readonly WindowSpec[], includeWhole = true): Box[] {
  if (!(width > 0 && height > 0)) throw new Error(`slidingWindows: bad image size ${width}x${height}`);
  const out: Box[] = [];
  const seen = new Set<string>();
  const push = (b: Box) => {
    const k = `${b.xmin},${b.ymin},${b.xmax},${b.ymax}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(b);
    }
  };
  if (includeWhole) push({ xmin: 0, ymin: 0, xmax: width, ymax: height });
  const short = Math.min(width, height);
  for (const spec of specs) {
    if (!(spec.size > 0)) throw new Error(`slidingWindows: window size must be > 0, got ${spec.size}`);
    const side = Math.min(Math.round(spec.size <= 1 ? spec.size * short : spec.size), width, height);
    const rawStride = spec.stride ?? (spec.size <= 1 ? spec.size / 2 : spec.size / 2);
    if (!(rawStride > 0)) throw new Error(`slidingWindows: stride must be > 0, got ${rawStride}`);
    const stride = Math.max(1, Math.round(spec.size <= 1 && rawStride <= 1 ? rawStride * short : rawStride));
    for (const y of starts(height, side, stride)) {
      for (const x of starts(width, side, stride)) push({ xmin: x, ymin: y, xmax: x + side, ymax: y + side });
    }
  }
  return out;
}

/** Window start offsets along one axis: 0, stride, 2·stride, … and a last one flush with the edge. */
export function starts(length: number, side: number, stride: number): number[] {
  const out: number[] = [];
  const last = length - side;
  for (let s = 0; s < last; s += stride) out.push(s);
  out.push(last);
  return out;
}

/** Clamp a box to the image, keeping xmin ≤ xmax and ymin ≤ ymax. */
export function clampBox(b: Box, width: number, height: number): Box {
  const cx = (v: number) => Math.min(Math.max(v, 0), width);
  const cy = (v: number) => Math.min(Math.max(v, 0), height);
  const xmin = cx(Math.min(b.xmin, b.xmax));
  const xmax = cx(Math.max(b.xmin, b.xmax));
  const ymin = cy(Math.min(b.ymin, b.ymax));
  const ymax = cy(Math.max(b.ymin, b.ymax));
  return { xmin, ymin, xmax, ymax };
}

/**
 * The integer pixel rectangle a box covers, clamped to the image and at least one pixel in each direction:
 * `[x0, y0, x1, y1]` with inclusive ends, as `RawImage.crop` expects.
 */
export function cropRect(b: Box, width: number, height: number): [number, number, number, number] {
  const c = clampBox(b, width, height);
  const x0 = Math.min(Math.floor(c.xmin), width - 1);
  const y0 = Math.min(Math.floor(c.ymin), height - 1);
  const x1 = Math.max(x0, Math.min(Math.ceil(c.xmax) - 1, width - 1));
  const y1 = Math.max(y0, Math.min(Math.ceil(c.ymax) - 1, height - 1));
  return [x0, y0, x1, y1];
}

/** Crop a box out of an image (clamped to its bounds). */
export function cropImage(image: RawImage, box: Box): Promise<RawImage> {
  return image.crop(cropRect(box, image.width, image.height));
}

/** Box from centre/size values normalised to [0,1] (DETR, CenterNet style) to pixels. */
export function boxFromCenter(cx: number, cy: number, w: number, h: number, width: number, height: number): Box {
  return clampBox(
    { xmin: (cx - w / 2) * width, ymin: (cy - h / 2) * height, xmax: (cx + w / 2) * width, ymax: (cy + h / 2) * height },
    width,
    height,
  );
}

/** Box from corner values normalised to [0,1] to pixels. */
export function boxFromNormalized(x0: number, y0: number, x1: number, y1: number, width: number, height: number): Box {
  return clampBox({ xmin: x0 * width, ymin: y0 * height, xmax: x1 * width, ymax: y1 * height }, width, height);
}

export function boxArea(b: Box): number {
  return Math.max(0, b.xmax - b.xmin) * Math.max(0, b.ymax - b.ymin);
}

export function iou(a: Box, b: Box): number {
  const inter = boxArea({
    xmin: Math.max(a.xmin, b.xmin),
    ymin: Math.max(a.ymin, b.ymin),
    xmax: Math.min(a.xmax, b.xmax),
    ymax: Math.min(a.ymax, b.ymax),
  });
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy non-maximum suppression over scored boxes (per label when `perLabel`). Returns kept indices, best first. */
export function nms(
  items: readonly { box: Box; score: number; label?: string }[],
  iouThreshold: number,
  perLabel = true,
): number[] {
  const order = items.map((_, i) => i).sort((a, b) => items[b]!.score - items[a]!.score);
  const kept: number[] = [];
  for (const i of order) {
    const it = items[i]!;
    if (kept.every((k) => (perLabel && items[k]!.label !== it.label) || iou(items[k]!.box, it.box) <= iouThreshold)) {
      kept.push(i);
    }
  }
  return kept;
}

/** Round box coordinates to 0.1 px, for stable JSON output. */
export function roundBox(b: Box): Box {
  const r = (v: number) => Math.round(v * 10) / 10;
  return { xmin: r(b.xmin), ymin: r(b.ymin), xmax: r(b.xmax), ymax: r(b.ymax) };
}
