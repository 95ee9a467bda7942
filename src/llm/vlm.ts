/**
 * Vision-language models (docs/vlm.md): an image and a text prompt in one chat message, sent to an OpenAI-compatible
 * server (OpenAI, vLLM, Ollama, LM Studio, llama.cpp) or queued for the Batch API, through the same cache, rate gate and
 * usage accounting as text completions (service.ts). VLMs are API-served: the embedded transformers.js backend takes
 * text only.
 *
 * Which server and model: the `vlm` config section over the `llm` one (`vlm.baseURL` / `vlm.apiKey` / `vlm.model`
 * default to the llm's), so a run can read candidates from a VLM on one server and complete prompts with an LLM on
 * another. Chat completions always (images exist only there).
 */
import type { Config } from '../core/config.js';
import type { RunContext, StageContext } from '../core/context.js';
import { errorMessage } from '../core/errors.js';
import { encodedImageFor, encodeImage, imagePart, type EncodedImage } from './image-part.js';
import { OpenAIClient } from './openai.js';
import { completeRequestCached, describeLlmError, type CompletionResult } from './service.js';
import type { ChatContentPart, LlmRequest } from './types.js';

/** Model asked when neither vlm.model nor llm.model is set. */
export const DEFAULT_VLM_MODEL = 'gpt-4o-mini';

/**
 * The llm config section the VLM's client runs under: the vlm overrides applied, chat on. Throws when no server is
 * configured (a VLM is never embedded).
 */
export function vlmLlmConfig(config: Config): Config {
  const l = config.llm;
  const v = config.vlm;
  const baseURL = v.baseURL ?? l.baseURL;
  const apiKey = v.apiKey ?? l.apiKey;
  // The Batch API when the run queues for it, else a live server (llm.backend local runs only the text LLM embedded).
  const backend = l.backend === 'batch' ? 'batch' : 'openai';
  // A replay answers from the cache alone (a miss is an error naming the call): no server needed then.
  if (!baseURL && !apiKey && config.cache.mode !== 'replay') {
    throw new Error(
      'vision-language stages need an OpenAI-compatible server (VLMs are API-served, never embedded): set vlm.baseURL or ' +
        'OPENAI_BASE_URL (vLLM, Ollama, LM Studio, llama.cpp), or OPENAI_API_KEY for OpenAI, and vlm.model / OKVQA_VLM_MODEL',
    );
  }
  const llm: Config['llm'] = { ...l, backend, chat: true, model: v.model ?? l.model ?? DEFAULT_VLM_MODEL };
  if (baseURL) llm.baseURL = baseURL;
  if (apiKey) llm.apiKey = apiKey;
  return { ...config, llm };
}

/**
 * What identifies the VLM's output in a stage fingerprint: the model and the image settings. Replay needs no server,
 * so no server is required here (the request itself, with the image bytes, is the LLM cache key anyway).
 */
export function vlmFingerprint(ctx: Pick<RunContext, 'config'>): string {
  const v = ctx.config.vlm;
  const model = v.model ?? ctx.config.llm.model ?? DEFAULT_VLM_MODEL;
  return `vlm=${model};maxSide=${v.maxSide};q=${v.jpegQuality};detail=${v.detail}`;
}

export interface VlmCallOptions {
  /** Image path of the question (a file or `memory:<sha256>`). */
  imagePath: string;
  /** The text part, after the image. */
  text: string;
  maxTokens: number;
  temperature: number;
  logprobs: boolean;
  stop?: string[];
}

/** The request for an image and a prompt: one user message, the image part first, then the text. */
export function buildVlmRequest(model: string, image: Pick<EncodedImage, 'jpeg'>, o: Omit<VlmCallOptions, 'imagePath'>, detail: Config['vlm']['detail']): LlmRequest {
  const content: ChatContentPart[] = [imagePart(image, detail), { type: 'text', text: o.text }];
  const r: LlmRequest = { model, messages: [{ role: 'user', content }], maxTokens: o.maxTokens, temperature: o.temperature, logprobs: o.logprobs };
  if (o.stop?.length) r.stop = [...o.stop];
  return r;
}

/** What a trace records about the image sent (never its bytes). */
export interface SentImage {
  width: number;
  height: number;
  bytes: number;
  sha256: string;
}

/** One cached VLM call: the question's image (resized, JPEG) and a prompt. Same cache, gate and usage as text calls. */
export async function completeVlmCached(ctx: StageContext, o: VlmCallOptions): Promise<CompletionResult & { request: LlmRequest; image: SentImage }> {
  const config = vlmLlmConfig(ctx.config);
  const v = ctx.config.vlm;
  const img = await encodedImageFor(ctx, o.imagePath, { maxSide: v.maxSide, quality: v.jpegQuality });
  const req = buildVlmRequest(config.llm.model!, img, o, v.detail);
  // Rate gate estimate: the text at ~4 characters a token, an image at OpenAI's high-detail cost (765 tokens for 768 px).
  const estimate = Math.ceil(o.text.length / 4) + 765 + o.maxTokens;
  const r = await completeRequestCached(ctx, req, { estimate, config });
  return { ...r, image: { width: img.width, height: img.height, bytes: img.jpeg.length, sha256: img.sha256 } };
}

/** The result of the pre-flight image probe: undefined = the server took an image. */
export interface ProbeFailure {
  status?: number;
  message: string;
}

/** A 16×16 grey JPEG: the smallest useful image to ask a server whether it takes image input at all. */
async function probeImage(): Promise<EncodedImage> {
  const sharp = (await import('sharp')).default;
  const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).png().toBuffer();
  return encodeImage(png, 'probe', { maxSide: 16, quality: 80 });
}

/**
 * Ask the VLM server once, with a tiny image and max_tokens 1, whether it takes image input (not cached: it checks the
 * server as it is now). Done once per run (`ctx.resources`), shared by every VLM node's pre-flight check. A server that
 * answers 4xx (e.g. 400 "image input not supported", 404 unknown model) fails; network errors and 5xx fail too.
 */
export function probeVlm(ctx: Pick<RunContext, 'config' | 'resources'>): Promise<ProbeFailure | undefined> {
  const config = vlmLlmConfig(ctx.config);
  const l = config.llm;
  return ctx.resources.get(`vlm:probe:${l.baseURL ?? ''}:${l.model}`, async () => {
    // The live client even for the Batch API backend (whose own client only queues): the same key answers both.
    const o: ConstructorParameters<typeof OpenAIClient>[0] = { model: l.model!, timeoutMs: l.timeoutMs, maxRetries: l.maxRetries };
    if (l.baseURL) o.baseURL = l.baseURL;
    if (l.apiKey) o.apiKey = l.apiKey;
    const req = buildVlmRequest(l.model!, await probeImage(), { text: 'Reply with one word: what colour is this image?', maxTokens: 1, temperature: 0, logprobs: false }, config.vlm.detail === 'omit' ? 'omit' : 'low');
    try {
      await new OpenAIClient(o).complete(req);
      return undefined;
    } catch (err) {
      const status = (err as { status?: number } | null)?.status;
      return { ...(status ? { status } : {}), message: errorMessage(describeLlmError(err, 'openai', req.model)) };
    }
  });
}
