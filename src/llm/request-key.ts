import { Cache } from '../core/cache.js';
import type { LlmRequest } from './types.js';

/**
 * Cache key of a request: the full request body. Shared by every backend, so batch results serve live runs. A model
 * that runs here (the embedded backend) adds `modelFiles`, the content identity of its files (hub.ts modelFingerprint),
 * so replacing the model's files never replays its old completions.
 */
export function requestKey(request: LlmRequest, modelFiles?: string): string {
  return Cache.key(modelFiles === undefined ? { kind: 'llm-request', v: 1, request } : { kind: 'llm-request', v: 1, request, modelFiles });
}
