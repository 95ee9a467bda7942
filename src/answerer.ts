import type { Prediction, Sample } from './core/artifacts.js';
import { runBatch, type BatchEvaluator, type BatchOptions, type BatchSummary } from './core/batch.js';
import { Cache } from './core/cache.js';
import { cachePath, resolveConfig, type Config, type ConfigInput } from './core/config.js';
import { silentLogger, type Logger, type RunContext } from './core/context.js';
import { compilePipeline, type CompiledPipeline } from './core/graph.js';
import { packagePaths, type PackagePaths } from './core/paths.js';
import { applyNodeSets, loadPipelineSpec } from './core/pipeline-spec.js';
import type { StageRegistry } from './core/registry.js';
import { Resources } from './core/resources.js';
import { PipelineExecutor, type SampleResult } from './core/runner.js';
import { preflight, type PreflightReport } from './core/preflight.js';
import { loadDataFile } from './data/data-file.js';
import type { DataSources } from './data/sources.js';
import { officialEvaluator } from './eval/run-evaluator.js';
import type { Score } from './eval/score-files.js';
import { closeRunContext, createRunContext, type RunContextOptions } from './run-context.js';
import { createRegistry } from './stages/index.js';

export interface LoadPipelineOptions {
  registry?: StageRegistry;
  /** Extra folders searched for pipeline names (before the package's pipelines/). */
  searchDirs?: string[];
  /** `nodes.<node>.params.<key>=value` overrides. */
  sets?: readonly string[];
  paths?: PackagePaths;
}

/** Load a pipeline by name (`prior`, `pica-full`) or YAML path, resolve `extends`, and compile it into a validated DAG. */
export function loadPipeline(ref: string, opts: LoadPipelineOptions = {}): CompiledPipeline {
  const paths = opts.paths ?? packagePaths();
  const spec = applyNodeSets(loadPipelineSpec(ref, [...(opts.searchDirs ?? []), process.cwd() + '/pipelines', paths.pipelines]), opts.sets ?? []);
  return compilePipeline(spec, opts.registry ?? createRegistry());
}

// The run context lives in run-context.ts (one way to create and close one); re-exported for the public API.
export { closeRunContext, createRunContext, type RunContextOptions } from './run-context.js';

export interface AnswererOptions {
  /** Pipeline name or YAML path. */
  pipeline: string;
  /** Config overrides (merged over defaults, the pipeline's config, and under the environment). */
  config?: ConfigInput;
  /** data.json path or resolved sources (captions, example pool, knowledge base…). */
  data?: DataSources | string;
  /** Model profile shortcut: "tiny" for the generated test models. */
  profile?: 'default' | 'tiny';
  registry?: StageRegistry;
  log?: Logger;
}

export interface Answerer {
  readonly pipeline: CompiledPipeline;
  readonly context: RunContext;
  /** Answer one question; the full per-node trace comes with it. */
  answer(sample: Sample): Promise<SampleResult & { prediction?: Prediction }>;
  /** The pre-flight checks of every node for these questions (see README, "Checking a run before it starts"). */
  check(samples: readonly Sample[]): Promise<PreflightReport>;
  close(): Promise<void>;
}

/** Library entry point: one pipeline, loaded once, answering questions one at a time (models and clients are shared). */
export function createAnswerer(opts: AnswererOptions): Answerer {
  const pipeline = loadPipeline(opts.pipeline, opts.registry ? { registry: opts.registry } : {});
  const overrides: ConfigInput = { ...(opts.config ?? {}) };
  if (opts.profile) overrides.models = { ...(overrides.models ?? {}), profile: opts.profile };
  const config = resolveConfig({ pipeline: pipeline.config, overrides, env: process.env });
  const ctxOpts: RunContextOptions = { config };
  if (opts.data !== undefined) ctxOpts.data = opts.data;
  if (opts.log) ctxOpts.log = opts.log;
  const context = createRunContext(ctxOpts);
  const executor = new PipelineExecutor(pipeline, context);
  return {
    pipeline,
    context,
    answer: (sample) => executor.run(sample),
    check: (samples) => preflight(pipeline, { ...context, samples }),
    async close() {
      await executor.dispose();
      await closeRunContext(context);
    },
  };
}

export type PipelineRunOptions = Omit<BatchOptions<Score>, 'evaluator'> & { evaluator?: BatchEvaluator<Score> };

/** Run a compiled pipeline over many questions into an output folder, scored by the official metrics (see runBatch). */
export function runPipeline(opts: PipelineRunOptions): Promise<BatchSummary<Score>> {
  return runBatch({ ...opts, evaluator: opts.evaluator ?? officialEvaluator });
}
