/**
 * KAT's crop pixels computed as its torch/PIL code computes them (build_wikidata_entity_db.py `_multicrop_transform`):
 * 1. `Resize(384, BICUBIC)` on the PIL image: Pillow's antialiased separable bicubic (a = −0.5, support scaled by the
 *    reduction, 22-bit fixed-point coefficients, 8-bit rounding between the horizontal and the vertical pass) —
 *    `pilResizeBicubic` reproduces libImaging/Resample.c.
 * 2. `ToTensor` (/255), `F.pad` with zeros, `unfold` into 256² windows.
 * 3. `Resize(224, BICUBIC)` on the float tensor: torchvision calls `torch.nn.functional.interpolate(mode='bicubic',
 *    align_corners=False)` (a = −0.75, no antialias, border indices clamped, no clamping of values) — `torchBicubicResize`.
 * 4. `Normalize(mean, std)`.
 */
import { pilCmykToRgb } from '../../image/pil-convert.js';
import type { KatCropLayout, KatCropOptions } from './kat-crops.js';

const PRECISION_BITS = 22;

function pilBicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Pillow `precompute_coeffs` + `normalize_coeffs_8bpc`: per output pixel, first input index, count, integer weights. */
function pilCoeffs(inSize: number, outSize: number): { ksize: number; bounds: Int32Array; kk: Int32Array } {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    k.fill(0);
    for (let x = 0; x < xmax; x++) {
      const w = pilBicubic((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) if (ww !== 0) k[x] = k[x]! / ww;
    for (let x = 0; x < ksize; x++) {
      const v = k[x]! * (1 << PRECISION_BITS);
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v) : Math.trunc(0.5 + v);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

function clip8(v: number): number {
  if (v >= 1 << (PRECISION_BITS + 8)) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / (1 << PRECISION_BITS));
}

/**
 * Pillow's `Image.resize((outW, outH), Image.BICUBIC)` of an 8-bit image with `channels` interleaved channels:
 * horizontal pass over the rows the vertical pass needs, then the vertical pass (libImaging/Resample.c, 8 bpc).
 */
export function pilResizeBicubic(src: ArrayLike<number>, w: number, h: number, channels: number, outW: number, outH: number): Uint8ClampedArray {
  const needH = outW !== w;
  const needV = outH !== h;
  const horiz = pilCoeffs(w, outW);
  const vert = pilCoeffs(h, outH);
  const yFirst = vert.bounds[0]!;
  const yLast = vert.bounds[outH * 2 - 2]! + vert.bounds[outH * 2 - 1]!;
  let cur: ArrayLike<number> = src;
  let curW = w;
  let rowOffset = 0;
  if (needH) {
    const rows = needV ? yLast - yFirst : h;
    const y0 = needV ? yFirst : 0;
    const tmp = new Uint8ClampedArray(outW * rows * channels);
    const half = 1 << (PRECISION_BITS - 1);
    for (let y = 0; y < rows; y++) {
      const rowIn = (y + y0) * w * channels;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = horiz.bounds[xx * 2]!;
        const xmax = horiz.bounds[xx * 2 + 1]!;
        const kb = xx * horiz.ksize;
        for (let c = 0; c < channels; c++) {
          let ss = half;
          for (let x = 0; x < xmax; x++) ss += src[rowIn + (x + xmin) * channels + c]! * horiz.kk[kb + x]!;
          tmp[(y * outW + xx) * channels + c] = clip8(ss);
        }
      }
    }
    cur = tmp;
    curW = outW;
    rowOffset = needV ? yFirst : 0;
  }
  if (!needV) return cur instanceof Uint8ClampedArray ? cur : Uint8ClampedArray.from(cur);
  const out = new Uint8ClampedArray(curW * outH * channels);
  const half = 1 << (PRECISION_BITS - 1);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = vert.bounds[yy * 2]! - rowOffset;
    const ymax = vert.bounds[yy * 2 + 1]!;
    const kb = yy * vert.ksize;
    for (let xx = 0; xx < curW; xx++) {
      for (let c = 0; c < channels; c++) {
        let ss = half;
        for (let y = 0; y < ymax; y++) ss += cur[((y + ymin) * curW + xx) * channels + c]! * vert.kk[kb + y]!;
        out[(yy * curW + xx) * channels + c] = clip8(ss);
      }
    }
  }
  return out;
}

/** torch's cubic convolution weights (A = −0.75) for fractional offset t. */
function torchCubicWeights(t: number): [number, number, number, number] {
  const A = -0.75;
  const cc1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
  const cc2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return [cc2(t + 1), cc1(t), cc1(1 - t), cc2(2 - t)];
}

