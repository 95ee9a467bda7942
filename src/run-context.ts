/**
 * The one way to create and close a run context (pipeline runs, the answerer, ad-hoc model and LLM calls, benchmarks).
 * Whoever opens a resource closes it: `close()` disposes the run's resources and closes the cache only when the
 * context opened it itself; a cache passed in stays open for its owner.
 */
import type { DataSources } from './data/sources.js';
import { loadDataFile } from './data/data-file.js';
import { Cache } from './core/cache.js';
import { cacheLocation, resolveConfig, type Config } from './core/config.js';
import { silentLogger, type Logger, type RunContext } from './core/context.js';
import { packagePaths, type PackagePaths } from './core/paths.js';
import { Resources } from './core/resources.js';

export interface RunContextOptions {
  config?: Config;
  data?: DataSources | string;
  /** A cache the caller owns (and closes); without one the context opens (and closes) the configured cache. */
  cache?: Cache;
  log?: Logger;
  signal?: AbortSignal;
  paths?: PackagePaths;
}

export interface OwnedRunContext extends RunContext {
  /** Dispose the run's resources (models, sessions…) and close the cache if this context opened it. */
  close(): Promise<void>;
}

/** Everything a run shares: config, data sources, cache, run-scoped resources. Close it with `close()` / `closeRunContext`. */
export function createRunContext(opts: RunContextOptions = {}): OwnedRunContext {
  const config = opts.config ?? resolveConfig({ env: process.env });
  const data = typeof opts.data === 'string' ? loadDataFile(opts.data) : opts.data ?? {};
  const ownsCache = !opts.cache;
  const cache = opts.cache ?? new Cache(config.cache.mode === 'off' ? ':memory:' : cacheLocation(config), config.cache.mode);
  const resources = new Resources();
  return {
    config,
    data,
    resources,
    cache,
    paths: opts.paths ?? packagePaths(),
    log: opts.log ?? silentLogger,
    signal: opts.signal ?? new AbortController().signal,
    async close() {
      try {
        await resources.disposeAll();
      } finally {
        if (ownsCache) await cache.close();
      }
    },
  };
}

export function closeRunContext(ctx: OwnedRunContext): Promise<void> {
  return ctx.close();
}
