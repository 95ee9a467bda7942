import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Sample } from '../core/artifacts.js';
import type { Config } from '../core/config.js';
import { UsageError } from '../core/errors.js';
import type { CompiledPipeline } from '../core/graph.js';
import type { PackagePaths } from '../core/paths.js';
import type { PreflightReport } from '../core/preflight.js';
import type { Resources } from '../core/resources.js';
import type { Logger } from '../core/context.js';
import type { DataSources } from '../data/sources.js';
import { configFromOptions, parseNumberFlag, type ConfigOptions } from './options.js';

/** Pipeline names a user can run: ./pipelines and the package's pipelines/. */
export function pipelineNames(paths: PackagePaths): string[] {
  const names = new Set<string>();
  for (const dir of [join(process.cwd(), 'pipelines'), paths.pipelines]) {
    try {
      for (const f of readdirSync(dir)) if (/\.ya?ml$/.test(f)) names.add(f.replace(/\.ya?ml$/, ''));
    } catch {
      /* no such folder */
    }
  }
  return [...names].sort();
}

export function requirePipelineArg(ref: string | undefined, command: string, paths: PackagePaths): string {
  if (ref) return ref;
  throw new UsageError(`${command}: name a pipeline, e.g. "okvqa ${command} prior --data data.json". Pipelines: ${pipelineNames(paths).join(', ')} (or a path to a YAML file)`);
}

export interface PrepareFlags extends ConfigOptions {
  data?: string;
  limit?: string;
}

export interface PreparedRun {
  pipeline: CompiledPipeline;
  config: Config;
  data: DataSources;
  samples: Sample[];
  limit?: number;
}

/** What `okvqa run` and `okvqa check` share: pipeline compiled, config layered, data.json and its questions loaded. */
export async function prepareRun(ref: string, flags: PrepareFlags, command: string, extraSets: readonly string[] = []): Promise<PreparedRun> {
  if (!flags.data) throw new UsageError(`${command}: give the data with --data data.json (see README "Quick start"; okvqa data fetch okvqa writes one)`);
  const limit = parseNumberFlag('--limit', flags.limit, { integer: true, positive: true });
  const sets = [...(flags.set ?? []), ...extraSets];
  const { loadPipeline } = await import('../answerer.js');
  const { loadDataFile, loadSamples } = await import('../data/data-file.js');
  const pipeline = loadPipeline(ref, { sets });
  const config = configFromOptions({ ...flags, set: sets }, pipeline.config, pipeline.file);
  const data = loadDataFile(flags.data);
  let samples = loadSamples(data);
  if (limit) samples = samples.slice(0, limit);
  return { pipeline, config, data, samples, ...(limit ? { limit } : {}) };
}

/** Run the pre-flight checks of a prepared run; prints every problem to stderr, returns the report. */
export async function checkPrepared(
  p: PreparedRun,
  ctx: { resources: Resources; paths: PackagePaths; log: Logger },
  write: (line: string) => void,
): Promise<PreflightReport> {
  const { preflight, formatProblem } = await import('../core/preflight.js');
  const report = await preflight(p.pipeline, { config: p.config, data: p.data, samples: p.samples, ...ctx });
  for (const e of report.errors) write(formatProblem(e));
  for (const w of report.warnings) write(formatProblem(w));
  return report;
}
