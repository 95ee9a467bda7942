/** A run context for ad-hoc model calls (CLI `detect` / `embed`, scripts, benchmarks) outside a pipeline run. */
import { Cache } from '../core/cache.js';
import { cachePath, type Config } from '../core/config.js';
import { silentLogger, type Logger, type RunContext } from '../core/context.js';
import { packagePaths, type PackagePaths } from '../core/paths.js';
import { Resources } from '../core/resources.js';

export interface ModelContext extends RunContext {
  /** Dispose loaded models and close the cache. */
  close(): Promise<void>;
}

export function createModelContext(
  config: Config,
  opts: { cache?: Cache; paths?: PackagePaths; log?: Logger; signal?: AbortSignal } = {},
): ModelContext {
  const cache = opts.cache ?? new Cache(config.cache.mode === 'off' ? ':memory:' : cachePath(config), config.cache.mode);
  const resources = new Resources();
  return {
    config,
    data: {},
    resources,
    cache,
    paths: opts.paths ?? packagePaths(),
    log: opts.log ?? silentLogger,
    signal: opts.signal ?? new AbortController().signal,
    async close() {
      try {
        await resources.disposeAll();
      } finally {
        if (!opts.cache) cache.close();
      }
    },
  };
}
