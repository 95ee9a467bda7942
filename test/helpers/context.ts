import { Cache } from '../../src/core/cache.js';
import { resolveConfig, type ConfigInput } from '../../src/core/config.js';
import { silentLogger, type RunContext } from '../../src/core/context.js';
import { packagePaths } from '../../src/core/paths.js';
import { Resources } from '../../src/core/resources.js';
import type { DataSources } from '../../src/data/sources.js';

/** A run context for tests: in-memory (or given) cache, no environment layer. */
export function testContext(opts: { config?: ConfigInput; data?: DataSources; cache?: Cache; signal?: AbortSignal } = {}): RunContext {
  return {
    config: resolveConfig({ overrides: opts.config ?? {} }),
    data: opts.data ?? {},
    resources: new Resources(),
    cache: opts.cache ?? new Cache(':memory:', 'rw'),
    paths: packagePaths(),
    log: silentLogger,
    signal: opts.signal ?? new AbortController().signal,
  };
}
