import type OpenAI from 'openai';
import { openaiSdk } from '../runtime/lazy.js';
import { fromOpenAIBody, toOpenAIBody } from './openai-wire.js';
import type { LlmClient, LlmRequest, LlmResponse } from './types.js';

export interface OpenAIClientOptions {
  baseURL?: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
  maxRetries: number;
}

/** Build the SDK client. The SDK's retries are the only retry layer: 408/409/429 (Retry-After honoured)/5xx and timeouts. */
export function createOpenAISdk(opts: Omit<OpenAIClientOptions, 'model'>): OpenAI {
  const apiKey = opts.apiKey ?? (opts.baseURL ? 'not-needed' : undefined);
  if (!apiKey) {
    throw new Error('llm: no API key — set OPENAI_API_KEY (or llm.apiKey), or point OPENAI_BASE_URL / llm.baseURL at a local server');
  }
  return new (openaiSdk().OpenAI)({
    apiKey,
    ...(opts.baseURL ? { baseURL: opts.baseURL } : {}),
    timeout: opts.timeoutMs,
    maxRetries: opts.maxRetries,
  });
}

/** Any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp server, LM Studio): completions and chat completions. */
export class OpenAIClient implements LlmClient {
  readonly backend = 'openai';
  readonly defaultModel: string;
  readonly sdk: OpenAI;

  constructor(opts: OpenAIClientOptions) {
    this.defaultModel = opts.model;
    this.sdk = createOpenAISdk(opts);
  }

  async complete(request: LlmRequest, signal?: AbortSignal): Promise<LlmResponse> {
    const { url, body } = toOpenAIBody(request);
    const chat = url === '/v1/chat/completions';
    const options = signal ? { signal } : {};
    const json: unknown = chat
      ? await this.sdk.chat.completions.create(body as any, options)
      : await this.sdk.completions.create(body as any, options);
    return fromOpenAIBody(json, chat, request.model);
  }
}
