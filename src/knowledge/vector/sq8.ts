/**
 * int8 scalar quantisation for the IVF lists: each vector is stored as its residual to its list's centroid, times one
 * global scale, rounded to int8 (4× fewer bytes than float32, scanned by usearch's int8 SIMD kernel). A query is
 * quantised the same way (its own scale), so  q·x ≈ q·c + (q₈·r₈) / (s_q · s_r)  where q·c is computed exactly.
 */

/** Largest |value| kept at full resolution: the 99.99th percentile of |residual| over a sample (outliers are clipped). */
export function residualScale(residualAbsSample: Float32Array): number {
  const s = Float32Array.from(residualAbsSample).sort();
  const hi = s[Math.min(s.length - 1, Math.floor(s.length * 0.9999))] ?? 0;
  return hi > 0 ? 127 / hi : 1;
}

/** Round `x · scale` to int8 (clipped to ±127) into `out` at `offset`. */
export function quantizeInto(x: ArrayLike<number>, scale: number, out: Int8Array, offset = 0): void {
  for (let j = 0; j < x.length; j++) {
    const v = Math.round(x[j]! * scale);
    out[offset + j] = v > 127 ? 127 : v < -127 ? -127 : v;
  }
}

/** A query's own scale: its largest |component| maps to 127. */
export function queryScale(q: ArrayLike<number>): number {
  let m = 0;
  for (let j = 0; j < q.length; j++) {
    const a = Math.abs(q[j]!);
    if (a > m) m = a;
  }
  return m > 0 ? 127 / m : 1;
}

/** float32 → IEEE half (round to nearest even), as a uint16. */
export function toHalf(x: number): number {
  F32[0] = x;
  const b = U32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The float value of every half (uint16 → float32 by table lookup). */
export function halfTable(): Float32Array {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] = e === 0 ? sign * m * 2 ** -24 : e === 31 ? (m ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
}
