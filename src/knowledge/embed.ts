/**
 * Embed the entity texts of a knowledge base with the CLIP text tower (src/models/clip.ts), in batches.
 * Resumable: only entities without a vector for the model are embedded, and each batch is committed.
 * Each text is cleaned as openai/CLIP's tokenizer cleans it before BPE (src/text/clip-clean.ts: ftfy, HTML entities,
 * whitespace), as KAT's CLIP saw its entity texts; the stored text stays as it is.
 */
import type { RunContext } from '../core/context.js';
import { clipSource, embedTexts } from '../models/clip.js';
import { clipCleanText } from '../text/clip-clean.js';
import type { KnowledgeStore } from './store.js';

export interface EmbedProgress {
  done: number;
  total: number;
  /** Entities per second in this run. */
  rate: number;
}

export interface EmbedKbOptions {
  /** CLIP model override (hub id or directory); default the configured `clip` role. */
  model?: string;
  /** Texts per forward pass / commit (default 64). */
  batchSize?: number;
  /** Stop after this many entities (testing, partial runs). */
  limit?: number;
  onProgress?: (p: EmbedProgress) => void;
}

export interface EmbedKbResult {
  /** Key the vectors are stored under (the resolved CLIP id, as regions' `embeddingModel`). */
  model: string;
  embedded: number;
  total: number;
  seconds: number;
}

/** The key vectors of `model` are stored under. */
export function vectorModelKey(ctx: Pick<RunContext, 'config' | 'paths'>, model?: string): string {
  return clipSource(ctx, model).id;
}

export async function embedKb(
  store: KnowledgeStore,
  ctx: Pick<RunContext, 'config' | 'paths' | 'resources' | 'cache'>,
  opts: EmbedKbOptions = {},
): Promise<EmbedKbResult> {
  const t0 = Date.now();
  const key = vectorModelKey(ctx, opts.model);
  const batchSize = opts.batchSize ?? 64;
  const total = store.count();
  let done = store.embeddedCount(key);
  let embedded = 0;
  let after = 0;
  const clipOpts = { ...(opts.model ? { model: opts.model } : {}), batchSize, cache: false };
  while (opts.limit === undefined || embedded < opts.limit) {
    const want = opts.limit === undefined ? batchSize : Math.min(batchSize, opts.limit - embedded);
    const rows = store.unembedded(key, want, after);
    if (rows.length === 0) break;
    const vecs = await embedTexts(
      rows.map((r) => clipCleanText(r.text)),
      ctx,
      clipOpts,
    );
    store.putVectors(
      key,
      rows.map((r) => r.rowid),
      vecs,
    );
    after = rows[rows.length - 1]!.rowid;
    embedded += rows.length;
    done += rows.length;
    opts.onProgress?.({ done, total, rate: embedded / Math.max(1e-3, (Date.now() - t0) / 1000) });
  }
  return { model: key, embedded, total, seconds: (Date.now() - t0) / 1000 };
}
