import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';

const NAME = /^(?:COCO_(?:train|val|test)20\d\d_)?(\d{12})\.(?:jpe?g|png)$/i;

/**
 * Index a COCO images folder once: `COCO_val2014_%012d.jpg` (2014 layout) and `%012d.jpg` (2017 layout) are both
 * recognised, in the folder itself or one level down (e.g. `images/val2014/`).
 */
export function indexCocoImages(dir: string): Map<number, string> {
  const index = new Map<number, string>();
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    throw new InputError(`cannot read images folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`, dir);
  }
  const subdirs: string[] = [];
  for (const e of entries) {
    const m = NAME.exec(e);
    if (m) index.set(Number(m[1]), join(dir, e));
    else if (!e.includes('.')) {
      try {
        if (statSync(join(dir, e)).isDirectory()) subdirs.push(join(dir, e));
      } catch {
        /* unreadable entry: ignore */
      }
    }
  }
  for (const sub of subdirs) {
    for (const e of readdirSync(sub)) {
      const m = NAME.exec(e);
      if (m && !index.has(Number(m[1]))) index.set(Number(m[1]), join(sub, e));
    }
  }
  return index;
}

/** The file names a COCO image id may have. */
export function cocoFileNames(imageId: number): string[] {
  const id = String(imageId).padStart(12, '0');
  return [`COCO_val2014_${id}.jpg`, `COCO_train2014_${id}.jpg`, `${id}.jpg`];
}
