import { readFile } from 'node:fs/promises';
import { MEMORY_IMAGE_PREFIX, type ArtifactTypes, type Prediction, type Sample } from './artifacts.js';
import { Cache } from './cache.js';
import type { RunContext, StageContext, Usage } from './context.js';
import { StageError, errorMessage } from './errors.js';
import { SAMPLE_NODE, type CompiledNode, type CompiledPipeline } from './graph.js';
import { hashValue, sha256 } from './hash.js';

export interface NodeTrace {
  stage: string;
  version: string;
  ms: number;
  cached: boolean;
  output?: unknown;
  notes?: Record<string, unknown>;
  /** LLM usage of this node's work (for a shared node: of the work computed once for every question sharing it). */
  usage?: Usage;
  /**
   * The node's work was identical to another question's in flight and computed once for both: output, notes and usage
   * are that work's. Shared usage is not added to this question's `usage` (the run's totals count each call once).
   */
  shared?: boolean;
  error?: string;
  skipped?: boolean;
}

export interface SampleResult {
  questionId: string;
  ok: boolean;
  prediction?: Prediction;
  error?: { node: string; stage: string; message: string };
  nodes: Record<string, NodeTrace>;
  usage: Usage;
  ms: number;
  /** Cache entries the question used (node outputs and LLM calls), for replay bundles. */
  cacheKeys?: string[];
  /** The worker that answered it, in a distributed run (`host:pid`). */
  worker?: string;
}

/** What the question that computes a node's work attaches to it for the questions that share that work. */
interface SharedWork {
  notes: Record<string, unknown>;
  usage: Usage;
}

/** What stages see of a question: never its ground truth. */
export function publicSample(s: Sample): Sample {
  const { answers: _a, correctChoiceIdx: _c, ...rest } = s;
  return rest;
}

/**
 * Runs compiled pipelines one question at a time. Independent branches run concurrently; each node's output is looked up
 * in / written to the content-addressed cache under sha256(stage, version, params, fingerprint, input hashes).
 */
export class PipelineExecutor {
  private readonly fingerprints = new Map<string, Promise<string>>();

  constructor(
    readonly pipeline: CompiledPipeline,
    readonly ctx: RunContext,
  ) {}

  private fingerprint(node: CompiledNode): Promise<string> {
    let fp = this.fingerprints.get(node.name);
    if (!fp) {
      fp = Promise.resolve(node.stage.fingerprint ? node.stage.fingerprint(node.params, this.ctx) : '');
      this.fingerprints.set(node.name, fp);
      fp.catch(() => this.fingerprints.delete(node.name));
    }
    return fp;
  }

  /**
   * The sha256 of an image file's bytes, read once per question (`memo`: the question's own map, so a file replaced
   * between questions of a long-lived answerer is read again); undefined when it cannot be read (the stage says why).
   */
  private imageContentHash(path: string, memo: Map<string, Promise<string | undefined>>): Promise<string | undefined> {
    if (path.startsWith(MEMORY_IMAGE_PREFIX)) return Promise.resolve(path.slice(MEMORY_IMAGE_PREFIX.length));
    let h = memo.get(path);
    if (!h) {
      h = readFile(path).then(
        (b) => sha256(b),
        () => undefined,
      );
      memo.set(path, h);
    }
    return h;
  }

  /** The cache key of a node for given input values. */
  async nodeKey(node: CompiledNode, inputs: Record<string, unknown>, imageHashes = new Map<string, Promise<string | undefined>>()): Promise<string> {
    const inputHashes: Record<string, string> = {};
    for (const [k, v] of Object.entries(inputs)) {
      if (v === undefined) continue;
      const spec = node.stage.inputs[k];
      if (spec?.kind !== 'sample') {
        inputHashes[k] = hashValue(v);
        continue;
      }
      // A question's image is identified by its id and, for a stage that reads its pixels, by its content — never by
      // where it lies on this machine: caches stay portable, and another file under the same id is another image.
      // A file that cannot be read is keyed as such, so it never takes another file's cached output under the same id:
      // the stage then runs and fails on that question with the read error.
      const s = v as Sample;
      const readsPixels = spec.image && s.imagePath && s.imageHash === undefined;
      const content = readsPixels ? ((await this.imageContentHash(s.imagePath!, imageHashes)) ?? 'unreadable') : undefined;
      inputHashes[k] = hashValue({ ...s, imagePath: undefined, ...(content ? { imageHash: content } : {}) });
    }
    return Cache.key({
      stage: node.stage.id,
      version: node.stage.version,
      params: node.params,
      fingerprint: await this.fingerprint(node),
      inputs: inputHashes,
    });
  }

