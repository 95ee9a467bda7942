/** Turning per-region entity hits into passages: KAT max-merge or REVIVE per-region lists; deduplicated and capped. */
import type { Passage } from '../../core/artifacts.js';

export interface RegionHit {
  id: string;
  label: string;
  description: string;
  source: string;
  score: number;
}

export interface RegionHits {
  region: number;
  hits: RegionHit[];
}

export type MergeMode = 'max' | 'region';

export function entityPassageText(label: string, description: string): string {
  return `entity: ${label} description: ${description}`;
}

function toPassage(h: RegionHit, region: number): Passage {
  return { text: entityPassageText(h.label, h.description), score: h.score, source: h.source, id: h.id, region };
}

/**
 * - `max` (KAT): one passage per entity with its best score over all regions (the region that gave it), best first.
 * - `region` (REVIVE): each region keeps its own entities (an entity found by two regions appears under both),
 *   deduplicated within a region; when over the cap the lowest-scoring passages go; listed region by region.
 * Equal scores break ties by entity id, so the output is deterministic.
 */
export function mergeRegionHits(perRegion: readonly RegionHits[], mode: MergeMode, limit: number): Passage[] {
  const byScore = (a: Passage, b: Passage) => b.score - a.score || (a.id ?? '').localeCompare(b.id ?? '');
  if (mode === 'max') {
    const best = new Map<string, Passage>();
    for (const { region, hits } of perRegion) {
      for (const h of hits) {
        const cur = best.get(h.id);
        if (!cur || h.score > cur.score) best.set(h.id, toPassage(h, region));
      }
    }
    return [...best.values()].sort(byScore).slice(0, limit);
  }
  const all: Passage[] = [];
  for (const { region, hits } of perRegion) {
    const seen = new Map<string, Passage>();
    for (const h of hits) {
      const cur = seen.get(h.id);
      if (!cur || h.score > cur.score) seen.set(h.id, toPassage(h, region));
    }
    all.push(...seen.values());
  }
  const kept = all.sort(byScore).slice(0, limit);
  return kept.sort((a, b) => a.region! - b.region! || byScore(a, b));
}
