/**
 * Unpacking downloaded archives. Zip through yauzl (streaming, zip64, refuses absolute and `..` member names), every
 * member checked against its CRC-32 and written under a temporary name first; tar.gz through node-tar in strict mode.
 * A damaged archive is an `UnpackError` (the caller fetches it again).
 */
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import * as tar from 'tar';
import yauzl from 'yauzl';

export class UnpackError extends Error {
  override name = 'UnpackError';
}

export interface UnpackOptions {
  /** Only members whose path matches. */
  members?: RegExp;
  onProgress?: (done: number, total: number) => void;
}

const crc32: (data: Uint8Array, value?: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? zlib.crc32 : crc32Js;

function crc32Js(data: Uint8Array, value = 0): number {
  let c = ~value >>> 0;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return ~c >>> 0;
}

function inside(dir: string, name: string): string {
  const target = resolve(dir, name);
  if (target !== resolve(dir) && !target.startsWith(resolve(dir) + sep)) throw new UnpackError(`archive member ${name} points outside ${dir}`);
  return target;
}

export async function unpackZip(archive: string, destDir: string, opts: UnpackOptions = {}): Promise<{ files: number }> {
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((ok, fail) =>
      yauzl.open(archive, { lazyEntries: true, autoClose: true, validateEntrySizes: true }, (err, z) => (err ? fail(err) : ok(z!))),
    );
  } catch (err) {
    throw new UnpackError(`${archive} is not a readable zip archive: ${(err as Error).message}`, { cause: err });
  }
  const total = zip.entryCount;
  let seen = 0;
  let files = 0;
  try {
    await new Promise<void>((ok, fail) => {
      zip.on('error', (err: Error) => fail(new UnpackError(`${archive} is damaged: ${err.message}`, { cause: err })));
      zip.on('end', () => ok());
      zip.on('entry', (entry: yauzl.Entry) => {
        seen++;
        opts.onProgress?.(seen, total);
        const name = entry.fileName;
        if (name.endsWith('/')) {
          if (!opts.members) mkdirSync(inside(destDir, name), { recursive: true });
          zip.readEntry();
          return;
        }
        if (opts.members && !opts.members.test(name)) {
          zip.readEntry();
          return;
        }
        const target = inside(destDir, name);
        mkdirSync(dirname(target), { recursive: true });
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return fail(new UnpackError(`${archive}: cannot read member ${name}: ${err?.message}`, { cause: err }));
          let crc = 0;
          const check = new Transform({
            transform(chunk: Buffer, _e, cb) {
              crc = crc32(chunk, crc);
              cb(null, chunk);
            },
          });
          const tmp = `${target}.unpacking`;
          pipeline(stream, check, createWriteStream(tmp))
            .then(() => {
              if (crc !== entry.crc32) {
                rmSync(tmp, { force: true });
                throw new UnpackError(`${archive}: member ${name} is corrupt (CRC-32 ${crc.toString(16)}, expected ${entry.crc32.toString(16)})`);
              }
              renameSync(tmp, target);
              files++;
              zip.readEntry();
            })
            .catch((e: Error) => {
              rmSync(tmp, { force: true });
              fail(e instanceof UnpackError ? e : new UnpackError(`${archive}: member ${name} is damaged: ${e.message}`, { cause: e }));
            });
        });
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  return { files };
}

export async function unpackTarGz(archive: string, destDir: string, opts: UnpackOptions = {}): Promise<{ files: number }> {
  mkdirSync(destDir, { recursive: true });
  let files = 0;
  try {
    await tar.x({
      file: archive,
      cwd: destDir,
      strict: true,
      filter: (path) => {
        const keep = !opts.members || opts.members.test(path);
        if (keep) files++;
        return keep;
      },
    });
  } catch (err) {
    throw new UnpackError(`${archive} is not a readable tar.gz archive: ${(err as Error).message}`, { cause: err });
  }
  return { files };
}

