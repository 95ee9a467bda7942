import type { LlmRequest, LlmResponse, LlmUsage, TokenLogprob } from './types.js';
import { MalformedResponseError } from './types.js';

/** The endpoint and JSON body of a request in OpenAI's wire format (shared by the live client and the Batch API). */
export function toOpenAIBody(request: LlmRequest): { url: '/v1/completions' | '/v1/chat/completions'; body: Record<string, unknown> } {
  const common: Record<string, unknown> = {
    model: request.model,
    max_tokens: request.maxTokens,
    temperature: request.temperature,
  };
  if (request.stop?.length) common.stop = request.stop;
  if (request.topP !== undefined) common.top_p = request.topP;
  if (request.messages) {
    if (request.prompt !== undefined) throw new Error('an LLM request has either prompt or messages, not both');
    const body: Record<string, unknown> = { ...common, messages: request.messages };
    if (request.logprobs) body.logprobs = true;
    return { url: '/v1/chat/completions', body };
  }
  if (request.prompt === undefined) throw new Error('an LLM request needs a prompt or messages');
  const body: Record<string, unknown> = { ...common, prompt: request.prompt };
  // PICa: logprobs=1 returns the sampled token's log-probability (and the top-1 alternative).
  if (request.logprobs) body.logprobs = 1;
  return { url: '/v1/completions', body };
}

function fail(msg: string): never {
  throw new MalformedResponseError(`malformed LLM response: ${msg}`);
}

function isObj(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function usageOf(json: Record<string, any>): LlmUsage {
  const u = isObj(json.usage) ? json.usage : {};
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const out: LlmUsage = { promptTokens: n(u.prompt_tokens), completionTokens: n(u.completion_tokens) };
  // Image tokens: reported by some servers under prompt_tokens_details (absent: not recorded, never guessed).
  const details = isObj(u.prompt_tokens_details) ? u.prompt_tokens_details : isObj(u.input_tokens_details) ? u.input_tokens_details : undefined;
  if (details && typeof details.image_tokens === 'number' && Number.isFinite(details.image_tokens)) out.imageTokens = details.image_tokens;
  return out;
}

/**
 * Validate and convert an OpenAI completions / chat completions response body.
 * Anything off-spec (no choices, non-string text, logprobs not aligned with tokens) is a MalformedResponseError.
 */
export function fromOpenAIBody(json: unknown, chat: boolean, requestedModel: string): LlmResponse {
  if (!isObj(json)) fail('body is not a JSON object');
  if (!Array.isArray(json.choices) || json.choices.length === 0) fail('no "choices"');
  const choice = json.choices[0];
  if (!isObj(choice)) fail('choices[0] is not an object');
  const model = typeof json.model === 'string' && json.model ? json.model : requestedModel;
  const finishReason = typeof choice.finish_reason === 'string' ? choice.finish_reason : undefined;
  let text: string;
  let tokens: TokenLogprob[] | null = null;
  if (chat) {
    if (!isObj(choice.message)) fail('choices[0].message missing');
    const content = choice.message.content;
    if (typeof content !== 'string') fail('choices[0].message.content is not a string');
    text = content;
    const lp = choice.logprobs;
    if (isObj(lp) && Array.isArray(lp.content)) {
      tokens = lp.content.map((t: unknown, i: number) => {
        if (!isObj(t) || typeof t.token !== 'string' || typeof t.logprob !== 'number') fail(`logprobs.content[${i}] malformed`);
        return { token: t.token, logprob: t.logprob };
      });
    }
  } else {
    if (typeof choice.text !== 'string') fail('choices[0].text is not a string');
    text = choice.text;
    const lp = choice.logprobs;
    if (isObj(lp) && Array.isArray(lp.tokens)) {
      const toks: unknown[] = lp.tokens;
      const lps: unknown[] = Array.isArray(lp.token_logprobs) ? lp.token_logprobs : fail('logprobs.token_logprobs missing');
      if (toks.length !== lps.length) fail(`logprobs has ${toks.length} tokens but ${lps.length} token_logprobs`);
      tokens = toks.map((t, i) => {
        const l = lps[i];
        if (typeof t !== 'string' || typeof l !== 'number') fail(`logprobs entry ${i} malformed`);
        return { token: t, logprob: l };
      });
    }
  }
  const out: LlmResponse = { text, tokens, usage: usageOf(json), model };
  if (finishReason) out.finishReason = finishReason;
  return out;
}
