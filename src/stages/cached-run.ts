/**
 * Run another stage from inside a stage, cached under the very key the runner would give a node of that stage with the
 * same params and inputs (so the result is shared with such nodes, replays, and is exported in replay bundles). The
 * calling stage stays uncached (`cache: false`), so what it notes — e.g. that it fell back to a model — reaches the trace
 * on every run, cache hit or not; `modelCached` in its notes says whether the inner stage's output came from the cache.
 */
import type { Sample } from '../core/artifacts.js';
import { Cache } from '../core/cache.js';
import type { StageContext } from '../core/context.js';
import { hashValue } from '../core/hash.js';
import type { AnyStage } from '../core/stage.js';

export async function runStageCached<T>(stage: AnyStage, inputs: Record<string, unknown>, params: unknown, ctx: StageContext): Promise<T> {
  const inputHashes: Record<string, string> = {};
  for (const [k, v] of Object.entries(inputs)) {
    if (v === undefined) continue;
    inputHashes[k] = hashValue(stage.inputs[k]?.kind === 'sample' ? { ...(v as Sample), imagePath: undefined } : v);
  }
  const fingerprint = stage.fingerprint ? await stage.fingerprint(params as never, ctx) : '';
  const key = Cache.key({ stage: stage.id, version: stage.version, params, fingerprint, inputs: inputHashes });
  const label = `${stage.id} (node ${ctx.node}, question ${ctx.questionId})`;
  const r = await ctx.cache.getOrCompute(key, label, () => stage.run(inputs as never, params as never, ctx) as Promise<T>);
  ctx.note('modelCached', r.hit);
  return r.value;
}
