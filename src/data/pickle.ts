/**
 * Python pickles (protocols 0–5) through npm `pickleparser`, with the numpy objects KAT's released files hold: scalars
 * (`numpy.core.multiarray.scalar`, e.g. faiss's float32 scores) become numbers and arrays (`_reconstruct` + state)
 * become flat number arrays. Dicts become plain objects (keys are strings), tuples and lists arrays.
 */
import { readFileSync } from 'node:fs';
import { NameRegistry, Parser } from 'pickleparser';
import { InputError } from '../core/errors.js';

class Dtype {
  kind: string;
  order = '<';
  constructor(kind: string) {
    this.kind = kind;
  }
  __setstate__(state: unknown[]): void {
    if (typeof state[1] === 'string') this.order = state[1];
  }
}

class NdArray {
  values: number[] = [];
  shape: number[] = [];
  __setstate__(state: unknown[]): void {
    // (version, shape, dtype, is_fortran, rawdata)
    const [, shape, dtype, , raw] = state as [number, number[], Dtype, boolean, unknown];
    this.shape = shape;
    this.values = decode(dtype, toBytes(raw));
  }
}

function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v, 'latin1');
  if (v && typeof v === 'object' && 'data' in v && Array.isArray((v as { data: unknown }).data)) return Uint8Array.from((v as { data: number[] }).data);
  throw new Error(`pickle: expected bytes for a numpy value, got ${typeof v}`);
}

function decode(dtype: Dtype, bytes: Uint8Array): number[] {
  const m = /^([fiub])(\d+)$/.exec(dtype.kind);
  if (!m) throw new Error(`pickle: numpy dtype "${dtype.kind}" is not supported`);
  const size = Number(m[2]);
  const little = dtype.order !== '>';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let o = 0; o + size <= bytes.byteLength; o += size) {
    const k = `${m[1]}${size}`;
    switch (k) {
      case 'f4': out.push(view.getFloat32(o, little)); break;
      case 'f8': out.push(view.getFloat64(o, little)); break;
      case 'f2': out.push(half(view.getUint16(o, little))); break;
      case 'i1': out.push(view.getInt8(o)); break;
      case 'i2': out.push(view.getInt16(o, little)); break;
      case 'i4': out.push(view.getInt32(o, little)); break;
      case 'i8': out.push(Number(view.getBigInt64(o, little))); break;
      case 'u1': case 'b1': out.push(view.getUint8(o)); break;
      case 'u2': out.push(view.getUint16(o, little)); break;
      case 'u4': out.push(view.getUint32(o, little)); break;
      case 'u8': out.push(Number(view.getBigUint64(o, little))); break;
      default: throw new Error(`pickle: numpy dtype "${dtype.kind}" is not supported`);
    }
  }
  return out;
}

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function registry(): NameRegistry {
  const r = new NameRegistry();
  const dtype = (kind: string) => new Dtype(kind);
  const scalar = (d: Dtype, raw: unknown) => decode(d, toBytes(raw))[0];
  const reconstruct = () => new NdArray();
  for (const mod of ['numpy.core.multiarray', 'numpy._core.multiarray']) {
    r.register(mod, 'scalar', scalar);
    r.register(mod, '_reconstruct', reconstruct);
  }
  // protocol 5: ndarray.__reduce_ex__ gives (_frombuffer, (buffer, dtype, shape, order))
  const frombuffer = (buf: unknown, d: Dtype, shape: number[], order: string) => {
    if (order === 'F' && shape.filter((n) => n > 1).length > 1) throw new Error('pickle: Fortran-ordered numpy arrays are not supported');
    const a = new NdArray();
    a.shape = shape;
    a.values = decode(d, toBytes(buf));
    return a;
  };
  for (const mod of ['numpy.core.numeric', 'numpy._core.numeric']) r.register(mod, '_frombuffer', frombuffer);
  r.register('numpy', 'dtype', dtype);
  r.register('numpy', 'ndarray', NdArray);
  r.register('_codecs', 'encode', (s: string, enc: string) => Buffer.from(s, enc === 'latin1' || enc === 'latin-1' ? 'latin1' : 'utf8'));
  return r;
}

/** Replace numpy wrappers by plain values, recursively. */
function plain(v: unknown): unknown {
  if (v instanceof NdArray) return v.values;
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Uint8Array) return v;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = plain(o[k]);
    return o;
  }
  return v;
}

/** Parse pickle bytes (numpy scalars and arrays included). */
export function parsePickle(bytes: Uint8Array): unknown {
  const parser = new Parser({ nameResolver: registry() });
  return plain(parser.parse(bytes));
}

/** Read a pickle file; errors name the file. */
export function readPickle(path: string): unknown {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read pickle (${(err as NodeJS.ErrnoException).code ?? String(err)})`, path);
  }
  try {
    return parsePickle(bytes);
  } catch (err) {
    throw new InputError(`not a readable pickle: ${(err as Error).message}`, path);
  }
}

/**
 * Python's `str()` of a value read from a pickle, as KAT's `'{} is a {}'.format(name, description)` prints it: `None`,
 * `True` / `False`, strings as they are. (A float that holds an integer prints as `1`, where Python would print `1.0`:
 * the pickle reader does not keep the distinction.)
 */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  return String(v);
}
