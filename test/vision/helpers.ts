import { join } from 'node:path';
import { Cache } from '../../src/core/cache.js';
import { resolveConfig, type ConfigInput } from '../../src/core/config.js';
import { silentLogger, type StageContext } from '../../src/core/context.js';
import { packagePaths } from '../../src/core/paths.js';
import { Resources } from '../../src/core/resources.js';

export const paths = packagePaths();
export const IMAGES = join(paths.root, 'test', 'fixtures', 'images');
export const COFFEE = join(IMAGES, 'coffee.png');
export const ASTRONAUT = join(IMAGES, 'astronaut.png');

/** A stage context over a fresh in-memory cache and resources; `notes` collects ctx.note calls. */
export function makeCtx(overrides: ConfigInput = {}, cache = new Cache(':memory:')) {
  const notes: Record<string, unknown> = {};
  const ctx: StageContext = {
    config: resolveConfig({ overrides }),
    data: {},
    resources: new Resources(),
    cache,
    paths,
    log: silentLogger,
    signal: new AbortController().signal,
    questionId: 'q1',
    node: 'test',
    note: (k, v) => {
      notes[k] = v;
    },
    usage: () => {},
  };
  return { ctx, notes };
}

export const tiny: ConfigInput = { models: { profile: 'tiny' } };
