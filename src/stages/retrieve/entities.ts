/**
 * Explicit knowledge (KAT / REVIVE): CLIP image embeddings of regions (sliding windows or detections) → top-k entities
 * of the knowledge base per region → merged (KAT ranking, faithful or corrected) or per region (REVIVE) → passages
 * `entity: {label} description: {description}`, deduplicated and capped.
 */
import { existsSync } from 'node:fs';
import { KnowledgeStore } from '../../knowledge/store.js';
import { z } from 'zod';
import type { Region } from '../../core/artifacts.js';
import { defineStage } from '../../core/stage.js';
import { openKnowledgeBase, kbPathOf } from '../../knowledge/kb.js';
import { clipFingerprint, clipSource } from '../../models/clip.js';
import { loadImage, sampleImagePath } from '../../image/load.js';
import { embedRegions } from '../regions/common.js';
import { mergeRegionHits } from './merge.js';
import { checkDevice, checkKnowledgeBase, checkModel } from '../checks.js';

const params = z.object({
  /** Entities per region. */
  k: z.number().int().positive().default(10),
  /**
   * `kat`: KAT's ranking exactly, quirk included (every crop's hits scored with crop 1's score list); `max`: KAT
   * corrected (each entity once, its best own score over regions); `region`: REVIVE (per region).
   */
  merge: z.enum(['max', 'region', 'kat']).default('max'),
  /** Passage text: `entity` (`entity: {label} description: {description}`) or `kat` (`title: {label} context: {label} is a {description}`). */
  text: z.enum(['entity', 'kat']).default('entity'),
  /** Most passages returned. */
  limit: z.number().int().positive().default(40),
  /** Drop hits below this cosine similarity. */
  minScore: z.number().optional(),
  /** `auto`: exact up to 20k vectors, else the approximate index. */
  search: z.enum(['auto', 'exact', 'approximate']).default('auto'),
  /** CLIP model override (hub id or directory); must match the model the KB was embedded with. */
  model: z.string().optional(),
});

/**
 * What identifies a knowledge base's content in cache keys: its build id and content version (bumped by every entity or
 * vector edit, knowledge/schema.sql) — not its path or modification time, so a copy of the same KB elsewhere replays,
 * while re-embedding or editing descriptions never replays stale retrievals.
 */
function kbFingerprint(path: string): string {
  if (!existsSync(path)) return 'missing';
  const store = KnowledgeStore.open(path, { readonly: true });
  try {
    return store.contentIdentity();
  } finally {
    store.close();
  }
}

export const retrieveEntities = defineStage({
  id: 'retrieve.entities',
  version: '2',
  description:
    'Knowledge-base entities for image regions by CLIP similarity: top-k per region, KAT-ranked (kat: faithful, max: corrected) or per region (REVIVE)',
  inputs: { sample: { kind: 'sample', image: true }, regions: { kind: 'regions' } },
  output: 'passages',
  params,
  fingerprint: (p, ctx) => `${clipFingerprint(ctx, p.model)}|${kbFingerprint(kbPathOf(ctx))}`,
  check: async (p, ctx) => [...checkKnowledgeBase(ctx, p.model), ...checkModel(ctx, 'clip', p.model), ...(await checkDevice(ctx))],
  async run({ sample, regions }, p, ctx) {
    if (regions.length === 0) return [];
    const model = clipSource(ctx, p.model).id;
    let embedded: Region[] = regions;
    const missing = regions.some((r) => !r.embedding || (r.embeddingModel !== undefined && r.embeddingModel !== model));
    if (missing) {
      const img = await loadImage(ctx, sampleImagePath(sample, ctx.data.images));
      // Match by position, not id: regions joined from several nodes (`[objects, windows]`) repeat ids.
      const todoAt = regions.flatMap((r, i) => (!r.embedding || (r.embeddingModel !== undefined && r.embeddingModel !== model) ? [i] : []));
      const done = await embedRegions(todoAt.map((i) => regions[i]!), img, ctx, p.model);
      embedded = [...regions];
      todoAt.forEach((at, j) => (embedded[at] = done[j]!));
      ctx.note('embeddedRegions', todoAt.length);
    }
    const kb = await openKnowledgeBase(ctx, kbPathOf(ctx));
    const hits = await kb.searchVectors(
      embedded.map((r) => r.embedding!),
      { model, k: p.k, mode: p.search },
    );
    // `region` is the position in the regions input (ids repeat when several region nodes are joined).
    const perRegion = embedded.map((_r, i) => ({
      region: i,
      hits: hits[i]!
        .filter((h) => p.minScore === undefined || h.score >= p.minScore)
        .map((h) => ({
          id: h.entity.id,
          label: h.entity.label,
          description: h.entity.description,
          source: h.entity.source,
          score: h.score,
        })),
    }));
    const passages = mergeRegionHits(perRegion, p.merge, p.limit, p.text);
    ctx.note('entities', passages.length);
    return passages;
  },
});
