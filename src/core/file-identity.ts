import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
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

/**
 * Full sha256 of a file's bytes (hex). Model files are identified by this, never by a sample: two files that differ in
 * any byte get different identities. The digest is remembered per (path, device, inode, size, mtime) so one process
 * hashes a large model once, not once per stage that fingerprints it; any change to the file changes that stat tuple.
 */
export function fileSha256(path: string): string {
  const st = statSync(path);
  const memoKey = `${path}\0${st.dev}\0${st.ino}\0${st.size}\0${st.mtimeMs}`;
  const known = hashMemo.get(memoKey);
  if (known) return known;
  const fd = openSync(path, 'r');
  const h = createHash('sha256');
  try {
    const buf = Buffer.allocUnsafe(4 * SAMPLE);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  const digest = h.digest('hex');
  if (hashMemo.size >= 4096) hashMemo.delete(hashMemo.keys().next().value!);
  hashMemo.set(memoKey, digest);
  return digest;
}

/**
 * A memo of pure facts (the digest of a file as it is on disk, keyed by its stat identity), not state: a stale entry
 * cannot be served because any write changes the key. Bounded to keep a long-lived process small.
 */
const hashMemo = new Map<string, string>();

/** Every regular file under `dir` (recursively, dot-files and lock files left out) with its full sha256, sorted by path. */
export function directoryHashes(dir: string): { file: string; sha256: string }[] {
  const out: { file: string; sha256: string }[] = [];
  const walk = (sub: string) => {
    for (const e of readdirSync(join(dir, sub), { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name.endsWith('.lock')) continue;
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) walk(rel);
      else if (e.isFile()) out.push({ file: rel, sha256: fileSha256(join(dir, rel)) });
    }
  };
  walk('');
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}
