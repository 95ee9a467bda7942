import { Cache } from '../core/cache.js';
import type { LlmRequest } from './types.js';

/** Cache key of a request: the full request body. Shared by every backend, so batch results serve live runs. */
export function requestKey(request: LlmRequest): string {
  return Cache.key({ kind: 'llm-request', v: 1, request });
}
