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

export function decodeIvfLayout(buf: Buffer): IvfLayout {
  const nl = buf.indexOf(10);
  const h = JSON.parse(buf.subarray(0, nl).toString('utf8')) as { format: string; dim: number; nlist: number; n: number };
  if (h.format !== 'okvqa-ivf-1') throw new Error(`not an okvqa IVF index (${h.format})`);
  let o = nl + 1;
  const take = <T>(ctor: { new (b: ArrayBuffer): T }, bytes: number): T => {
    const copy = new Uint8Array(bytes);
    copy.set(buf.subarray(o, o + bytes));
    o += bytes;
    return new ctor(copy.buffer);
  };
  const centroids = take(Float32Array, h.nlist * h.dim * 4);
  const offsets = take(Int32Array, (h.nlist + 1) * 4);
  const perm = take(Int32Array, h.n * 4);
  return { dim: h.dim, nlist: h.nlist, centroids, offsets, perm };
}
