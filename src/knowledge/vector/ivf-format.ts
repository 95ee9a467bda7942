/** The stored form of an IVF layout (a blob in the knowledge base). */
import type { IvfLayout } from './kmeans.js';

/** Serialise an IVF layout: a small JSON header line, then the raw arrays. */
export function encodeIvfLayout(l: IvfLayout): Buffer {
  const header = Buffer.from(
    JSON.stringify({ format: 'okvqa-ivf-1', dim: l.dim, nlist: l.nlist, n: l.perm.length }) + '\n',
  );
  const parts = [l.centroids, l.offsets, l.perm].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  return Buffer.concat([header, ...parts]);
}

/** Decode a stored IVF layout; a blob that is truncated, padded or not an IVF index is an error naming `what`. */
export function decodeIvfLayout(buf: Buffer, what = 'IVF index'): IvfLayout {
  const nl = buf.indexOf(10);
  let h: { format: string; dim: number; nlist: number; n: number };
  try {
    if (nl < 0) throw new Error('no header line');
    h = JSON.parse(buf.subarray(0, nl).toString('utf8')) as typeof h;
  } catch (err) {
    throw new Error(`${what} is damaged: unreadable header (${(err as Error).message})`);
  }
  if (h.format !== 'okvqa-ivf-1') throw new Error(`${what} is not an okvqa IVF index (${h.format})`);
  const sizes = [h.nlist * h.dim * 4, (h.nlist + 1) * 4, h.n * 4];
  const expected = nl + 1 + sizes.reduce((a, b) => a + b, 0);
  if (![h.dim, h.nlist, h.n].every((x) => Number.isInteger(x) && x >= 0) || buf.length !== expected) {
    throw new Error(`${what} is truncated or damaged: ${buf.length} bytes, expected ${expected}`);
  }
  let o = nl + 1;
  const take = <T>(ctor: { new (b: ArrayBuffer): T }, bytes: number): T => {
    const copy = new Uint8Array(bytes);
    copy.set(buf.subarray(o, o + bytes));
    o += bytes;
    return new ctor(copy.buffer);
  };
  const centroids = take(Float32Array, sizes[0]!);
  const offsets = take(Int32Array, sizes[1]!);
  const perm = take(Int32Array, sizes[2]!);
  if (offsets[0] !== 0 || offsets[h.nlist] !== h.n) throw new Error(`${what} is damaged: list offsets do not cover ${h.n} vectors`);
  return { dim: h.dim, nlist: h.nlist, centroids, offsets, perm };
}
