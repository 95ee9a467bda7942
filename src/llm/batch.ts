/**
 * OpenAI Batch API backend. A run with `llm.backend=batch` does not call the model: every uncached request is appended
 * to `<dir>/pending.jsonl` (one Batch API line, `custom_id` = the request's cache key) and the question fails with
 * BatchPendingError. `submitBatches` uploads the pending lines and creates batches, `pollBatches` refreshes their state,
 * `collectBatches` downloads finished outputs into the cache under the same keys; a rerun then answers from the cache
 * (with any backend). All state lives in `<dir>/state.json`, so every step can be resumed after an interruption.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { ensureDir } from '../core/ensure-dir.js';
import { join } from 'node:path';
import type OpenAI from 'openai';
import { openaiSdk } from '../runtime/lazy.js';
import type { Cache } from '../core/cache.js';
import { fromOpenAIBody, toOpenAIBody } from './openai-wire.js';
import type { LlmClient, LlmRequest, LlmResponse } from './types.js';
import { requestKey } from './request-key.js';

export class BatchPendingError extends Error {
  override name = 'BatchPendingError';
}

export type BatchEndpoint = '/v1/completions' | '/v1/chat/completions';

export interface BatchLine {
  custom_id: string;
  method: 'POST';
  url: BatchEndpoint;
  body: Record<string, unknown>;
}

export interface BatchRecord {
  id: string;
  endpoint: BatchEndpoint;
  inputFileId: string;
  requests: number;
  status: string;
  outputFileId?: string;
  errorFileId?: string;
  ingested: boolean;
  submittedAt: string;
  /** Why a failed, expired or cancelled batch ended (the API's error list, or what the status means). */
  error?: string;
  /** Requests of an unsuccessful batch put back into pending.jsonl (by the next submit), with when. */
  requeued?: number;
  requeuedAt?: string;
}

export interface BatchState {
  batches: BatchRecord[];
}

export const MAX_BATCH_REQUESTS = 50_000;
/**
 * Most bytes of one batch input file: the API takes files up to 200 MB, and requests with images (base64 JPEGs of
 * ~50–150 kB each) reach that long before 50,000 lines, so batches are cut by size too (with a margin).
 */
export const MAX_BATCH_BYTES = 190 * 1024 * 1024;

const FINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);
/** Final states in which some or all requests got no answer: reported, and their requests queued again. */
export const UNSUCCESSFUL = new Set(['failed', 'expired', 'cancelled']);

/** A batch's error for people: the API's `errors.data` (code, message, line), else what its status means. */
export function batchError(status: string, errors: { data?: { code?: string | null; message?: string | null; line?: number | null }[] } | null | undefined): string | undefined {
  const listed = (errors?.data ?? [])
    .map((e) => [e.code, e.message].filter(Boolean).join(': ') + (e.line != null ? ` (input line ${e.line})` : ''))
    .filter(Boolean);
  if (listed.length) return listed.slice(0, 5).join('; ') + (listed.length > 5 ? `; … ${listed.length - 5} more` : '');
  if (status === 'failed') return 'the batch failed (the API gave no reason)';
  if (status === 'expired') return 'the batch expired: not finished within its 24h completion window';
  if (status === 'cancelled') return 'the batch was cancelled';
  return undefined;
}

export function readState(dir: string): BatchState {
  const p = join(dir, 'state.json');
  if (!existsSync(p)) return { batches: [] };
  return JSON.parse(readFileSync(p, 'utf8')) as BatchState;
}

function writeState(dir: string, state: BatchState): void {
  ensureDir(dir, 'LLM batch folder');
  const p = join(dir, 'state.json');
  writeFileSync(`${p}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${p}.tmp`, p);
}

function readLines(path: string): BatchLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as BatchLine);
}

/** Keys already waiting: pending, or submitted in a batch whose results are not ingested yet. */
function waitingKeys(dir: string): Set<string> {
  const keys = new Set(readLines(join(dir, 'pending.jsonl')).map((l) => l.custom_id));
  for (const b of readState(dir).batches) {
    if (b.ingested) continue;
    for (const l of readLines(join(dir, `${b.id}.input.jsonl`))) keys.add(l.custom_id);
  }
  return keys;
}

