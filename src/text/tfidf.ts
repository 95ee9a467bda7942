/** A small TF-IDF index with cosine similarity over an inverted index (sparse, exact). */

const STOP = new Set(['a', 'an', 'the', 'is', 'are', 'was', 'of', 'to', 'in', 'on', 'this', 'that', 'these', 'those', 'it', 'be', 'do', 'does', 'did', 'what', 'which', 'who', 'how', 'why', 'where', 'when', 'can', 'you', 'for', 'and', 'or', 'with', 'at', 'by', 'from', 'as', 'its']);

/** Lowercase word tokens; stop words kept out of unigrams but used for bigrams (question phrasing matters). */
export function tokenize(text: string, bigrams = true): string[] {
  const words = text.toLowerCase().match(/[a-z0-9]+(?:'[a-z]+)?/g) ?? [];
  const out = words.filter((w) => !STOP.has(w));
  if (bigrams) for (let i = 0; i + 1 < words.length; i++) out.push(`${words[i]}_${words[i + 1]}`);
  return out;
}

export interface Hit {
  index: number;
  score: number;
}

export class TfidfIndex {
  private readonly idf = new Map<string, number>();
  private readonly postings = new Map<string, { doc: number; w: number }[]>();
  readonly size: number;

  constructor(docs: readonly string[], private readonly useBigrams = true) {
    this.size = docs.length;
    const tokenized = docs.map((d) => tokenize(d, useBigrams));
    const df = new Map<string, number>();
    for (const toks of tokenized) for (const t of new Set(toks)) df.set(t, (df.get(t) ?? 0) + 1);
    for (const [t, n] of df) this.idf.set(t, Math.log((1 + docs.length) / (1 + n)) + 1);
    tokenized.forEach((toks, doc) => {
      const vec = this.weigh(toks);
      for (const [t, w] of vec) {
        let list = this.postings.get(t);
        if (!list) this.postings.set(t, (list = []));
        list.push({ doc, w });
      }
    });
  }

  /** L2-normalised tf-idf weights (sublinear tf). */
  private weigh(tokens: readonly string[]): Map<string, number> {
    const tf = new Map<string, number>();
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    const vec = new Map<string, number>();
    let norm = 0;
    for (const [t, n] of tf) {
      const idf = this.idf.get(t);
      if (idf === undefined) continue;
      const w = (1 + Math.log(n)) * idf;
      vec.set(t, w);
      norm += w * w;
    }
    norm = Math.sqrt(norm) || 1;
    for (const [t, w] of vec) vec.set(t, w / norm);
    return vec;
  }

  /** Cosine similarity of `text` with every document (0 for documents sharing no term). */
  scores(text: string): Float64Array {
    const out = new Float64Array(this.size);
    for (const [t, wq] of this.weigh(tokenize(text, this.useBigrams))) {
      for (const { doc, w } of this.postings.get(t) ?? []) out[doc]! += wq * w;
    }
    return out;
  }

  /** Top-k documents by cosine similarity; ties broken by document order. */
  search(text: string, k: number, exclude?: (index: number) => boolean): Hit[] {
    const scores = this.scores(text);
    const hits: Hit[] = [];
    scores.forEach((score, index) => {
      if (score > 0 && !exclude?.(index)) hits.push({ index, score });
    });
    hits.sort((a, b) => b.score - a.score || a.index - b.index);
    return hits.slice(0, k);
  }
}
