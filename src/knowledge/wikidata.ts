/**
 * Build a knowledge base from a Wikidata JSON dump, streamed line by line (never loaded whole).
 *
 * With categories, two passes:
 *   1. collect the subclass graph (P279 edges, as numeric id pairs in growing Int32Arrays — about 8 bytes per edge),
 *      then walk it backwards from each category class: every class that reaches a category gets a bit mask of the
 *      categories it reaches (stored in the `classes` table, so a resumed build skips this pass);
 *   2. keep each item that is such a class itself (P279*) or an instance of one (P31/P279*), with its English label
 *      and description.
 * With `categories: 'all'` only pass 2 runs and every item with an English label and description is kept.
 *
 * Resumable: progress (the last committed dump line) is stored in `meta` in the same transaction as the entities,
 * and entities are INSERT OR IGNORE, so rerunning the same command continues where it stopped.
 */
import { resolve } from 'node:path';
import type { Category } from './categories.js';
import { claimItemIds, dumpLines, englishTerms, parseDumpLine, qidNumber, type DumpProgress } from './dump.js';
import { entityText, KnowledgeStore, type Entity } from './store.js';

export interface BuildProgress {
  pass: 1 | 2;
  lines: number;
  /** Items kept so far (pass 2) or P279 edges collected (pass 1). */
  kept: number;
  bytesRead: number;
  totalBytes: number;
  /** Lines per second in this pass. */
  rate: number;
}

export interface WikidataBuildOptions {
  dump: string;
  out: string;
  /** Category classes, or 'all'. */
  categories: Category[] | 'all';
  /** Called for each malformed dump line (it is skipped). */
  onMalformed?: (lineNo: number, message: string) => void;
  onProgress?: (p: BuildProgress) => void;
  /** Milliseconds between progress callbacks (default 2000). */
  progressEveryMs?: number;
  /** Entities per transaction (default 5000). */
  batchSize?: number;
  /** Stop after this many dump lines of pass 2 (testing resumption). */
  maxLines?: number;
}

export interface WikidataBuildResult {
  lines: number;
  items: number;
  kept: number;
  inserted: number;
  noEnglish: number;
  malformed: number;
  /** Classes reaching a category (0 with 'all'). */
  classes: number;
  /** Line the build resumed after (0 for a fresh build). */
  resumedAfter: number;
  done: boolean;
  seconds: number;
}

const META_SOURCE = 'wikidata.source';
const META_PASS1 = 'wikidata.pass1';
const META_LINE = 'wikidata.line';
const META_DONE = 'wikidata.done';
const META_COUNTS = 'wikidata.counts';

/** Growing Int32 pair list. */
class EdgeList {
  child = new Int32Array(1 << 16);
  parent = new Int32Array(1 << 16);
  length = 0;
  push(c: number, p: number): void {
    if (this.length === this.child.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.child = grow(this.child);
      this.parent = grow(this.parent);
    }
    this.child[this.length] = c;
    this.parent[this.length] = p;
    this.length++;
  }
}

/**
 * Classes whose P279 closure reaches a category, with the bit mask of categories reached (bit i = categories[i]).
 * The category classes themselves are included.
 */
export function subclassClosure(edges: { child: Int32Array; parent: Int32Array; length: number }, roots: number[]): Map<number, number> {
  // CSR adjacency parent → children, over the distinct parents.
  const order = new Int32Array(edges.length);
  for (let i = 0; i < edges.length; i++) order[i] = i;
  order.sort((a, b) => edges.parent[a]! - edges.parent[b]!);
  const starts = new Map<number, [number, number]>();
  for (let i = 0; i < order.length; ) {
    const p = edges.parent[order[i]!]!;
    let j = i;
    while (j < order.length && edges.parent[order[j]!] === p) j++;
    starts.set(p, [i, j]);
    i = j;
  }
  const mask = new Map<number, number>();
  roots.forEach((root, bit) => {
    const b = 1 << bit;
    const stack = [root];
    const seen = new Set<number>([root]);
    while (stack.length) {
      const c = stack.pop()!;
      mask.set(c, (mask.get(c) ?? 0) | b);
      const range = starts.get(c);
      if (!range) continue;
      for (let k = range[0]; k < range[1]; k++) {
        const child = edges.child[order[k]!]!;
        if (!seen.has(child)) {
          seen.add(child);
          stack.push(child);
        }
      }
    }
  });
  return mask;
}

