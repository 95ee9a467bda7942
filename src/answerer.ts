import { existsSync } from 'node:fs';
import { join } from 'node:path';
import PQueue from 'p-queue';
import { adaptForAnyImage, type Adaptation } from './answer/any-image.js';
import { prepareInput, type AnswerInput, type PreparedInput } from './answer/input.js';
import { buildAnswerResult, inputFailure, type AnswerResult } from './answer/result.js';
import type { Sample } from './core/artifacts.js';
import { errorMessage, InputError } from './core/errors.js';
import { runBatch, type BatchEvaluator, type BatchOptions, type BatchSummary } from './core/batch.js';
import { resolveConfig, type ConfigInput } from './core/config.js';
import type { Logger, RunContext } from './core/context.js';
import { compilePipeline, type CompiledPipeline } from './core/graph.js';
import { packagePaths, type PackagePaths } from './core/paths.js';
import { applyNodeSets, loadPipelineSpec } from './core/pipeline-spec.js';
import type { StageRegistry } from './core/registry.js';
import { PipelineExecutor } from './core/runner.js';
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
  /** A config file's content (the CLI's `--config`), under `config` and `sets`. */
  configFile?: unknown;
  /** `key=value` overrides as on the command line: config paths and `nodes.<node>.params.<key>=value`. */
  sets?: readonly string[];
  /**
   * data.json path or resolved sources (captions, example pool, knowledge base…). With profile `tiny` and no data, the
   * bundled tiny knowledge base and example pool (assets/demo/data.json) are used.
   */
  data?: DataSources | string;
  /** Model profile shortcut: "tiny" for the generated test models. */
  profile?: 'default' | 'tiny';
  /**
   * Swap file-backed caption/tag nodes for model stages when the data names no such file, so any image can be asked
   * about (default true; see `adaptations`).
   */
  anyImage?: boolean;
  registry?: StageRegistry;
  log?: Logger;
}

export interface Answerer {
  readonly pipeline: CompiledPipeline;
  readonly context: RunContext;
  /** Nodes swapped so the pipeline works on any image (e.g. `caption.file` → `caption.model`). */
  readonly adaptations: readonly Adaptation[];
  /** The data.json whose knowledge base and example pool profile `tiny` used because no data was given. */
  readonly defaultData?: string;
  /**
   * Answer one question about an image given as a path, a `file:` URL or a Buffer (or a dataset `Sample`). Never throws
   * for a bad question or image: the result says `ok: false` with the error.
   */
  answer(input: AnswerInput): Promise<AnswerResult>;
  /** Answer many questions with the loaded models shared, `config.concurrency` at a time; results in input order. */
  answerMany(inputs: readonly AnswerInput[], opts?: { concurrency?: number }): Promise<AnswerResult[]>;
  /** The pre-flight checks of every node for these questions (see README, "Checking a run before it starts"). */
  check(samples: readonly Sample[]): Promise<PreflightReport>;
  close(): Promise<void>;
}

/** The bundled tiny knowledge base and example pool that profile `tiny` uses when no data is given. */
export function tinyDefaultDataFile(paths: PackagePaths): string {
  return join(paths.demo, 'data.json');
}

export function tinyDefaultData(paths: PackagePaths): DataSources | undefined {
  const file = tinyDefaultDataFile(paths);
  if (!existsSync(file)) return undefined;
  const d = loadDataFile(file);
  const out: DataSources = {};
  if (d.dir) out.dir = d.dir;
  if (d.knowledge) out.knowledge = d.knowledge;
  if (d.examples) out.examples = d.examples;
  return out;
}

/**
 * Library entry point: one pipeline, loaded once, answering questions about any image (models and clients are shared
 * across questions).
 */
export function createAnswerer(opts: AnswererOptions): Answerer {
  // From plain JavaScript the types do not stop a missing pipeline; say what is needed instead of failing deep inside.
  if (typeof opts?.pipeline !== 'string' || !opts.pipeline) {
    throw new InputError("createAnswerer needs a pipeline: a name ('revive', 'kat', 'pica-base', …; `okvqa run` lists them) or a YAML path");
  }
  const paths = packagePaths();
  const sets = opts.sets ?? [];
  const searchDirs = [process.cwd() + '/pipelines', paths.pipelines];
  let spec = applyNodeSets(loadPipelineSpec(opts.pipeline, searchDirs), sets);
  const overrides: ConfigInput = { ...(opts.config ?? {}) };
  if (opts.profile) overrides.models = { ...(overrides.models ?? {}), profile: opts.profile };
  const config = resolveConfig({
    file: opts.configFile,
    pipeline: spec.config,
    overrides,
    sets: sets.filter((s) => !s.startsWith('nodes.')),
    env: process.env,
  });
  let data: DataSources = typeof opts.data === 'string' ? loadDataFile(opts.data) : opts.data ?? {};
  let defaultData: string | undefined;
  if (opts.data === undefined && config.models.profile === 'tiny') {
    const d = tinyDefaultData(paths);
    if (d) [data, defaultData] = [d, tinyDefaultDataFile(paths)];
  }
  let adaptations: Adaptation[] = [];
  if (opts.anyImage !== false) ({ spec, adaptations } = adaptForAnyImage(spec, data));
  const pipeline = compilePipeline(spec, opts.registry ?? createRegistry());
  const ctxOpts: RunContextOptions = { config, data, paths };
  if (opts.log) ctxOpts.log = opts.log;
  const context = createRunContext(ctxOpts);
  const executor = new PipelineExecutor(pipeline, context);

  const answer = async (input: AnswerInput): Promise<AnswerResult> => {
    let prepared: PreparedInput;
    try {
      prepared = await prepareInput(input, context);
    } catch (err) {
      return inputFailure(String(input?.question ?? ''), input?.questionId ?? '', errorMessage(err));
    }
    try {
      const r = await executor.run(prepared.sample);
      return buildAnswerResult(pipeline, prepared.sample, r);
    } finally {
      prepared.release();
    }
  };

  return {
    pipeline,
    context,
    adaptations,
    ...(defaultData ? { defaultData } : {}),
    answer,
    async answerMany(inputs, o = {}) {
      const queue = new PQueue({ concurrency: o.concurrency ?? config.concurrency });
      return Promise.all(inputs.map((input) => queue.add(() => answer(input)) as Promise<AnswerResult>));
    },
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
