import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ensureDir } from './ensure-dir.js';
import { join } from 'node:path';
import PQueue from 'p-queue';
import type { DatasetName, Prediction, Sample } from './artifacts.js';
import type { Config } from './config.js';
import type { RunContext, Usage } from './context.js';
import type { CompiledPipeline } from './graph.js';
import { errorMessage, InputError } from './errors.js';
import { describeRunDifference, runIdentityParts, type RunIdentityParts } from './run-diff.js';
import { hashValue } from './hash.js';
import { PipelineExecutor, type SampleResult } from './runner.js';
import { TraceFile } from './trace-file.js';

/**
 * How a run's answers become the leaderboard file and a score. The engine knows no metric: the caller passes one in
 * (`officialEvaluator` in src/eval/run-evaluator.ts; `runPipeline` in src/answerer.ts does so by default).
 */
export interface BatchEvaluator<S extends object = object> {
  /** The content of predictions.json for the answered questions, in sample order. */
  format(dataset: DatasetName, answered: readonly Sample[], preds: ReadonlyMap<string, Prediction>): unknown;
  /** Score `predictions` (what `format` returned) against the annotation file, counting only the `only` question ids. */
  score(annotationsPath: string, predictions: unknown, opts: { dataset: DatasetName; only: ReadonlySet<string> }): S;
}

export interface BatchOptions<S extends object = object> {
  pipeline: CompiledPipeline;
  evaluator: BatchEvaluator<S>;
  samples: readonly Sample[];
  ctx: RunContext;
  outDir: string;
  concurrency?: number;
  /** Continue an interrupted run in outDir: finished questions are kept, failed ones retried. */
  resume?: boolean;
  /** Extra facts for manifest.json (package version, git commit, model ids…). Never secrets. */
  manifest?: Record<string, unknown>;
  onResult?: (result: SampleResult, progress: { done: number; total: number; failed: number }) => void;
  /**
   * Who answers the questions: by default this process (p-queue over a `PipelineExecutor`); a distributed run passes
   * the coordinator's dispatcher (src/distributed/coordinator.ts), which hands them to workers and records their results.
   */
  dispatch?: (job: DispatchJob) => Promise<void>;
}

/** What a dispatcher is given: the questions still to answer, and how to record each result (once per question). */
export interface DispatchJob {
  todo: readonly Sample[];
  outDir: string;
  resume: boolean;
  identity: string;
  identityParts: RunIdentityParts;
  signal: AbortSignal;
  /** Record a finished question (trace, progress); throws when the trace cannot be written. */
  record(result: SampleResult): void;
}

export interface BatchSummary<S extends object = object> {
  outDir: string;
  total: number;
  /** Questions answered in this invocation. */
  ran: number;
  /** Questions taken from an earlier interrupted run. */
  resumed: number;
  ok: number;
  failed: number;
  interrupted: boolean;
  metrics?: S & { failed: number; partial: boolean };
  failures: { questionId: string; node: string; stage: string; message: string }[];
  usage: Usage;
}

function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

/**
 * The part of the config that can change results: scheduling (concurrency, rate limits, timeouts, retries), secrets and
 * cache location are left out, so `--resume` accepts a rotated API key or a different concurrency.
 */
export function resultConfig(config: Config): unknown {
  const { cache: _cache, concurrency: _c, llm, models, ...rest } = config;
  const { apiKey: _k, concurrency: _lc, requestsPerMinute: _r, tokensPerMinute: _t, timeoutMs: _to, maxRetries: _m, ...llmRest } = llm;
  const { cacheDir: _cd, ...modelsRest } = models;
  return { ...rest, llm: llmRest, models: modelsRest };
}

/** Identifies what a run computes, so `--resume` refuses to mix two different runs in one folder. */
export function runIdentity(pipeline: CompiledPipeline, samples: readonly Sample[], config: unknown): string {
  return hashValue({
    nodes: pipeline.nodes.map((n) => ({ name: n.name, stage: n.stage.id, version: n.stage.version, params: n.params, bindings: n.bindings })),
    output: pipeline.output,
    config,
    questions: samples.map((s) => s.questionId),
  });
}