/**
 * `F.interpolate(x, size=(outH, outW), mode='bicubic', align_corners=False)` of one CHW float image: source coordinate
 * `(dst + 0.5) · in/out − 0.5`, four taps per axis with indices clamped to the border, computed in float32.
 */
export function torchBicubicResize(src: Float32Array, c: number, h: number, w: number, outH: number, outW: number): Float32Array {
  const out = new Float32Array(c * outH * outW);
  const sh = Math.fround(h / outH);
  const sw = Math.fround(w / outW);
  const tapsX = Array.from({ length: outW }, (_, x) => {
    const real = Math.fround(Math.fround(sw * (x + 0.5)) - 0.5);
    const i = Math.floor(real);
    const wts = torchCubicWeights(Math.fround(real - i)).map(Math.fround);
    const idx = [i - 1, i, i + 1, i + 2].map((v) => Math.min(Math.max(v, 0), w - 1));
    return { idx, wts };
  });
  const tapsY = Array.from({ length: outH }, (_, y) => {
    const real = Math.fround(Math.fround(sh * (y + 0.5)) - 0.5);
    const i = Math.floor(real);
    const wts = torchCubicWeights(Math.fround(real - i)).map(Math.fround);
    const idx = [i - 1, i, i + 1, i + 2].map((v) => Math.min(Math.max(v, 0), h - 1));
    return { idx, wts };
  });
  for (let ch = 0; ch < c; ch++) {
    const base = ch * h * w;
    for (let y = 0; y < outH; y++) {
      const ty = tapsY[y]!;
      for (let x = 0; x < outW; x++) {
        const tx = tapsX[x]!;
        let acc = 0;
        for (let j = 0; j < 4; j++) {
          const row = base + ty.idx[j]! * w;
          let r = 0;
          for (let i = 0; i < 4; i++) r += src[row + tx.idx[i]!]! * tx.wts[i]!;
          acc += r * ty.wts[j]!;
        }
        out[(ch * outH + y) * outW + x] = acc;
      }
    }
  }
  return out;
}

export interface KatPixelOptions {
  /** Side the model takes (KAT: 224). */
  size: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/**
 * Step 1: KAT's `Resize` on the PIL image as opened — RGB (or L, the same after conversion) resized as RGB; a CMYK image
 * resized on its CMYK bands, then converted with Pillow's formula (KAT's `convert('RGB')` comes after the resize).
 */
export function katResize(rgb: ArrayLike<number>, width: number, height: number, outW: number, outH: number, cmyk?: ArrayLike<number>): Uint8ClampedArray {
  return cmyk ? pilCmykToRgb(pilResizeBicubic(cmyk, width, height, 4, outW, outH), outW * outH) : pilResizeBicubic(rgb, width, height, 3, outW, outH);
}

/**
 * The normalised CHW pixel values of every KAT crop of an RGB image (`data`, `width`×`height`, 3 interleaved channels):
 * Pillow bicubic resize to the layout's size, zero padding, 256² windows, torch bicubic resize to `size`, normalise.
 * With `cmyk` (the file's CMYK bands, 4 interleaved channels), the resize runs on them and Pillow's CMYK → RGB follows,
 * as KAT's `Resize(384)` runs before `convert('RGB')`.
 */
export function katCropPixels(
  data: ArrayLike<number>,
  width: number,
  height: number,
  layout: KatCropLayout,
  crops: KatCropOptions,
  opts: KatPixelOptions,
  cmyk?: ArrayLike<number>,
): Float32Array[] {
  const { width: W, height: H } = layout.resized;
  const resized = katResize(data, width, height, W, H, cmyk);
  const k = crops.kernel;
  return layout.windows.map(({ x, y }) => {
    const win = new Float32Array(3 * k * k);
    for (let row = 0; row < k; row++) {
      const sy = y + row - layout.padY;
      if (sy < 0 || sy >= H) continue;
      for (let col = 0; col < k; col++) {
        const sx = x + col - layout.padX;
        if (sx < 0 || sx >= W) continue;
        const p = (sy * W + sx) * 3;
        for (let c = 0; c < 3; c++) win[(c * k + row) * k + col] = Math.fround(resized[p + c]! / 255);
      }
    }
    const out = torchBicubicResize(win, 3, k, k, opts.size, opts.size);
    const n = opts.size * opts.size;
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < n; i++) out[c * n + i] = (out[c * n + i]! - opts.mean[c]!) / opts.std[c]!;
    }
    return out;
  });
}