  async run(sample: Sample): Promise<SampleResult> {
    const started = performance.now();
    const usage: Usage = { calls: 0, cachedCalls: 0, promptTokens: 0, completionTokens: 0 };
    const nodes: Record<string, NodeTrace> = {};
    const values = new Map<string, Promise<unknown>>();
    values.set(SAMPLE_NODE, Promise.resolve(publicSample(sample)));
    let firstError: SampleResult['error'];
    const cacheKeys = new Set<string>();
    const cache = this.ctx.cache.recording((k) => cacheKeys.add(k));
    const imageHashes = new Map<string, Promise<string | undefined>>();

    const runNode = async (node: CompiledNode): Promise<unknown> => {
      const inputs: Record<string, unknown> = {};
      try {
        for (const [name, srcs] of Object.entries(node.bindings)) {
          const got = await Promise.all(srcs.map((s) => values.get(s)!));
          inputs[name] = srcs.length > 1 ? got.flat() : got[0];
        }
      } catch (err) {
        nodes[node.name] = { stage: node.stage.id, version: node.stage.version, ms: 0, cached: false, skipped: true };
        throw err;
      }
      let notes: Record<string, unknown> = {};
      let nodeUsage: Usage = { calls: 0, cachedCalls: 0, promptTokens: 0, completionTokens: 0 };
      let shared = false;
      const stageCtx: StageContext = {
        ...this.ctx,
        cache,
        questionId: sample.questionId,
        node: node.name,
        note: (k, v) => {
          notes[k] = v;
        },
        usage: (u) => {
          for (const acc of [usage, nodeUsage]) {
            acc.calls += u.calls ?? 0;
            acc.cachedCalls += u.cachedCalls ?? 0;
            acc.promptTokens += u.promptTokens ?? 0;
            acc.completionTokens += u.completionTokens ?? 0;
            if (u.imageTokens !== undefined) acc.imageTokens = (acc.imageTokens ?? 0) + u.imageTokens;
          }
        },
      };
      const t0 = performance.now();
      try {
        if (this.ctx.signal.aborted) throw new Error('run aborted');
        const compute = () => node.stage.run(inputs as never, node.params, stageCtx) as Promise<unknown>;
        let output: unknown;
        let cached = false;
        if (node.stage.cache === false) output = await compute();
        else {
          const key = await this.nodeKey(node, inputs, imageHashes);
          const label = `${node.stage.id} (node ${node.name}, question ${sample.questionId})`;
          const r = await cache.getOrCompute(key, label, compute, { notes, usage: nodeUsage } satisfies SharedWork);
          output = r.value;
          cached = r.hit;
          if (r.shared && r.attached) {
            // Computed once for another question too: this question's trace gets that work's notes and usage.
            shared = true;
            const w = r.attached as SharedWork;
            notes = { ...w.notes, ...notes };
            nodeUsage = { ...w.usage };
          }
        }
        const trace: NodeTrace = { stage: node.stage.id, version: node.stage.version, ms: round(performance.now() - t0), cached, output };
        if (Object.keys(notes).length) trace.notes = notes;
        if (nodeUsage.calls || nodeUsage.cachedCalls) trace.usage = nodeUsage;
        if (shared) trace.shared = true;
        nodes[node.name] = trace;
        return output;
      } catch (err) {
        const e = err instanceof StageError ? err : new StageError(node.stage.id, node.name, sample.questionId, err);
        const trace: NodeTrace = { stage: node.stage.id, version: node.stage.version, ms: round(performance.now() - t0), cached: false, error: errorMessage(e.cause) };
        if (Object.keys(notes).length) trace.notes = notes;
        if (nodeUsage.calls || nodeUsage.cachedCalls) trace.usage = nodeUsage;
        nodes[node.name] = trace;
        firstError ??= { node: node.name, stage: node.stage.id, message: e.message };
        throw e;
      }
    };

    for (const node of this.pipeline.nodes) {
      const p = runNode(node);
      p.catch(() => undefined); // observed through dependents or the output below
      values.set(node.name, p);
    }
    let prediction: Prediction | undefined;
    try {
      prediction = (await values.get(this.pipeline.output)) as ArtifactTypes['answer'];
    } catch {
      /* recorded in firstError */
    }
    // Let every branch settle so the trace is complete.
    await Promise.allSettled(values.values());
    const result: SampleResult = { questionId: sample.questionId, ok: prediction !== undefined && !firstError, nodes, usage, ms: round(performance.now() - started) };
    if (prediction !== undefined) result.prediction = prediction;
    if (firstError) result.error = firstError;
    if (cacheKeys.size) result.cacheKeys = [...cacheKeys];
    return result;
  }

  /** Release what stages hold. */
  async dispose(): Promise<void> {
    const seen = new Set<string>();
    for (const n of this.pipeline.nodes) {
      if (seen.has(n.stage.id) || !n.stage.dispose) continue;
      seen.add(n.stage.id);
      await n.stage.dispose();
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
