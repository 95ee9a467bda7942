import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { InputError } from '../core/errors.js';

/**
 * Read a text file as strict UTF-8: a byte sequence that is not UTF-8 is an error naming the file and the byte offset
 * (never silently replaced by U+FFFD, which would change question texts and captions). A UTF-8 byte-order mark is dropped.
 */
export function readUtf8File(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(err)})`, path);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const { line, column } = lineColumn(bytes.subarray(0, at).toString('utf8'), Number.MAX_SAFE_INTEGER);
    throw new InputError(
      `not UTF-8 text: invalid byte 0x${bytes[at]?.toString(16).padStart(2, '0') ?? '??'} at byte ${at} (line ${line}, column ${column}); save the file as UTF-8`,
      path,
    );
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  let lo = 0;
  let hi = b.length;
  // The longest valid prefix (a valid prefix may end mid-sequence only at the very end, which `stream` allows).
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  // `lo` is the first byte that cannot continue; when it breaks a multi-byte sequence, name the sequence's lead byte.
  let j = lo - 1;
  while (j >= 0 && lo - j <= 3 && (b[j]! & 0xc0) === 0x80) j--;
  return j >= 0 && lo - j <= 3 && (b[j]! & 0xc0) === 0xc0 ? j : lo;
}

function lineColumn(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, Math.min(pos, text.length));
  const line = before.split('\n').length;
  return { line, column: before.length - before.lastIndexOf('\n') };
}

/** Read and parse a JSON file; errors name the file, and for a syntax error its line and column. */
export function readJsonFile(path: string): unknown {
  const text = readUtf8File(path);
  return parseJsonText(text, path);
}

/** JSON.parse with an error that names the file and the line and column of a syntax error. */
export function parseJsonText(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const m = /position (\d+)/.exec(msg);
    if (m) {
      const { line, column } = lineColumn(text, Number(m[1]));
      throw new InputError(`not valid JSON: ${msg} (line ${line}, column ${column})`, path, undefined, line);
    }
    if (!text.trim()) throw new InputError('not valid JSON: the file is empty', path);
    throw new InputError(`not valid JSON: ${msg}${/end of (JSON|data) input/i.test(msg) ? ' (the file is truncated?)' : ''}`, path);
  }
}

/** Validate parsed data with a zod schema; the error names the file and the first offending field. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new InputError(issue.message, file, issue.path.join('.') || undefined);
}
