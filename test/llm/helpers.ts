import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sample } from '../../src/core/artifacts.js';
import { Cache } from '../../src/core/cache.js';
import { resolveConfig, type ConfigInput } from '../../src/core/config.js';
import { silentLogger, type StageContext, type Usage } from '../../src/core/context.js';
import { packagePaths } from '../../src/core/paths.js';
import { Resources } from '../../src/core/resources.js';
import { loadDataFile, loadSamples } from '../../src/data/data-file.js';
import type { DataSources } from '../../src/data/sources.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface TestCtx extends StageContext {
  notes: Record<string, unknown>;
  usageTotal: Usage;
}

export function fixtureData(): DataSources {
  return loadDataFile(join(FIXTURES, 'data.json'));
}

export function fixtureSamples(): Sample[] {
  return loadSamples(fixtureData());
}

/** A hand-made stage context (until the runner is used): fresh resources, the given cache, config overrides. */
export function makeCtx(opts: { config?: ConfigInput; cache?: Cache; resources?: Resources; data?: DataSources; questionId?: string } = {}): TestCtx {
  const notes: Record<string, unknown> = {};
  const usageTotal: Usage = { calls: 0, cachedCalls: 0, promptTokens: 0, completionTokens: 0 };
  return {
    config: resolveConfig({ overrides: opts.config ?? {}, env: {} }),
    data: opts.data ?? fixtureData(),
    resources: opts.resources ?? new Resources(),
    cache: opts.cache ?? new Cache(':memory:'),
    paths: packagePaths(ROOT),
    log: silentLogger,
    signal: new AbortController().signal,
    questionId: opts.questionId ?? 'q',
    node: 'test',
    note(k, v) {
      notes[k] = v;
    },
    usage(u) {
      for (const k of Object.keys(u) as (keyof Usage)[]) usageTotal[k] = (usageTotal[k] ?? 0) + (u[k] ?? 0);
    },
    notes,
    usageTotal,
  };
}
