/** Which image paths a server may read: only files inside the folders it was given, after following symlinks. */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';

export class PathRefusedError extends Error {
  override name = 'PathRefusedError';
  constructor(
    message: string,
    readonly status: 403 | 404 | 400,
  ) {
    super(message);
  }
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * Allowed folders, resolved once (their real paths). `check(p)` returns the real path of a regular file lying in one
 * of them, or throws PathRefusedError: `..` segments, absolute paths elsewhere, symlinks whose targets lie outside,
 * NUL bytes and URLs are all refused before anything is opened.
 */
export class AllowedPaths {
  readonly dirs: string[];

  constructor(dirs: readonly string[]) {
    this.dirs = [];
    for (const d of dirs) {
      try {
        this.dirs.push(realpathSync(resolve(d)));
      } catch {
        throw new Error(`allowed folder ${d} does not exist`);
      }
    }
  }

  check(requested: string): string {
    if (typeof requested !== 'string' || !requested) throw new PathRefusedError('"image" must be a non-empty path string', 400);
    if (requested.includes('\0')) throw new PathRefusedError('image path contains a NUL byte', 400);
    if (/^[a-z][a-z0-9+.-]*:/i.test(requested) && !/^[a-z]:[\\/]/i.test(requested)) {
      throw new PathRefusedError('image must be a file path on the server (URLs are not fetched); upload the image instead', 400);
    }
    if (!this.dirs.length) throw new PathRefusedError('this server reads no image paths (start it with --allow DIR); upload the image instead', 403);
    // Relative paths are relative to the first allowed folder.
    const lexical = isAbsolute(requested) ? resolve(requested) : resolve(this.dirs[0]!, requested);
    if (!this.dirs.some((d) => inside(d, lexical))) throw new PathRefusedError(`image path is outside the allowed folders`, 403);
    let real: string;
    try {
      real = realpathSync(lexical);
    } catch {
      throw new PathRefusedError('image file not found', 404);
    }
    if (!this.dirs.some((d) => inside(d, real))) throw new PathRefusedError('image path leads (through a link) outside the allowed folders', 403);
    if (!statSync(real).isFile()) throw new PathRefusedError('image path is not a file', 400);
    return real;
  }
}
