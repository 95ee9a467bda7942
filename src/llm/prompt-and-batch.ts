/** Library entry points behind `okvqa llm …`: one cached completion, and the Batch API workflow. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { closeRunContext, createRunContext } from '../run-context.js';
import { Cache } from '../core/cache.js';
import { cachePath, type Config } from '../core/config.js';
import type { StageContext, Usage } from '../core/context.js';
import { collectBatches, pollBatches, readState, requeueUnsuccessful, submitBatches, waitAndCollect, type BatchRecord, type CollectResult } from './batch.js';
import { createOpenAISdk } from './openai.js';
import { scoreTokens } from './pica.js';
import { batchDir, completeCached, type CompletionOptions } from './service.js';
import type { LlmRequest, LlmResponse } from './types.js';

export interface CompletionReport {
  request: LlmRequest;
  response: LlmResponse;
  cached: boolean;
  /** PICa score: summed token log-probabilities up to the newline (null without logprobs). */
  logprob: number | null;
  usage: Usage;
}

/** One completion through the configured backend and the cache (the same path the pipeline stages use). */
export async function completePrompt(config: Config, o: CompletionOptions): Promise<CompletionReport> {
  const ctx = createRunContext({ config });
  const usage: Usage = { calls: 0, cachedCalls: 0, promptTokens: 0, completionTokens: 0 };
  const stageCtx: StageContext = {
    ...ctx,
    questionId: 'cli',
    node: 'llm',
    note: () => {},
    usage: (u) => {
      for (const k of Object.keys(u) as (keyof Usage)[]) usage[k] = (usage[k] ?? 0) + (u[k] ?? 0);
    },
  };
  try {
    const { request, response, cached } = await completeCached(stageCtx, o);
    return { request, response, cached, logprob: scoreTokens(response.tokens), usage };
  } finally {
    await closeRunContext(ctx);
  }
}

function sdkFor(config: Config) {
  const o: Parameters<typeof createOpenAISdk>[0] = { timeoutMs: config.llm.timeoutMs, maxRetries: config.llm.maxRetries };
  if (config.llm.baseURL) o.baseURL = config.llm.baseURL;
  if (config.llm.apiKey) o.apiKey = config.llm.apiKey;
  return createOpenAISdk(o);
}

/** Where `backend: batch` runs queue their requests for this config (beside the cache file). */
export function batchFolder(config: Config): string {
  return batchDir(config, { path: cachePath(config) });
}

/** Nothing to talk to the Batch API about: no queued requests and no batch submitted (so no API key is needed). */
function nothingQueued(dir: string): boolean {
  return !existsSync(join(dir, 'pending.jsonl')) && readState(dir).batches.length === 0;
}

/**
 * Submit what is queued. First the state of earlier batches is refreshed and finished ones collected, so the requests
 * of failed, expired or cancelled batches that got no answer are queued again and go out with this submit.
 */
export async function batchSubmit(
  config: Config,
): Promise<{ dir: string; created: BatchRecord[]; requeued: BatchRecord[]; unsuccessful: CollectResult['unsuccessful'] }> {
  const dir = batchFolder(config);
  if (nothingQueued(dir)) return { dir, created: [], requeued: [], unsuccessful: [] };
  const sdk = sdkFor(config);
  let requeued: BatchRecord[] = [];
  let unsuccessful: CollectResult['unsuccessful'] = [];
  if (readState(dir).batches.some((b) => !b.requeuedAt && !(b.ingested && b.status === 'completed'))) {
    await pollBatches(sdk, dir);
    const cache = new Cache(cachePath(config), 'rw');
    try {
      unsuccessful = (await collectBatches(sdk, dir, cache)).unsuccessful;
      requeued = requeueUnsuccessful(dir, (key) => cache.get(key) !== undefined);
    } finally {
      cache.close();
    }
  }
  return { dir, created: await submitBatches(sdk, dir), requeued, unsuccessful };
}

export async function batchStatus(config: Config, refresh = true): Promise<{ dir: string; batches: BatchRecord[] }> {
  const dir = batchFolder(config);
  if (nothingQueued(dir)) return { dir, batches: [] };
  return { dir, batches: refresh ? await pollBatches(sdkFor(config), dir) : readState(dir).batches };
}

export async function batchCollect(
  config: Config,
  opts: { wait?: boolean; intervalMs?: number; timeoutMs?: number; onPoll?: (b: BatchRecord[]) => void } = {},
): Promise<CollectResult & { dir: string; done?: boolean }> {
  const dir = batchFolder(config);
  const sdk = sdkFor(config);
  const cache = new Cache(cachePath(config), 'rw');
  try {
    if (opts.wait) return { dir, ...(await waitAndCollect(sdk, dir, cache, opts)) };
    await pollBatches(sdk, dir);
    return { dir, ...(await collectBatches(sdk, dir, cache)) };
  } finally {
    cache.close();
  }
}
