/**
 * Pre-flight of the vision-language stages (see `Stage.check`): a server is configured, the questions have images, and
 * the server takes image input — one probe request per run (src/llm/vlm.ts `probeVlm`), so a text-only model fails
 * the run once, before any question, instead of once per question.
 */
import type { CheckContext, CheckFinding } from '../core/stage.js';
import { errorMessage } from '../core/errors.js';
import { probeVlm, vlmLlmConfig } from '../llm/vlm.js';
import { checkImages } from './checks.js';

const SERVE = 'serve a vision-language model and name it in vlm.model / OKVQA_VLM_MODEL (e.g. vLLM `vllm serve Qwen/Qwen2.5-VL-7B-Instruct`, Ollama `llava` or `qwen2.5vl`, OpenAI gpt-4o-mini; docs/vlm.md)';

export async function checkVlm(ctx: CheckContext): Promise<CheckFinding[]> {
  const out = checkImages(ctx);
  // A replay answers every call from the cache (a miss is an error naming the call): no server needed.
  if (ctx.config.cache.mode === 'replay') return out;
  let config: ReturnType<typeof vlmLlmConfig>;
  try {
    config = vlmLlmConfig(ctx.config);
  } catch (err) {
    return [...out, { severity: 'error', key: 'vlm.baseURL', message: errorMessage(err), fix: SERVE }];
  }
  if (!ctx.config.vlm.probe) return out;
  const failure = await probeVlm(ctx);
  if (!failure) return out;
  const where = config.llm.baseURL ?? 'the OpenAI API';
  const refused = failure.status !== undefined && failure.status >= 400 && failure.status < 500;
  out.push({
    severity: 'error',
    key: 'vlm.model',
    message: refused
      ? `${where} refused a one-image test request to model ${config.llm.model}: ${failure.message}`
      : `a one-image test request to model ${config.llm.model} at ${where} failed: ${failure.message}`,
    fix: refused ? `${SERVE}, or check vlm.apiKey` : `check that the server is up at ${where}; vlm.probe=false skips this check`,
  });
  return out;
}
