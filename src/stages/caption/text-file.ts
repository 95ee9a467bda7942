import type { RunContext } from '../../core/context.js';
import { InputError } from '../../core/errors.js';
import { loadSamples } from '../../data/data-file.js';
import { detectKeying, type MapKeying, type TextMap } from '../../data/captions.js';

export type KeyParam = 'auto' | MapKeying;

/** Load a caption/tag map once per run and decide (once) whether it is keyed by image or question id. */
export async function keyedMap<T>(
  ctx: Pick<RunContext, 'resources' | 'data'>,
  kind: string,
  path: string,
  key: KeyParam,
  load: (path: string) => TextMap<T>,
): Promise<{ map: TextMap<T>; keying: MapKeying }> {
  const map = await ctx.resources.get(`${kind}:${path}`, () => load(path));
  if (key !== 'auto') return { map, keying: key };
  const keying = await ctx.resources.get(`${kind}-keying:${path}`, () => {
    if (!ctx.data.questions) return 'image' as const;
    // Only ids matter here: skip the annotations and the images folder.
    return detectKeying(map, loadSamples({ ...ctx.data, annotations: undefined, images: undefined }));
  });
  return { map, keying };
}

export function requirePath(path: string | undefined, what: string): string {
  if (!path) throw new InputError(`no ${what} file: name one in data.json ("${what}") or in the node's params ("file")`);
  return path;
}
