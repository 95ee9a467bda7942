import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { RunContext } from '../../core/context.js';
import { InputError } from '../../core/errors.js';

export const DEFAULT_VOCABULARY = 'tag-vocabulary.txt';

/** Resolve a vocabulary file: absolute, relative to the working directory, or a name inside the package's knowledge/. */
export function vocabularyPath(ctx: Pick<RunContext, 'paths'>, file: string = DEFAULT_VOCABULARY): string {
  if (isAbsolute(file)) return file;
  if (file.includes('/') || file.startsWith('.')) return join(process.cwd(), file);
  return join(ctx.paths.knowledge, file);
}

/** Tags of a vocabulary file: one per line, `#` comments and blank lines skipped, duplicates dropped. */
export function parseVocabulary(text: string): string[] {
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const t = line.replace(/#.*/, '').trim();
    if (t) seen.add(t);
  }
  return [...seen];
}

export function loadVocabulary(ctx: Pick<RunContext, 'paths' | 'resources'>, file?: string): Promise<string[]> {
  const path = vocabularyPath(ctx, file);
  return ctx.resources.get(`vocabulary:${path}`, async () => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new InputError(`cannot read tag vocabulary: ${(err as Error).message}`, path);
    }
    const tags = parseVocabulary(text);
    if (tags.length === 0) throw new InputError('tag vocabulary is empty', path);
    return tags;
  });
}