/** Answer `todo` in this process: bounded concurrency (p-queue), each result recorded as it finishes. */
async function runHere(pipeline: CompiledPipeline, ctx: RunContext, todo: readonly Sample[], concurrency: number, record: (r: SampleResult) => void): Promise<void> {
  const executor = new PipelineExecutor(pipeline, ctx);
  const queue = new PQueue({ concurrency });
  let fatal: Error | undefined;
  let lastYield = performance.now();
  const onAbort = () => queue.clear();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (const sample of todo) {
      void queue.add(async () => {
        // Give the event loop a turn every few milliseconds: with cached or CPU-only stages a batch would otherwise run
        // as one chain of microtasks, and Ctrl-C, timers and the progress bar would wait until the very end.
        if (performance.now() - lastYield > 10) {
          await new Promise((r) => setImmediate(r));
          lastYield = performance.now();
        }
        if (ctx.signal.aborted) return;
        const result = await answerOne(executor, sample);
        if (ctx.signal.aborted && !result.ok) return; // cut short by the interrupt: leave it for --resume
        if (fatal) return;
        try {
          record(result);
        } catch (err) {
          fatal ??= err as Error;
          queue.clear();
        }
      });
    }
    await queue.onIdle();
    if (fatal) throw fatal;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await executor.dispose();
  }
}

/** Answer one question; the executor records stage errors itself, this catches the unexpected so one question never ends a batch. */
export async function answerOne(executor: PipelineExecutor, sample: Sample): Promise<SampleResult> {
  try {
    return await executor.run(sample);
  } catch (err) {
    return { questionId: sample.questionId, ok: false, nodes: {}, usage: { calls: 0, cachedCalls: 0, promptTokens: 0, completionTokens: 0 }, ms: 0, error: { node: '', stage: '', message: `question ${sample.questionId}: ${errorMessage(err)}` } };
  }
}

/**
 * Run a pipeline over many questions: bounded concurrency (p-queue), results streamed to trace.jsonl as they finish,
 * a failing question recorded with its error while the batch goes on, resumable. Writes predictions.json (leaderboard
 * format), metrics.json (when answers are known) and manifest.json.
 */
