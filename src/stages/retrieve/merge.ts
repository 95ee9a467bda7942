/** Turning per-region entity hits into passages: KAT's merge (faithful or corrected) or REVIVE per-region lists. */
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

export type MergeMode = 'max' | 'region' | 'kat';

/** Passage text styles: ours (`entity: … description: …`) or KAT's reader input (`title: … context: … is a …`). */
export type EntityTextStyle = 'entity' | 'kat';

export function entityPassageText(label: string, description: string): string {
  return `entity: ${label} description: ${description}`;
}

/**
 * KAT's explicit passage (guilk/KAT src/data.py OkvqaDataset): `title: {name} context: {name} is a {description}`; FiD's
 * `title` is the name and its `text` is `{name} is a {description}` (KAT's wording, kept as is).
 */
export function katEntityPassage(label: string, description: string): { text: string; title: string; body: string } {
  const body = `${label} is a ${description}`;
  return { text: `title: ${label} context: ${body}`, title: label, body };
}

function toPassage(h: RegionHit, region: number, style: EntityTextStyle, score = h.score): Passage {
  if (style === 'kat') return { ...katEntityPassage(h.label, h.description), score, source: h.source, id: h.id, region };
  return { text: entityPassageText(h.label, h.description), score, source: h.source, id: h.id, region };
}

/** Python's `str` ordering (code points), for ties between entity ids. */
function cmpCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * KAT's ranking, reproduced from guilk/KAT build_wikidata_entity_db.py `retrieve_knn`, quirk included: the scores
 * paired with each crop's hits are `top_ids_and_scores[1][-1]`, the score list of the crop at index 1, not the crop's
 * own (`zip` pairs rank r of every crop with crop 1's r-th score and stops at the shorter list); each entity keeps
 * the maximum (`max(old, new)`: the first crop to reach it), and entities are sorted by (score, id) descending
 * (`sorted(zip(scores, ids))[::-1]`). Needs at least two regions (KAT raises IndexError with one).
 */
export function mergeKat(perRegion: readonly RegionHits[], style: EntityTextStyle = 'kat'): Passage[] {
  if (perRegion.length < 2) {
    throw new Error(`merge "kat" reproduces KAT's use of crop 1's scores and needs at least 2 regions, got ${perRegion.length}`);
  }
  const scores1 = perRegion[1]!.hits.map((h) => h.score);
  const best = new Map<string, Passage>();
  for (const { region, hits } of perRegion) {
    hits.forEach((h, rank) => {
      if (rank >= scores1.length) return;
      const s = scores1[rank]!;
      const cur = best.get(h.id);
      if (!cur || s > cur.score) best.set(h.id, toPassage(h, region, style, s));
    });
  }
  return [...best.values()].sort((a, b) => b.score - a.score || cmpCodePoints(b.id!, a.id!));
}

/**
 * - `kat`: KAT's ranking exactly, quirk included (see `mergeKat`).
 * - `max` (KAT corrected): one passage per entity with its best own score over all regions (the region that gave it),
 *   best first.
 * - `region` (REVIVE): each region keeps its own entities (an entity found by two regions appears under both),
 *   deduplicated within a region; when over the cap the lowest-scoring passages go; listed region by region.
 * Equal scores break ties by entity id (`kat`: descending, as KAT; otherwise ascending), so the output is deterministic.
 */
export function mergeRegionHits(
  perRegion: readonly RegionHits[],
  mode: MergeMode,
  limit: number,
  style: EntityTextStyle = 'entity',
): Passage[] {
  if (mode === 'kat') return mergeKat(perRegion, style).slice(0, limit);
  const byScore = (a: Passage, b: Passage) => b.score - a.score || (a.id ?? '').localeCompare(b.id ?? '');
  if (mode === 'max') {
    const best = new Map<string, Passage>();
    for (const { region, hits } of perRegion) {
      for (const h of hits) {
        const cur = best.get(h.id);
        if (!cur || h.score > cur.score) best.set(h.id, toPassage(h, region, style));
      }
    }
    return [...best.values()].sort(byScore).slice(0, limit);
  }
  const all: Passage[] = [];
  for (const { region, hits } of perRegion) {
    const seen = new Map<string, Passage>();
    for (const h of hits) {
      const cur = seen.get(h.id);
      if (!cur || h.score > cur.score) seen.set(h.id, toPassage(h, region, style));
    }
    all.push(...seen.values());
  }
  const kept = all.sort(byScore).slice(0, limit);
  return kept.sort((a, b) => a.region! - b.region! || byScore(a, b));
}
