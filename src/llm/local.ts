import type { LogitsProcessor, Tensor } from '@huggingface/transformers';
import type { RunContext } from '../core/context.js';
import { describeSource, loadOnce, sourceFor, type ModelSource } from '../models/hub.js';
import { transformers } from '../runtime/lazy.js';
import type { LlmClient, LlmRequest, LlmResponse, TokenLogprob } from './types.js';

type StepRecorder = LogitsProcessor & { readonly steps: { logits: Float32Array; logZ: number }[] };

/**
 * A logits processor that records, at every generation step, the log-normaliser and the logits the sampler chooses
 * from (its base class comes from transformers.js, loaded on first use).
 */
async function newStepRecorder(): Promise<StepRecorder> {
  const { LogitsProcessor: Base } = await transformers();
  class Recorder extends Base {
    readonly steps: { logits: Float32Array; logZ: number }[] = [];

    override _call(_inputIds: bigint[][], logits: Tensor): Tensor {
      const data = logits.data as Float32Array;
      if (logits.dims[0] !== 1) throw new Error('local LLM backend: batch size must be 1');
      const row = Float32Array.from(data.subarray(0, data.length));
      let max = -Infinity;
      for (const v of row) if (v > max) max = v;
      let sum = 0;
      for (const v of row) sum += Math.exp(v - max);
      this.steps.push({ logits: row, logZ: max + Math.log(sum) });
      return logits;
    }
  }
  return new Recorder();
}

/** Cut the completion at the first stop sequence, like the OpenAI API (the stop text itself is not returned). */
export function applyStop(
  pieces: string[],
  logprobs: number[],
  stop: readonly string[],
): { text: string; tokens: TokenLogprob[]; stopped: boolean } {
  const full = pieces.join('');
  let cut = full.length;
  for (const s of stop) {
    if (!s) continue;
    const i = full.indexOf(s);
    if (i >= 0 && i < cut) cut = i;
  }
  const tokens: TokenLogprob[] = [];
  let end = 0;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (end + piece.length > cut) {
      // A token straddling the stop point contributes the part before the stop.
      if (end < cut) tokens.push({ token: piece.slice(0, cut - end), logprob: logprobs[i]! });
      break;
    }
    tokens.push({ token: piece, logprob: logprobs[i]! });
    end += piece.length;
  }
  return { text: full.slice(0, cut), tokens, stopped: cut < full.length };
}

/**
 * Embedded text generation with @huggingface/transformers (ONNX). Greedy at temperature 0, sampling otherwise.
 * Per-token log-probabilities come from the logits the model produced at each step (log-softmax of the raw logits).
 */
export class LocalClient implements LlmClient {
  readonly backend = 'local';
  readonly defaultModel: string;
  private readonly source: ModelSource;

  constructor(
    private readonly ctx: Pick<RunContext, 'config' | 'paths' | 'resources'>,
    explicitId?: string,
  ) {
    this.source = sourceFor(ctx, 'text-generation', explicitId);
    this.defaultModel = this.source.id;
  }

  describe(): string {
    return describeSource(this.source);
  }

  async complete(request: LlmRequest, signal?: AbortSignal): Promise<LlmResponse> {
    if (request.model !== this.defaultModel) {
      throw new Error(`local LLM backend serves ${this.defaultModel}, not ${request.model}`);
    }
    signal?.throwIfAborted();
    const tokenizer: any = await loadOnce(this.ctx, this.source, 'tokenizer', async (loc, o) => (await transformers()).AutoTokenizer.from_pretrained(loc, o), false);
    const model: any = await loadOnce(this.ctx, this.source, 'causal-lm', async (loc, o) => (await transformers()).AutoModelForCausalLM.from_pretrained(loc, o));
    const prompt = request.prompt ?? this.chatPrompt(tokenizer, request);
    const inputs = tokenizer(prompt);
    const promptTokens = inputs.input_ids.dims.at(-1) as number;
    const cfg = model.config ?? {};
    const context: unknown = cfg.max_position_embeddings ?? cfg.n_positions ?? cfg.n_ctx;
    if (typeof context === 'number' && promptTokens + request.maxTokens > context) {
      throw new Error(
        `prompt of ${promptTokens} tokens + ${request.maxTokens} new tokens exceeds the context of ${this.defaultModel} (${context} tokens): ` +
          'use fewer in-context examples (nodes.prompts.params.shots) or a model with a longer context',
      );
    }
    const recorder = await newStepRecorder();
    const processors = new (await transformers()).LogitsProcessorList();
    processors.push(recorder);
    const sample = request.temperature > 0;
    const sequences: Tensor = await model.generate({
      ...inputs,
      max_new_tokens: request.maxTokens,
      do_sample: sample,
      ...(sample ? { temperature: request.temperature } : {}),
      ...(request.topP !== undefined ? { top_p: request.topP } : {}),
      logits_processor: processors,
    });
    const all = (sequences.tolist() as bigint[][])[0]!;
    const generated = all.slice(promptTokens);
    const eos = new Set<number>([model.generation_config?.eos_token_id, model.config?.eos_token_id].flat().filter((x) => typeof x === 'number'));
    const ids: number[] = [];
    const logprobs: number[] = [];
    let finishReason = 'length';
    for (let i = 0; i < generated.length; i++) {
      const id = Number(generated[i]!);
      if (eos.has(id)) {
        finishReason = 'stop';
        break;
      }
      const step = recorder.steps[i];
      if (!step) throw new Error(`local LLM backend: no logits recorded for generated token ${i}`);
      ids.push(id);
      logprobs.push(step.logits[id]! - step.logZ);
    }
    const pieces = ids.map((id) => tokenizer.decode([id], { skip_special_tokens: false }) as string);
    const cut = applyStop(pieces, logprobs, request.stop ?? []);
    if (cut.stopped) finishReason = 'stop';
    return {
      text: cut.text,
      tokens: request.logprobs ? cut.tokens : null,
      usage: { promptTokens, completionTokens: ids.length },
      model: this.defaultModel,
      finishReason,
    };
  }

  private chatPrompt(tokenizer: any, request: LlmRequest): string {
    const messages = request.messages ?? [];
    if (messages.some((m) => typeof m.content !== 'string')) {
      // Vision-language models are served by an OpenAI-compatible server (docs/vlm.md), never embedded.
      throw new Error('the embedded LLM backend takes text only: image input needs an OpenAI-compatible server (vlm.baseURL or llm.baseURL)');
    }
    if (tokenizer.chat_template) {
      return tokenizer.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true }) as string;
    }
    return messages.map((m) => m.content).join('\n\n');
  }
}
