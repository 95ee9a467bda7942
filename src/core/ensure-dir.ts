import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from './errors.js';

/**
 * Create a folder and its missing parents, one level at a time, failing fast with an error that names the folder.
 * Every directory creation in the package goes through here: Node's `mkdirSync(…, { recursive: true })` never returns
 * on paths under pseudo file systems such as `/proc/x` (each level reports ENOENT and it retries the parent for ever).
 * `what` says what the folder is for ("output folder", "cache folder"), for the message.
 */
export function ensureDir(dir: string, what = 'folder'): string {
  const target = resolve(dir);
  const missing: string[] = [];
  let cur = target;
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(cur).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new InputError(`cannot create ${what}: ${cur} is not accessible (${code})`, target);
      const parent = dirname(cur);
      if (parent === cur) throw new InputError(`cannot create ${what}: no existing parent folder`, target);
      missing.push(cur);
      cur = parent;
      continue;
    }
    if (!isDir) throw new InputError(`cannot create ${what}: ${cur} exists and is not a folder`, target);
    break;
  }
  try {
    accessSync(cur, constants.W_OK | constants.X_OK);
  } catch {
    if (missing.length) throw new InputError(`cannot create ${what}: ${cur} is not writable`, target);
    throw new InputError(`${what} is not writable`, target);
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      throw new InputError(`cannot create ${what} (${code ?? String(err)} creating ${d}; is ${dirname(d)} a writable folder on a normal file system?)`, target);
    }
  }
  return target;
}