export async function runBatch<S extends object>(opts: BatchOptions<S>): Promise<BatchSummary<S>> {
  const { pipeline, samples, ctx, outDir } = opts;
  ensureDir(outDir, 'output folder');
  const tracePath = join(outDir, 'trace.jsonl');
  const manifestPath = join(outDir, 'manifest.json');
  const identity = runIdentity(pipeline, samples, resultConfig(ctx.config));
  const identityParts = runIdentityParts(pipeline, samples, resultConfig(ctx.config));

  let previous = new Map<string, SampleResult>();
  if (existsSync(tracePath)) {
    if (!opts.resume) throw new InputError(`already holds a run (trace.jsonl); use --resume to continue it or choose another --out`, outDir);
    if (existsSync(manifestPath)) {
      let old: { runIdentity?: string; runIdentityParts?: RunIdentityParts };
      try {
        old = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof old;
      } catch (err) {
        throw new InputError(`cannot resume: manifest.json is not valid JSON (${errorMessage(err)})`, outDir);
      }
      if (old.runIdentity && old.runIdentity !== identity) {
        const diff = old.runIdentityParts ? describeRunDifference(old.runIdentityParts, identityParts) : [];
        throw new InputError(
          `holds a run of a different pipeline, config or question set; --resume would mix them. Use another --out.` +
            (diff.length ? ` What differs:\n  ${diff.join('\n  ')}` : ' (the folder\'s manifest does not record the details)'),
          outDir,
        );
      }
    }
    previous = TraceFile.readForResume(tracePath).done;
  }

  const startedAt = new Date().toISOString();
  const manifest: Record<string, unknown> = {
    pipeline: { name: pipeline.name, file: pipeline.file, files: pipeline.spec.files, output: pipeline.output },
    nodes: pipeline.nodes.map((n) => ({ name: n.name, stage: n.stage.id, version: n.stage.version, params: n.params, inputs: n.bindings })),
    ...opts.manifest,
    runIdentity: identity,
    runIdentityParts: identityParts,
    questions: samples.length,
    startedAt,
    status: 'running',
  };
  writeJsonAtomic(manifestPath, manifest);

  const trace = new TraceFile(tracePath);
  const results = new Map<string, SampleResult>(previous);
  const todo = samples.filter((s) => !previous.has(s.questionId));
  const usage: Usage = { calls: 0, cachedCalls: 0, promptTokens: 0, completionTokens: 0 };
  let failed = 0;
  let ran = 0;
  const record = (result: SampleResult) => {
    try {
      trace.append(result);
    } catch (err) {
      // Results that cannot be recorded must not be lost silently: stop the batch (finished ones stay resumable).
      throw new Error(`cannot write ${tracePath}: ${errorMessage(err)}`);
    }
    results.set(result.questionId, result);
    ran++;
    if (!result.ok) failed++;
    for (const k of Object.keys(result.usage) as (keyof Usage)[]) usage[k] = (usage[k] ?? 0) + (result.usage[k] ?? 0);
    opts.onResult?.(result, { done: results.size, total: samples.length, failed });
  };
  try {
    if (opts.dispatch) await opts.dispatch({ todo, outDir, resume: !!opts.resume, identity, identityParts, signal: ctx.signal, record });
    else await runHere(pipeline, ctx, todo, opts.concurrency ?? ctx.config.concurrency, record);
  } finally {
    trace.close();
  }

  const interrupted = results.size < samples.length;
  const preds = new Map<string, Prediction>();
  const failures: BatchSummary<S>['failures'] = [];
  let failedTotal = 0;
  for (const s of samples) {
    const r = results.get(s.questionId);
    if (!r) continue;
    if (r.ok && r.prediction) preds.set(s.questionId, r.prediction);
    else {
      failedTotal++;
      // A failed question still gets a (wrong) entry so the file stays a valid leaderboard submission.
      preds.set(s.questionId, { answer: '' });
      if (r.error) failures.push({ questionId: s.questionId, ...r.error });
    }
  }
  const answered = samples.filter((s) => preds.has(s.questionId));
  const dataset = samples[0]?.dataset ?? ctx.data.dataset ?? 'okvqa';
  const predictions = opts.evaluator.format(dataset, answered, preds);
  writeJsonAtomic(join(outDir, 'predictions.json'), predictions);

  let metrics: BatchSummary<S>['metrics'];
  const annotations = dataset === 'aokvqa' ? ctx.data.questions : ctx.data.annotations;
  const hasAnswers = answered.length > 0 && answered.every((s) => s.answers !== undefined);
  if (annotations && hasAnswers) {
    const score = opts.evaluator.score(annotations, predictions, { dataset, only: new Set(answered.map((s) => s.questionId)) });
    metrics = { ...score, failed: failedTotal, partial: interrupted };
    writeJsonAtomic(join(outDir, 'metrics.json'), metrics);
  }

  writeJsonAtomic(manifestPath, {
    ...manifest,
    endedAt: new Date().toISOString(),
    status: interrupted ? 'interrupted' : 'complete',
    answered: results.size,
    failed: failedTotal,
    resumed: previous.size,
    usage,
    cache: { path: ctx.cache.path, mode: ctx.cache.mode, ...ctx.cache.stats },
  });

  const summary: BatchSummary<S> = {
    outDir,
    total: samples.length,
    ran,
    resumed: previous.size,
    ok: results.size - failedTotal,
    failed: failedTotal,
    interrupted,
    failures,
    usage,
  };
  if (metrics) summary.metrics = metrics;
  return summary;
}
