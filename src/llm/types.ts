/** The one interface every LLM backend implements, and the request/response shapes that are cached. */

/** One part of a multimodal chat message, in OpenAI's wire shape (sent as is). */
export type ChatContentPart =
  | { type: 'text'; text: string }
  /** An image as a `data:image/jpeg;base64,…` URL (src/llm/image-part.ts); `detail` as OpenAI's vision API takes it. */
  | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  /** Text, or text and image parts (vision-language models). */
  content: string | ChatContentPart[];
}

/**
 * A completion request. Exactly one of `prompt` (completions API) or `messages` (chat completions API) is set.
 * The whole object (minus nothing) is the cache key, so everything that changes the output belongs here.
 */
export interface LlmRequest {
  model: string;
  prompt?: string;
  messages?: ChatMessage[];
  maxTokens: number;
  temperature: number;
  /** Ask for per-token log-probabilities (top-1 = the sampled token). */
  logprobs: boolean;
  stop?: string[];
  topP?: number;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
}

export interface LlmUsage {
  promptTokens: number;
  completionTokens: number;
  /** Tokens the image parts cost, when the server reports them (`usage.prompt_tokens_details.image_tokens`). */
  imageTokens?: number;
}

export interface LlmResponse {
  text: string;
  /** Per-token log-probabilities of the completion, null when the backend gave none. */
  tokens: TokenLogprob[] | null;
  usage: LlmUsage;
  /** Model that answered, as the backend named it. */
  model: string;
  finishReason?: string;
}

export interface LlmClient {
  /** Backend name for traces and errors (openai, local, batch…). */
  readonly backend: string;
  /** Model used when a request leaves `model` empty. */
  readonly defaultModel: string;
  complete(request: LlmRequest, signal?: AbortSignal): Promise<LlmResponse>;
  close?(): Promise<void>;
}

/** The response violates the API's shape: missing choices, non-string text, logprobs of the wrong length. */
export class MalformedResponseError extends Error {
  override name = 'MalformedResponseError';
}
