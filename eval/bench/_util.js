// Shared helpers for the benchmark scripts.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const shared = join(root, '..', 'shared', 'data', 'okvqa');
export const hasShared = existsSync(join(shared, 'mscoco_val2014_annotations.json'));

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

export function report(figures) {
  console.log(JSON.stringify(figures));
}