/** What a build is of: the dump path and the categories (a re-downloaded or completed file at the same path resumes). */
function sourceKey(dump: string, categories: Category[] | 'all'): string {
  return JSON.stringify({
    dump: resolve(dump),
    categories: categories === 'all' ? 'all' : categories.map((c) => c.qid),
  });
}

const ITEM_REF = /"id":"Q(\d+)"/g;

/**
 * Cheap pre-filter for pass 2: can this line's item be kept? Looks at every `"id":"Q…"` in the raw line (the item's
 * own id and every item it references, its P31 values among them), so it never rejects a line that would match;
 * only lines that pass are JSON-parsed.
 */
export function mayReachClass(line: string, classes: ReadonlyMap<number, number>): boolean {
  ITEM_REF.lastIndex = 0;
  for (let m = ITEM_REF.exec(line); m; m = ITEM_REF.exec(line)) {
    if (classes.has(Number(m[1]))) return true;
  }
  return false;
}

/** A dump line that is not even shaped like one JSON object (truncated, garbage). */
function misshapen(line: string): boolean {
  const s = line.trimEnd();
  return !(s.startsWith('{') && (s.endsWith('}') || s.endsWith('},')));
}

export async function buildWikidata(opts: WikidataBuildOptions): Promise<WikidataBuildResult> {
  const t0 = Date.now();
  const store = KnowledgeStore.open(opts.out);
  try {
    const key = sourceKey(opts.dump, opts.categories);
    const prev = store.getMeta(META_SOURCE);
    if (prev !== undefined && prev !== key) {
      throw new Error(
        `${opts.out} holds a Wikidata build from other input (${prev}); use another --out to build from ${opts.dump}`,
      );
    }
    store.setMeta(META_SOURCE, key);
    const cats = opts.categories;
    const every = opts.progressEveryMs ?? 2000;

    // Pass 1: the subclass graph → classes reaching the categories.
    let classes: Map<number, number> | undefined;
    if (cats !== 'all') {
      if (store.getMeta(META_PASS1) === 'done') {
        classes = new Map();
        for (const r of store.db.prepare('SELECT qid, mask FROM classes').raw().iterate() as IterableIterator<[number, number]>) {
          classes.set(r[0], r[1]);
        }
      } else {
        const edges = new EdgeList();
        const prog: DumpProgress = { bytesRead: 0, totalBytes: 0 };
        let lines = 0;
        let last = Date.now();
        const start = last;
        for await (const { line } of dumpLines(opts.dump, prog)) {
          lines++;
          if (opts.onProgress && Date.now() - last >= every) {
            last = Date.now();
            opts.onProgress({ pass: 1, lines, kept: edges.length, ...prog, rate: lines / ((last - start) / 1000) });
          }
          if (!line.includes('"P279"')) continue; // cheap filter: only classes need parsing here
          const parsed = parseDumpLine(line);
          if (parsed.kind !== 'entity') continue; // malformed lines are reported in pass 2
          const child = qidNumber(parsed.entity.id);
          if (child === undefined) continue;
          for (const p of claimItemIds(parsed.entity, 'P279')) edges.push(child, p);
        }
        classes = subclassClosure(edges, cats.map((c) => qidNumber(c.qid)!));
        const ins = store.db.prepare('INSERT OR REPLACE INTO classes (qid, mask) VALUES (?, ?)');
        store.transaction(() => {
          store.db.exec('DELETE FROM classes');
          for (const [q, m] of classes!) ins.run(q, m);
          store.setMeta(META_PASS1, 'done');
        });
        opts.onProgress?.({ pass: 1, lines, kept: edges.length, ...prog, rate: lines / ((Date.now() - start) / 1000) });
      }
    }

    // Pass 2: the items.
    const resumedAfter = Number(store.getMeta(META_LINE) ?? 0);
    const counts = { lines: 0, items: 0, kept: 0, inserted: 0, noEnglish: 0, malformed: 0 };
    if (resumedAfter > 0) Object.assign(counts, JSON.parse(store.getMeta(META_COUNTS) ?? '{}'));
    if (store.getMeta(META_DONE) === 'true') {
      return { ...counts, classes: classes?.size ?? 0, resumedAfter, done: true, seconds: (Date.now() - t0) / 1000 };
    }
    const batchSize = opts.batchSize ?? 5000;
    let pending: Entity[] = [];
    let lastLine = resumedAfter;
    const flush = (lineNo: number) => {
      const batch = pending;
      pending = [];
      store.transaction(() => {
        counts.inserted += store.insertEntities(batch);
        store.setMeta(META_LINE, String(lineNo));
        store.setMeta(META_COUNTS, JSON.stringify(counts));
      });
      lastLine = lineNo;
    };
    const prog: DumpProgress = { bytesRead: 0, totalBytes: 0 };
    let last = Date.now();
    const start = last;
    let seen = 0;
    let stoppedEarly = false;
    try {
      for await (const { lineNo, line } of dumpLines(opts.dump, prog)) {
        if (lineNo <= resumedAfter) continue;
        if (opts.maxLines !== undefined && seen >= opts.maxLines) {
          stoppedEarly = true;
          break;
        }
        seen++;
        counts.lines = lineNo;
        if (opts.onProgress && Date.now() - last >= every) {
          last = Date.now();
          opts.onProgress({ pass: 2, lines: lineNo, kept: counts.kept, ...prog, rate: seen / ((last - start) / 1000) });
        }
        if (classes && line.length > 2 && !mayReachClass(line, classes)) {
          if (misshapen(line)) {
            counts.malformed++;
            opts.onMalformed?.(lineNo, 'not a JSON object line (truncated?)');
          } else {
            counts.items++;
          }
          continue;
        }
        const parsed = parseDumpLine(line);
        if (parsed.kind === 'skip') continue;
        if (parsed.kind === 'error') {
          counts.malformed++;
          opts.onMalformed?.(lineNo, parsed.message);
          continue;
        }
        const e = parsed.entity;
        if ((e.type && e.type !== 'item') || !e.id.startsWith('Q')) continue;
        counts.items++;
        let m = 0;
        if (classes) {
          m = classes.get(qidNumber(e.id) ?? -1) ?? 0;
          for (const c of claimItemIds(e, 'P31')) m |= classes.get(c) ?? 0;
          if (m === 0) continue;
        }
        const terms = englishTerms(e);
        if (!terms) {
          counts.noEnglish++;
          continue;
        }
        counts.kept++;
        pending.push({
          id: e.id,
          label: terms.label,
          description: terms.description,
          text: entityText(terms.label, terms.description),
          source: 'wikidata',
          categories: cats === 'all' ? [] : cats.filter((_, i) => m & (1 << i)).map((c) => c.name),
        });
        if (pending.length >= batchSize) flush(lineNo);
      }
    } catch (err) {
      // A broken stream (truncated download…): keep what was read, so fixing the file and rerunning resumes here.
      if (counts.lines > lastLine) flush(counts.lines);
      throw err;
    }
    flush(counts.lines || lastLine);
    if (!stoppedEarly) store.setMeta(META_DONE, 'true');
    opts.onProgress?.({ pass: 2, lines: counts.lines, kept: counts.kept, ...prog, rate: seen / Math.max(1e-3, (Date.now() - start) / 1000) });
    return {
      ...counts,
      classes: classes?.size ?? 0,
      resumedAfter,
      done: !stoppedEarly,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    store.close();
  }
}
