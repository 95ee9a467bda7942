import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { InputError } from '../core/errors.js';

/** Read and parse a JSON file; errors name the file. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(err)})`, path);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`not valid JSON: ${(err as Error).message}`, path);
  }
}

/** Validate parsed data with a zod schema; the error names the file and the first offending field. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new InputError(issue.message, file, issue.path.join('.') || undefined);
}
