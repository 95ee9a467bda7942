import type { Cache } from '../core/cache.js';
import type { Config } from '../core/config.js';
import type { RunContext, StageContext } from '../core/context.js';
import { CacheMissError } from '../core/errors.js';
import { hashValue } from '../core/hash.js';
import { DEFAULT_LOCAL_MODEL, modelFingerprint, sourceFor } from '../models/hub.js';
import { BatchCollector } from './batch.js';
import { estimateTokens, Gate } from './gate.js';
import { LocalClient } from './local.js';
import { OpenAIClient } from './openai.js';
import { requestKey } from './request-key.js';
import type { LlmClient, LlmRequest, LlmResponse } from './types.js';

/** Completions model used with an OpenAI-compatible server when `llm.model` is unset (PICa used GPT-3 davinci). */
export const DEFAULT_OPENAI_MODEL = 'davinci-002';
/** Embedded backend's model when nothing is configured: a small instruct model with ONNX weights for transformers.js. */
export { DEFAULT_LOCAL_MODEL };
/** Generated tiny text-generation model used by the embedded backend in profile `tiny`. */
export const TINY_LLM_ID = 'okvqa-tiny-llm/gpt2';

export { requestKey };

export type LlmBackend = 'openai' | 'local' | 'batch';

/** Which backend and model a config selects, decided without constructing a client (no key needed). */
export interface LlmIdentity {
  backend: LlmBackend;
  model: string;
  chat: boolean;
}

export function resolveLlmIdentity(config: Config): LlmIdentity {
  const l = config.llm;
  const backend: LlmBackend = l.backend === 'auto' ? (l.baseURL || l.apiKey ? 'openai' : 'local') : l.backend;
  if (l.backend === 'auto' && backend === 'local' && l.model && !l.model.includes('/') && config.models.profile !== 'tiny') {
    // "gpt-4o-mini" with no server configured: say so rather than looking for it on the model hub.
    throw new Error(
      `llm.model "${l.model}" looks like an API model but no server is configured: set OPENAI_BASE_URL / OPENAI_API_KEY ` +
        '(llm.baseURL / llm.apiKey), or name a hub model ("org/name") or a local folder for the embedded backend',
    );
  }
  if (backend === 'local') {
    // Profile tiny: the generated model (llm.model usually names an API model, which has no tiny stand-in).
    const model =
      config.models.profile === 'tiny'
        ? config.models.ids['text-generation'] ?? TINY_LLM_ID
        : l.model ?? config.models.ids['text-generation'] ?? DEFAULT_LOCAL_MODEL;
    return { backend, model, chat: l.chat };
  }
  return { backend, model: l.model ?? DEFAULT_OPENAI_MODEL, chat: l.chat };
}

/** What identifies the LLM in stage fingerprints: the model and the API flavour (the backend does not matter). */
export function llmFingerprint(ctx: Pick<RunContext, 'config' | 'paths'>): string {
  const id = resolveLlmIdentity(ctx.config);
  // The local model as resolved (profile tiny maps hub ids to the generated model).
  if (id.backend !== 'local') return `model=${id.model};chat=${id.chat}`;
  const source = sourceFor(ctx, 'text-generation', id.model);
  return `model=${source.id};files=${modelFingerprint(source)};chat=${id.chat}`;
}

/** A run-scoped LLM: the backend client behind the rate/concurrency gate. */
export interface Llm {
  readonly identity: LlmIdentity;
  readonly client: LlmClient;
  readonly gate: Gate;
}

export function createLlm(ctx: Pick<RunContext, 'config' | 'paths' | 'resources' | 'cache'>): Llm {
  const { config } = ctx;
  const identity = resolveLlmIdentity(config);
  const l = config.llm;
  let client: LlmClient;
  let concurrency = l.concurrency;
  if (identity.backend === 'local') {
    const local = new LocalClient(ctx, identity.model);
    client = local;
    concurrency = 1; // one ONNX session: requests run one after another
    identity.model = local.defaultModel;
  } else if (identity.backend === 'batch') {
    client = new BatchCollector(batchDir(config, ctx.cache), identity.model);
  } else {
    const o: ConstructorParameters<typeof OpenAIClient>[0] = { model: identity.model, timeoutMs: l.timeoutMs, maxRetries: l.maxRetries };
    if (l.baseURL) o.baseURL = l.baseURL;
    if (l.apiKey) o.apiKey = l.apiKey;
    client = new OpenAIClient(o);
  }
  const gateOpts: ConstructorParameters<typeof Gate>[0] = { concurrency };
  if (l.requestsPerMinute) gateOpts.requestsPerMinute = l.requestsPerMinute;
  if (l.tokensPerMinute) gateOpts.tokensPerMinute = l.tokensPerMinute;
  return { identity, client, gate: new Gate(gateOpts) };
}

/** Folder for OpenAI Batch API state (pending requests, submitted batches): beside the cache file. */
export function batchDir(config: Config, cache: Pick<Cache, 'path'>): string {
  const base = cache.path === ':memory:' ? process.cwd() : cache.path.replace(/[^/\\]*$/, '');
  return `${base}llm-batches`;
}