/** The client a `backend: batch` run uses: it queues uncached requests instead of sending them. */
export class BatchCollector implements LlmClient {
  readonly backend = 'batch';
  private keys: Set<string> | undefined;

  constructor(
    readonly dir: string,
    readonly defaultModel: string,
  ) {}

  async complete(request: LlmRequest): Promise<LlmResponse> {
    const key = requestKey(request);
    this.keys ??= waitingKeys(this.dir);
    if (!this.keys.has(key)) {
      const { url, body } = toOpenAIBody(request);
      const line: BatchLine = { custom_id: key, method: 'POST', url, body };
      ensureDir(this.dir, 'LLM batch folder');
      appendFileSync(join(this.dir, 'pending.jsonl'), `${JSON.stringify(line)}\n`);
      this.keys.add(key);
    }
    throw new BatchPendingError(
      `LLM request queued for the OpenAI Batch API in ${this.dir} — run \`okvqa llm batch submit\`, then \`okvqa llm batch collect\`, then rerun`,
    );
  }
}

/**
 * Put the requests of failed, expired and cancelled batches back into pending.jsonl, except those whose answer is in
 * the cache already (an expired batch's finished lines, once collected). Each batch is re-queued once. Returns the
 * batches re-queued now.
 */
export function requeueUnsuccessful(dir: string, answered: (key: string) => boolean): BatchRecord[] {
  const state = readState(dir);
  const pendingPath = join(dir, 'pending.jsonl');
  const queued = new Set(readLines(pendingPath).map((l) => l.custom_id));
  const done: BatchRecord[] = [];
  for (const rec of state.batches) {
    if (!UNSUCCESSFUL.has(rec.status) || rec.requeuedAt) continue;
    const lines = readLines(join(dir, `${rec.id}.input.jsonl`)).filter((l) => !answered(l.custom_id) && !queued.has(l.custom_id));
    if (lines.length) appendFileSync(pendingPath, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    for (const l of lines) queued.add(l.custom_id);
    rec.requeued = lines.length;
    rec.requeuedAt = new Date().toISOString();
    done.push(rec);
  }
  if (done.length) writeState(dir, state);
  return done;
}

/** Upload the pending requests (one batch per endpoint) and create the batches. Returns the new batch records. */
export async function submitBatches(
  sdk: OpenAI,
  dir: string,
  limits: { maxRequests: number; maxBytes: number } = { maxRequests: MAX_BATCH_REQUESTS, maxBytes: MAX_BATCH_BYTES },
): Promise<BatchRecord[]> {
  const pendingPath = join(dir, 'pending.jsonl');
  let pending = readLines(pendingPath);
  const created: BatchRecord[] = [];
  while (pending.length) {
    const endpoint = pending[0]!.url;
    const same = pending.filter((l) => l.url === endpoint);
    // One endpoint per batch, at most maxRequests lines (the API's limit is 50,000) and maxBytes per input file (at
    // least one line, whatever its size).
    const group: BatchLine[] = [];
    let bytes = 0;
    for (const l of same) {
      const size = Buffer.byteLength(JSON.stringify(l)) + 1;
      if (group.length && (group.length >= limits.maxRequests || bytes + size > limits.maxBytes)) break;
      group.push(l);
      bytes += size;
    }
    const taken = new Set(group);
    const rest = pending.filter((l) => !taken.has(l));
    const jsonl = group.map((l) => JSON.stringify(l)).join('\n') + '\n';
    const file = await sdk.files.create({ file: await openaiSdk().toFile(Buffer.from(jsonl), 'okvqa-batch.jsonl'), purpose: 'batch' });
    const batch = await sdk.batches.create({ input_file_id: file.id, endpoint, completion_window: '24h' });
    writeFileSync(join(dir, `${batch.id}.input.jsonl`), jsonl);
    const state = readState(dir);
    const rec: BatchRecord = {
      id: batch.id,
      endpoint,
      inputFileId: file.id,
      requests: group.length,
      status: batch.status,
      ingested: false,
      submittedAt: new Date().toISOString(),
    };
    state.batches.push(rec);
    writeState(dir, state);
    // Only now drop the submitted lines, so an interruption never loses a request.
    if (rest.length) writeFileSync(pendingPath, rest.map((l) => JSON.stringify(l)).join('\n') + '\n');
    else rmSync(pendingPath, { force: true });
    pending = rest;
    created.push(rec);
  }
  return created;
}

/** Refresh the status of every batch that is not final yet. */
export async function pollBatches(sdk: OpenAI, dir: string): Promise<BatchRecord[]> {
  const state = readState(dir);
  for (const rec of state.batches) {
    if (FINAL.has(rec.status) && (rec.outputFileId || rec.errorFileId || rec.status !== 'completed')) continue;
    const b = await sdk.batches.retrieve(rec.id);
    rec.status = b.status;
    if (b.output_file_id) rec.outputFileId = b.output_file_id;
    if (b.error_file_id) rec.errorFileId = b.error_file_id;
    const error = UNSUCCESSFUL.has(b.status) ? batchError(b.status, b.errors) : undefined;
    if (error) rec.error = error;
  }
  writeState(dir, state);
  return state.batches;
}

export interface CollectResult {
  batches: number;
  stored: number;
  failed: { customId: string; error: string }[];
  /** Batches that ended failed, expired or cancelled: their unanswered requests are queued again by the next submit. */
  unsuccessful: { id: string; status: string; error: string; requests: number; answered: number }[];
}

/** Download finished batches' outputs into the cache (key = custom_id). Failed lines are reported and re-queued on rerun. */
export async function collectBatches(sdk: OpenAI, dir: string, cache: Cache): Promise<CollectResult> {
  const state = readState(dir);
  const result: CollectResult = { batches: 0, stored: 0, failed: [], unsuccessful: [] };
  for (const rec of state.batches) {
    if (rec.ingested || !FINAL.has(rec.status)) continue;
    const storedBefore = result.stored;
    const chat = rec.endpoint === '/v1/chat/completions';
    const models = new Map(readLines(join(dir, `${rec.id}.input.jsonl`)).map((l) => [l.custom_id, String(l.body.model ?? '')]));
    for (const fileId of [rec.outputFileId, rec.errorFileId]) {
      if (!fileId) continue;
      const text = await (await sdk.files.content(fileId)).text();
      for (const raw of text.split('\n')) {
        if (!raw.trim()) continue;
        let line: any;
        try {
          line = JSON.parse(raw);
        } catch {
          result.failed.push({ customId: '?', error: `unparseable output line in batch ${rec.id}` });
          continue;
        }
        const id = String(line?.custom_id ?? '?');
        const status = line?.response?.status_code;
        if (status !== 200) {
          result.failed.push({ customId: id, error: line?.error?.message ?? `HTTP ${status ?? '?'}` });
          continue;
        }
        try {
          const value = fromOpenAIBody(line.response.body, chat, models.get(id) ?? '');
          cache.put(id, `llm ${value.model} (batch ${rec.id})`, value);
          result.stored++;
        } catch (err) {
          result.failed.push({ customId: id, error: (err as Error).message });
        }
      }
    }
    rec.ingested = true;
    result.batches++;
    if (UNSUCCESSFUL.has(rec.status)) {
      result.unsuccessful.push({
        id: rec.id,
        status: rec.status,
        error: rec.error ?? batchError(rec.status, undefined) ?? rec.status,
        requests: rec.requests,
        answered: result.stored - storedBefore,
      });
    }
  }
  writeState(dir, state);
  return result;
}

/** Poll until every batch is final (or `timeoutMs` passes), then collect. */
export async function waitAndCollect(
  sdk: OpenAI,
  dir: string,
  cache: Cache,
  opts: { intervalMs?: number; timeoutMs?: number; onPoll?: (b: BatchRecord[]) => void } = {},
): Promise<CollectResult & { done: boolean }> {
  const interval = opts.intervalMs ?? 30_000;
  const deadline = Date.now() + (opts.timeoutMs ?? Infinity);
  for (;;) {
    const batches = await pollBatches(sdk, dir);
    opts.onPoll?.(batches);
    const done = batches.every((b) => FINAL.has(b.status));
    if (done || Date.now() >= deadline) return { ...(await collectBatches(sdk, dir, cache)), done };
    await new Promise((r) => setTimeout(r, interval));
  }
}
