/**
 * One resumable, verified HTTP download. Bytes go to `<dest>.part`; an interrupted transfer (dropped connection, Ctrl-C,
 * crash) continues from where it stopped with an HTTP Range request; the finished file is checked for its size (the
 * recorded one, else the server's) and sha256 (when recorded) before it is renamed to `dest`. A file that fails the
 * check is deleted and fetched again from the start, once; a file already at `dest` is checked the same way first.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

export interface DownloadProgress {
  name: string;
  /** Bytes of the file on disk so far (resumed bytes included). */
  received: number;
  total?: number;
}

export interface DownloadOptions {
  /** Recorded size in bytes (else the server's Content-Length is the reference). */
  size?: number;
  /** Recorded sha256 (hex). */
  sha256?: string;
  onProgress?: (p: DownloadProgress) => void;
  /** Messages for people (resuming, re-fetching). */
  log?: (msg: string) => void;
  signal?: AbortSignal;
  /** Resumptions allowed after dropped connections (default 5). */
  retries?: number;
  /** Pause before resuming after a dropped connection (default 500 ms). */
  retryDelayMs?: number;
}

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** False when a verified copy was already there. */
  downloaded: boolean;
  /** Times the transfer resumed with a Range request. */
  resumed: number;
  /** Times a finished file failed its check and was fetched again from the start. */
  refetched: number;
}

export class DownloadError extends Error {
  override name = 'DownloadError';
}

/** sha256 of a file, streamed. */
export async function fileSha256Stream(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 4 << 20 }), async function* (src) {
    for await (const chunk of src) h.update(chunk as Buffer);
  });
  return h.digest('hex');
}

/** Why a finished file is not the file recorded, or undefined when it is. */
async function check(path: string, size: number | undefined, sha256: string | undefined): Promise<{ problem?: string; digest: string; bytes: number }> {
  const bytes = statSync(path).size;
  if (size !== undefined && bytes !== size) {
    return { problem: `${bytes < size ? 'truncated' : 'too long'}: ${bytes} bytes, expected ${size}`, digest: '', bytes };
  }
  const digest = await fileSha256Stream(path);
  if (sha256 && digest !== sha256.toLowerCase()) return { problem: `sha256 ${digest} does not match the recorded ${sha256}`, digest, bytes };
  return { digest, bytes };
}

function contentRange(h: string | null): { start: number; total?: number } | undefined {
  const m = h ? /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(h.trim()) : null;
  if (!m) return undefined;
  return m[2] === '*' ? { start: Number(m[1]) } : { start: Number(m[1]), total: Number(m[2]) };
}

export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const log = opts.log ?? (() => {});
  const name = dest.split(/[\\/]/).pop()!;
  if (existsSync(dest)) {
    const c = await check(dest, opts.size, opts.sha256);
    if (!c.problem) return { path: dest, size: c.bytes, sha256: c.digest, downloaded: false, resumed: 0, refetched: 0 };
    log(`${dest} is damaged (${c.problem}): fetching it again`);
    rmSync(dest, { force: true });
  }
  const part = `${dest}.part`;
  const retries = opts.retries ?? 5;
  let resumed = 0;
  let drops = 0;
  let refetched = 0;
  let serverTotal: number | undefined;
  for (;;) {
    opts.signal?.throwIfAborted();
    const have = existsSync(part) ? statSync(part).size : 0;
    const complete = opts.size !== undefined ? have === opts.size : serverTotal !== undefined && have === serverTotal;
    if (!complete) {
      // identity: the bytes on disk must be the file's bytes, so that sizes, ranges and digests refer to the same thing.
      const headers: Record<string, string> = { 'Accept-Encoding': 'identity', ...(have > 0 ? { Range: `bytes=${have}-` } : {}) };
      let res: Response;
      try {
        res = await fetch(url, opts.signal ? { headers, signal: opts.signal } : { headers });
      } catch (err) {
        if (opts.signal?.aborted || ++drops > retries) throw new DownloadError(`${url}: ${(err as Error).message} (after ${drops} tries)`, { cause: err });
        log(`${name}: ${(err as Error).message}; trying again`);
        await new Promise((r) => setTimeout(r, opts.retryDelayMs ?? 500));
        continue;
      }
      let append = false;
      if (res.status === 416 && have > 0) {
        // Nothing left to send: the part file is complete (or longer than the file); the check below decides.
        await res.body?.cancel();
      } else {
        if (!res.ok || !res.body) throw new DownloadError(`${url}: HTTP ${res.status} ${res.statusText}`);
        const range = res.status === 206 ? contentRange(res.headers.get('content-range')) : undefined;
        append = have > 0 && range?.start === have;
        if (have > 0 && !append) log(`${name}: the server does not resume (HTTP ${res.status}); starting again`);
        if (append) resumed++;
        const length = Number(res.headers.get('content-length') ?? NaN);
        serverTotal = range?.total ?? (Number.isFinite(length) ? (append ? have + length : length) : undefined);
        let received = append ? have : 0;
        const total = opts.size ?? serverTotal;
        opts.onProgress?.(total === undefined ? { name, received } : { name, received, total });
        // Each chunk is on disk before the next is read, so whatever arrived before a dropped connection is kept.
        const fh = await open(part, append ? 'a' : 'w');
        try {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            await fh.write(chunk);
            received += chunk.length;
            opts.onProgress?.(total === undefined ? { name, received } : { name, received, total });
          }
        } catch (err) {
          if (opts.signal?.aborted) throw err;
          if (++drops > retries) throw new DownloadError(`${url}: the connection kept dropping (${drops} times); rerun to resume`, { cause: err });
          log(`${name}: connection dropped at ${received} bytes (${(err as Error).message}); resuming`);
          await new Promise((r) => setTimeout(r, opts.retryDelayMs ?? 500));
          continue;
        } finally {
          await fh.close();
        }
      }
    }
    const expected = opts.size ?? serverTotal;
    const got = statSync(part).size;
    if (expected !== undefined && got < expected) {
      // The server closed the response early without an error: resume.
      if (++drops > retries) throw new DownloadError(`${url}: the transfer kept ending early (${got} of ${expected} bytes)`);
      log(`${name}: transfer ended at ${got} of ${expected} bytes; resuming`);
      continue;
    }
    const c = await check(part, expected, opts.sha256);
    if (c.problem) {
      rmSync(part, { force: true });
      if (++refetched > 1) throw new DownloadError(`${url}: the download is corrupt again (${c.problem}); the file on the server may have changed`);
      log(`${name}: download is corrupt (${c.problem}); fetching it again`);
      continue;
    }
    renameSync(part, dest);
    return { path: dest, size: c.bytes, sha256: c.digest, downloaded: true, resumed, refetched };
  }
}