/** The run's LLM, created once (lazily, on the first uncached call) and shared by every node. */
export function getLlm(ctx: Pick<RunContext, 'config' | 'paths' | 'resources' | 'cache'>): Promise<Llm> {
  const key = `llm:${hashValue({ llm: ctx.config.llm, models: ctx.config.models })}`;
  return ctx.resources.get(key, () => createLlm(ctx), (llm) => llm.client.close?.());
}

export interface CompletionOptions {
  prompt: string;
  maxTokens: number;
  temperature: number;
  logprobs: boolean;
  stop?: string[];
}

/** The full request for a prompt under the config: completions, or one user message with `llm.chat`. */
export function buildRequest(identity: LlmIdentity, o: CompletionOptions): LlmRequest {
  const r: LlmRequest = identity.chat
    ? { model: identity.model, messages: [{ role: 'user', content: o.prompt }], maxTokens: o.maxTokens, temperature: o.temperature, logprobs: o.logprobs }
    : { model: identity.model, prompt: o.prompt, maxTokens: o.maxTokens, temperature: o.temperature, logprobs: o.logprobs };
  if (o.stop?.length) r.stop = [...o.stop];
  return r;
}

export function requestLabel(request: LlmRequest): string {
  return `llm ${request.model}`;
}

export interface CompletionResult {
  response: LlmResponse;
  cached: boolean;
}

/**
 * One cached LLM call for a stage: cache hit → no request; miss → through the gate to the backend, then stored.
 * Replay mode fails on a miss (CacheMissError). Usage is added to the question's accounting.
 */
export async function completeCached(ctx: StageContext, o: CompletionOptions): Promise<CompletionResult & { request: LlmRequest }> {
  const identity = resolveLlmIdentity(ctx.config);
  let modelFiles: string | undefined;
  if (identity.backend === 'local') {
    const source = sourceFor(ctx, 'text-generation', identity.model);
    identity.model = source.id;
    modelFiles = modelFingerprint(source);
  }
  const req = buildRequest(identity, o);
  return completeRequestCached(ctx, req, { estimate: estimateTokens(o.prompt, o.maxTokens), ...(modelFiles !== undefined ? { modelFiles } : {}) });
}

/**
 * The cached call behind `completeCached` for a request built by the caller (vision-language requests, src/llm/vlm.ts).
 * `config` selects the backend (default: the run's; the VLM passes its own llm section), `estimate` is the request's
 * token estimate for the rate gate, `modelFiles` the identity of an embedded model's files.
 */
export async function completeRequestCached(
  ctx: StageContext,
  req: LlmRequest,
  o: { estimate: number; modelFiles?: string; config?: Config },
): Promise<CompletionResult & { request: LlmRequest }> {
  const llmCtx = o.config ? { ...ctx, config: o.config } : ctx;
  const attempt = async () => {
    let ranHere = false;
    try {
      return await ctx.cache.getOrCompute(requestKey(req, o.modelFiles), requestLabel(req), async () => {
        ranHere = true;
        const llm = await getLlm(llmCtx);
        try {
          return await llm.gate.run(o.estimate, () => llm.client.complete(req, ctx.signal), ctx.signal);
        } catch (err) {
          throw describeLlmError(err, llm.client.backend, req.model);
        }
      });
    } catch (err) {
      // An identical request in flight for another question failed or was cancelled with that question: ask on our own.
      if (!ranHere && !ctx.signal.aborted && !(err instanceof CacheMissError)) return null;
      throw err;
    }
  };
  const result = (await attempt()) ?? (await attempt());
  if (!result) throw new Error(`${requestLabel(req)}: the identical request shared with other questions kept failing`);
  const { value, hit, shared } = result;
  // A request joined while another question had it in flight made no call of its own: counted like a cache hit, so
  // the run's totals count each request once.
  ctx.usage(
    hit || shared
      ? { cachedCalls: 1 }
      : {
          calls: 1,
          promptTokens: value.usage.promptTokens,
          completionTokens: value.usage.completionTokens,
          ...(value.usage.imageTokens !== undefined ? { imageTokens: value.usage.imageTokens } : {}),
        },
  );
  return { response: value, cached: hit, request: req };
}

export function describeLlmError(err: unknown, backend: string, model: string): Error {
  if (err instanceof Error && (err.name === 'BatchPendingError' || err.name === 'CacheMissError')) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const status = (err as { status?: number } | null)?.status;
  return new Error(`LLM ${backend} request to model ${model} failed${status ? ` (HTTP ${status})` : ''}: ${msg}`, { cause: err });
}

/**
 * Run `fn` for every item concurrently with a signal that aborts the others as soon as one fails, so a failed
 * question does not keep spending requests that are still queued.
 */
export async function allOrAbort<T, R>(ctx: StageContext, items: readonly T[], fn: (item: T, ctx: StageContext) => Promise<R>): Promise<R[]> {
  const ac = new AbortController();
  const onAbort = () => ac.abort(ctx.signal.reason);
  if (ctx.signal.aborted) ac.abort(ctx.signal.reason);
  else ctx.signal.addEventListener('abort', onAbort, { once: true });
  const sub: StageContext = { ...ctx, signal: ac.signal };
  try {
    return await Promise.all(
      items.map((it) =>
        fn(it, sub).catch((err: unknown) => {
          ac.abort(err);
          throw err;
        }),
      ),
    );
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}
