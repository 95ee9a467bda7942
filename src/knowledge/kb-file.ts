/** One-call library functions behind `okvqa kb …`. */
import type { Config } from '../core/config.js';
import { clipSource, embedImages, embedTexts } from '../models/clip.js';
import { createRunContext } from '../run-context.js';
import { readImage } from '../image/load.js';
import { embedKb, type EmbedKbOptions, type EmbedKbResult } from './embed.js';
import { EXACT_UP_TO, KnowledgeBase, type SearchMode } from './kb.js';
import { DEFAULT_APPROXIMATE, type ApproximateKind } from './search.js';
import { KnowledgeStore, type KbStats } from './store.js';

export interface EntityJson {
  id: string;
  label: string;
  description: string;
  text: string;
  source: string;
  categories: string[];
  broader: string[];
}

function withStore<T>(path: string, fn: (s: KnowledgeStore) => T, readonly = true): T {
  const store = KnowledgeStore.open(path, { readonly });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

export function kbStats(path: string): KbStats {
  return withStore(path, (s) => s.stats());
}

export function kbGet(path: string, id: string): EntityJson | undefined {
  return withStore(path, (s) => {
    const e = s.get(id);
    if (!e) return undefined;
    const { rowid: _rowid, ...rest } = e;
    return rest;
  });
}

export interface KbEmbedResult extends EmbedKbResult {
  /** The approximate index built after embedding (when the KB is large enough to need one). */
  index?: { kind: string; vectors: number; seconds: number };
}

/** Embed the KB's entity texts with CLIP (resumable), then build its approximate index when it needs one. */
export async function kbEmbed(
  path: string,
  config: Config,
  opts: EmbedKbOptions & { buildIndex?: boolean } = {},
): Promise<KbEmbedResult> {
  const ctx = createRunContext({ config });
  const kb = KnowledgeBase.open(path);
  try {
    const r: KbEmbedResult = await embedKb(kb.store, ctx, opts);
    const n = kb.store.embeddedCount(r.model);
    if ((opts.buildIndex ?? true) && n > EXACT_UP_TO && (opts.limit === undefined || r.embedded === 0)) {
      const t0 = Date.now();
      await kb.index(r.model, 'approximate');
      r.index = { kind: DEFAULT_APPROXIMATE, vectors: n, seconds: (Date.now() - t0) / 1000 };
    }
    return r;
  } finally {
    await kb.close();
    await ctx.close();
  }
}

/** (Re)build and store the approximate index of a model's vectors. */
export async function kbIndex(path: string, model: string, kind: ApproximateKind = DEFAULT_APPROXIMATE) {
  const kb = KnowledgeBase.open(path);
  try {
    const t0 = Date.now();
    const idx = await kb.buildIndex(model, kind);
    return { model, kind: idx.kind, vectors: idx.size, seconds: (Date.now() - t0) / 1000 };
  } finally {
    await kb.close();
  }
}

export interface KbSearchHit extends EntityJson {
  score: number;
}

export interface KbSearchOptions {
  k?: number;
  mode?: SearchMode;
  /** CLIP model override. */
  model?: string;
}

/**
 * Entities nearest to a text (CLIP text tower) or an image (CLIP image tower) among the KB's vectors for the CLIP
 * model; `{ fts }` instead ranks entity texts by BM25 full-text match (no model needed).
 */
export async function kbSearch(
  path: string,
  query: { text: string } | { image: string } | { fts: string },
  config: Config,
  opts: KbSearchOptions = {},
): Promise<{ model?: string; hits: KbSearchHit[] }> {
  const k = opts.k ?? 10;
  const strip = (e: { rowid: number } & EntityJson, score: number): KbSearchHit => {
    const { rowid: _rowid, ...rest } = e;
    return { ...rest, score };
  };
  if ('fts' in query) {
    return { hits: withStore(path, (s) => s.textSearch(query.fts, k).map((e) => strip(e, e.score))) };
  }
  const ctx = createRunContext({ config });
  const kb = KnowledgeBase.open(path, { readonly: true });
  try {
    const model = clipSource(ctx, opts.model).id;
    const clipOpts = opts.model ? { model: opts.model } : {};
    let vec: number[];
    if ('text' in query) {
      [vec] = (await embedTexts([query.text], ctx, clipOpts)) as [number[]];
    } else {
      const img = await readImage(query.image);
      [vec] = (await embedImages([img.image], ctx, { ...clipOpts, keys: [img.hash] })) as [number[]];
    }
    const [hits] = (await kb.searchVectors([vec], { model, k, mode: opts.mode ?? 'auto' })) as [
      { entity: { rowid: number } & EntityJson; score: number }[],
    ];
    return { model, hits: hits.map((h) => strip(h.entity, h.score)) };
  } finally {
    await kb.close();
    await ctx.close();
  }
}
