import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';

const WHOLE_FILE_LIMIT = 64 * 1024 * 1024;
const SAMPLE = 1024 * 1024;

/**
 * A content identity of a file for cache fingerprints: sha256 of the whole file up to 64 MiB, beyond that of its size,
 * first and last MiB. It ignores path and modification time, so a cache made on one machine replays on another.
 */
export function fileIdentity(path: string | undefined): string {
  if (!path) return 'none';
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 'missing';
  }
  try {
    const size = fstatSync(fd).size;
    const h = createHash('sha256');
    const read = (pos: number, len: number) => {
      const buf = Buffer.allocUnsafe(len);
      const n = readSync(fd, buf, 0, len, pos);
      h.update(buf.subarray(0, n));
    };
    if (size <= WHOLE_FILE_LIMIT) {
      for (let pos = 0; pos < size; pos += SAMPLE) read(pos, Math.min(SAMPLE, size - pos));
    } else {
      h.update(`size:${size}`);
      read(0, SAMPLE);
      read(size - SAMPLE, SAMPLE);
    }
    return h.digest('hex').slice(0, 32);
  } finally {
    closeSync(fd);
  }
}
