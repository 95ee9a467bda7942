/**
 * Pillow's `Image.convert('RGB')` for the modes a photo file can open in (KAT reads its images with
 * `Image.open(path).convert('RGB')`), written from reading Pillow's libImaging/Convert.c:
 * - CMYK → RGB: `nk = 255 − K; R = clip(nk − muldiv255(C, nk))` (likewise G from M, B from Y), where
 *   `muldiv255(a, b) = ((t >> 8) + t) >> 8` with `t = a·b + 128` — Pillow's integer rounding of a·b/255. No colour
 *   management: the embedded ICC profile, if any, is ignored, as `convert` ignores it.
 * - L / LA → RGB: the grey value in all three channels; RGBA / LA: alpha dropped (not composited). P: the palette's RGB.
 * Hand-written because no library exposes Pillow's arithmetic; sharp (libvips) converts CMYK through an ICC profile.
 */

/** Pillow's `MULDIV255`: a·b/255 rounded, in integers. */
function muldiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

const clip8 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/** Interleaved CMYK bytes (as a CMYK JPEG decodes, Adobe inversion undone) → interleaved RGB bytes, as Pillow's cmyk2rgb. */
export function pilCmykToRgb(cmyk: ArrayLike<number>, pixels: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(pixels * 3);
  for (let i = 0, o = 0, p = 0; p < pixels; p++, i += 4, o += 3) {
    const nk = 255 - cmyk[i + 3]!;
    out[o] = clip8(nk - muldiv255(cmyk[i]!, nk));
    out[o + 1] = clip8(nk - muldiv255(cmyk[i + 1]!, nk));
    out[o + 2] = clip8(nk - muldiv255(cmyk[i + 2]!, nk));
  }
  return out;
}
