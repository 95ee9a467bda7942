/**
 * Node outputs as the report embeds them: the same JSON, minus what only makes the page heavy (embedding vectors,
 * per-token log-probabilities, the in-context part of long prompts). Every cut is marked in the value itself.
 */

export interface CompactOptions {
  /** Longest string kept whole; longer ones keep their tail (the question-specific end of a prompt). Default 1,500. */
  maxString?: number;
  /** Longest list kept whole (examples, tags…); default 100. */
  maxList?: number;
}

const DROP_KEYS = new Set(['embedding', 'tokens']);

/** What the report keeps of an in-context example: the question and its answer (the rest is in trace.jsonl). */
function compactExample(e: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { question: e.question, answer: e.answer };
  if (typeof e.similarity === 'number') out.similarity = e.similarity;
  return out;
}

/** Compact a node output, knowing its artifact kind when the stage is known. */
export function compactOutput(value: unknown, kind: string | undefined, opts: CompactOptions = {}): unknown {
  if (kind === 'examples' && Array.isArray(value)) {
    return compactValue(value.map((e) => (e && typeof e === 'object' ? compactExample(e as Record<string, unknown>) : e)), opts);
  }
  return compactValue(value, opts);
}

export function compactValue(value: unknown, opts: CompactOptions = {}, depth = 0): unknown {
  const maxString = opts.maxString ?? 1500;
  const maxList = opts.maxList ?? 100;
  if (typeof value === 'string') {
    if (value.length <= maxString) return value;
    return `[… ${value.length - maxString} earlier characters not in the report; see trace.jsonl]\n` + value.slice(value.length - maxString);
  }
  if (typeof value === 'number') return Number.isFinite(value) ? Number(value.toPrecision(5)) : String(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '[nested too deep]';
  if (Array.isArray(value)) {
    // A plain vector (an embedding artifact): say what it was.
    if (value.length > 16 && value.every((x) => typeof x === 'number')) return `[vector of ${value.length} numbers]`;
    const kept = value.slice(0, maxList).map((v) => compactValue(v, opts, depth + 1));
    if (value.length > maxList) kept.push(`[… ${value.length - maxList} more items in trace.jsonl]`);
    return kept;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'attribution' && Array.isArray(v)) {
      // One score per passage read, all of them (the page aligns them with the passages using each list's full length).
      out[k] = v.map((x) => (typeof x === 'number' && Number.isFinite(x) ? Number(x.toPrecision(4)) : null));
      continue;
    }
    if (DROP_KEYS.has(k) && Array.isArray(v)) {
      out[k] = `[${v.length} items not in the report]`;
      continue;
    }
    out[k] = compactValue(v, opts, depth + 1);
  }
  return out;
}
