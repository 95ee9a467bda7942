import { RawImage } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import {
  boxFromCenter,
  boxFromNormalized,
  clampBox,
  cropImage,
  cropRect,
  iou,
  nms,
  slidingWindows,
  starts,
} from '../../src/image/geometry.js';

describe('sliding windows', () => {
  it('covers the image edge to edge with the whole image first', () => {
    expect(starts(100, 50, 25)).toEqual([0, 25, 50]);
    expect(starts(110, 50, 25)).toEqual([0, 25, 50, 60]); // last window flush with the edge
    expect(starts(50, 50, 10)).toEqual([0]);
    const w = slidingWindows(200, 100, [{ size: 0.5, stride: 0.25 }]);
    expect(w[0]).toEqual({ xmin: 0, ymin: 0, xmax: 200, ymax: 100 });
    // side = 0.5 * 100 = 50, stride 25: x in 0,25,...,150 (7), y in 0,25,50 (3)
    expect(w).toHaveLength(1 + 7 * 3);
    for (const b of w.slice(1)) {
      expect(b.xmax - b.xmin).toBe(50);
      expect(b.ymax - b.ymin).toBe(50);
      expect(b.xmin).toBeGreaterThanOrEqual(0);
      expect(b.xmax).toBeLessThanOrEqual(200);
      expect(b.ymax).toBeLessThanOrEqual(100);
    }
    expect(w.some((b) => b.xmax === 200 && b.ymax === 100 && b.xmin === 150)).toBe(true);
  });

  it('takes pixel sizes, several scales, drops duplicates, and rejects bad specs', () => {
    const w = slidingWindows(64, 64, [{ size: 32, stride: 32 }, { size: 64 }], false);
    expect(w).toEqual([
      { xmin: 0, ymin: 0, xmax: 32, ymax: 32 },
      { xmin: 32, ymin: 0, xmax: 64, ymax: 32 },
      { xmin: 0, ymin: 32, xmax: 32, ymax: 64 },
      { xmin: 32, ymin: 32, xmax: 64, ymax: 64 },
      { xmin: 0, ymin: 0, xmax: 64, ymax: 64 },
    ]);
    // a window bigger than the image is shrunk to it (and deduplicated against the whole image)
    expect(slidingWindows(30, 20, [{ size: 500 }])).toEqual([{ xmin: 0, ymin: 0, xmax: 30, ymax: 20 }, { xmin: 0, ymin: 0, xmax: 20, ymax: 20 }, { xmin: 10, ymin: 0, xmax: 30, ymax: 20 }]);
    expect(() => slidingWindows(0, 10, [])).toThrow(/image size/);
    expect(() => slidingWindows(10, 10, [{ size: 0 }])).toThrow(/size/);
  });
});

describe('boxes and crops', () => {
  it('converts normalised centre and corner boxes to clamped pixels', () => {
    expect(boxFromCenter(0.5, 0.5, 0.5, 0.25, 200, 100)).toEqual({ xmin: 50, ymin: 37.5, xmax: 150, ymax: 62.5 });
    expect(boxFromCenter(0.95, 0.5, 0.2, 2, 200, 100)).toEqual({ xmin: 170, ymin: 0, xmax: 200, ymax: 100 });
    expect(boxFromNormalized(0.1, 0.2, 0.3, 0.4, 100, 50)).toEqual({ xmin: 10, ymin: 10, xmax: 30, ymax: 20 });
    expect(clampBox({ xmin: 30, ymin: -5, xmax: 10, ymax: 500 }, 100, 50)).toEqual({ xmin: 10, ymin: 0, xmax: 30, ymax: 50 });
  });

  it('crop rectangles stay inside the image and cover at least one pixel', () => {
    expect(cropRect({ xmin: 10.2, ymin: 5.9, xmax: 20.1, ymax: 9 }, 100, 50)).toEqual([10, 5, 20, 8]);
    expect(cropRect({ xmin: -10, ymin: -10, xmax: 1000, ymax: 1000 }, 100, 50)).toEqual([0, 0, 99, 49]);
    expect(cropRect({ xmin: 100, ymin: 50, xmax: 100, ymax: 50 }, 100, 50)).toEqual([99, 49, 99, 49]);
    expect(cropRect({ xmin: 5, ymin: 5, xmax: 5, ymax: 5 }, 100, 50)).toEqual([5, 5, 5, 5]);
  });

  it('crops the right pixels', async () => {
    const w = 8;
    const h = 4;
    const data = new Uint8ClampedArray(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x * 10, y * 10, 0], (y * w + x) * 3);
    const img = new RawImage(data, w, h, 3);
    const crop = await cropImage(img, { xmin: 2, ymin: 1, xmax: 5, ymax: 3 });
    expect([crop.width, crop.height]).toEqual([3, 2]);
    expect(Array.from(crop.data.slice(0, 3))).toEqual([20, 10, 0]); // pixel (2,1)
    const last = crop.data.length - 3;
    expect(Array.from(crop.data.slice(last))).toEqual([40, 20, 0]); // pixel (4,2)
  });

  it('IoU and per-label NMS', () => {
    const a = { xmin: 0, ymin: 0, xmax: 10, ymax: 10 };
    const b = { xmin: 5, ymin: 0, xmax: 15, ymax: 10 };
    expect(iou(a, b)).toBeCloseTo(50 / 150);
    const items = [
      { box: a, score: 0.5, label: 'cup' },
      { box: { xmin: 1, ymin: 0, xmax: 10, ymax: 10 }, score: 0.9, label: 'cup' },
      { box: a, score: 0.4, label: 'bowl' },
    ];
    expect(nms(items, 0.5)).toEqual([1, 2]);
    expect(nms(items, 0.5, false)).toEqual([1]);
  });
});
