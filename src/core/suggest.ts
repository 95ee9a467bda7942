/** Edit distance (Levenshtein) between two short strings. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known name nearest to `name` (case-insensitive edit distance), or undefined when nothing is reasonably close. */
export function nearest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const n = name.toLowerCase();
  for (const k of known) {
    const kl = k.toLowerCase();
    // A key that merely misses or adds its section prefix ("model" for "llm.model") counts as close.
    const d = kl.endsWith(`.${n}`) || n.endsWith(`.${kl}`) ? 1 : editDistance(n, kl);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** ` (did you mean X?)` or, when nothing is close, the list of known names. */
export function didYouMean(name: string, known: readonly string[], listAll = true): string {
  const n = nearest(name, known);
  if (n) return ` (did you mean ${n}?)`;
  return listAll && known.length ? ` (known: ${known.join(', ')})` : '';
}
