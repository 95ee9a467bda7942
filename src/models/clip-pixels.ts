/**
 * Fast CLIP pre-processing: the same result as transformers.js's `CLIPImageProcessor` (resize by its own `resize`
 * — sharp affine bicubic, shortest edge — then centre crop, rescale, normalise, HWC→CHW) but with crop, rescale,
 * normalisation and the channel permutation fused into one loop written straight into the batch tensor, instead of
 * an extra sharp round-trip for the crop and three passes plus a generic permute. Float32 rounding matches theirs step
 * by step, so values are identical. Configurations it does not cover (padding, channel flips, crop larger than the
 * resized image, …) return `undefined` and the caller uses the processor itself.
 */
import type { RawImage, Tensor } from '@huggingface/transformers';
import { transformers } from '../runtime/lazy.js';

interface ImageProcessorLike {
  do_resize?: boolean;
  do_center_crop?: boolean;
  do_rescale?: boolean;
  do_normalize?: boolean;
  do_pad?: boolean;
  do_flip_channel_order?: boolean;
  do_crop_margin?: boolean;
  do_thumbnail?: boolean;
  do_convert_rgb?: boolean;
  rescale_factor?: number;
  image_mean?: number | number[];
  image_std?: number | number[];
  crop_size?: number | { width: number; height: number };
  resize(image: RawImage): Promise<RawImage>;
}

function triple(v: number | number[] | undefined): number[] | undefined {
  if (typeof v === 'number') return [v, v, v];
  return Array.isArray(v) && v.length === 3 ? v : undefined;
}

/** Whether the fast path reproduces this processor exactly. */
export function fastPathApplies(ip: ImageProcessorLike): boolean {
  return (
    ip.do_resize === true &&
    ip.do_center_crop === true &&
    ip.do_rescale !== false &&
    ip.do_normalize === true &&
    !ip.do_pad &&
    !ip.do_flip_channel_order &&
    !ip.do_crop_margin &&
    !ip.do_thumbnail &&
    typeof ip.rescale_factor === 'number' &&
    triple(ip.image_mean) !== undefined &&
    triple(ip.image_std) !== undefined &&
    ip.crop_size !== undefined &&
    typeof ip.resize === 'function'
  );
}

/** Pixel values [n, 3, cropH, cropW] for RGB images, or undefined when the fast path does not apply. */
export async function fastPixelValues(images: readonly RawImage[], ip: ImageProcessorLike): Promise<Tensor | undefined> {
  if (!fastPathApplies(ip) || images.length === 0) return undefined;
  const cs = ip.crop_size!;
  const cw = typeof cs === 'number' ? cs : cs.width;
  const ch = typeof cs === 'number' ? cs : cs.height;
  const mean = triple(ip.image_mean)!;
  const std = triple(ip.image_std)!;
  const rf = ip.rescale_factor!;
  const plane = cw * ch;
  const resized = await Promise.all(images.map((im) => ip.resize(im.channels === 3 ? im : im.rgb())));
  if (resized.some((r) => r.width < cw || r.height < ch || r.channels !== 3)) return undefined;
  const out = new Float32Array(images.length * 3 * plane);
  const f = Math.fround;
  // as transformers.js: Float32Array of the bytes, *= rescale_factor, then (v - mean) / std, each stored as float32.
  // A pure function of (channel, byte): tabulated once (768 entries) instead of computed per pixel.
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) for (let b = 0; b < 256; b++) lut[c * 256 + b] = f((f(rf * b) - mean[c]!) / std[c]!);
  resized.forEach((r, n) => {
    const left = Math.floor((r.width - cw) / 2);
    const top = Math.floor((r.height - ch) / 2);
    const src = r.data;
    const base = n * 3 * plane;
    for (let y = 0; y < ch; y++) {
      let s = ((top + y) * r.width + left) * 3;
      const row = y * cw;
      for (let x = 0; x < cw; x++, s += 3) {
        const o = base + row + x;
        out[o] = lut[src[s]!]!;
        out[o + plane] = lut[256 + src[s + 1]!]!;
        out[o + 2 * plane] = lut[512 + src[s + 2]!]!;
      }
    }
  });
  const { Tensor: TensorClass } = await transformers();
  return new TensorClass('float32', out, [images.length, 3, ch, cw]);
}
