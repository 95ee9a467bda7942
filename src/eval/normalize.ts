import { CONTRACTIONS } from './contractions.js';

/**
 * Answer normalisation of the official VQA evaluator (GT-Vision-Lab/VQA `vqaEval.py`), reproduced with its quirks:
 * punctuation checks look at the ORIGINAL text, the period regex removes at most 32 periods (the script passes
 * `re.UNICODE`, whose value is 32, as `count`), `\d` is ASCII, and whitespace follows Python's `str.split()`/`strip()`.
 */

const PUNCT = [';', '/', '[', ']', '"', '{', '}', '(', ')', '=', '+', '\\', '_', '-', '>', '<', '@', '`', ',', '?', '!'];
const MANUAL_MAP: Readonly<Record<string, string>> = {
  none: '0', zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10',
};
const ARTICLES = new Set(['a', 'an', 'the']);
const COMMA_STRIP = /(\d)(,)(\d)/;
/** Python's whitespace for str.split()/str.strip(). */
const PY_WS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_SPLIT = new RegExp(`[${PY_WS}]+`);
const PY_STRIP = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, 'g');
const PERIOD_MAX_REPLACEMENTS = 32;

export function pyStrip(s: string): string {
  return s.replace(PY_STRIP, '');
}

export function pySplit(s: string): string[] {
  return pyStrip(s).split(PY_SPLIT).filter((w) => w !== '');
}

/** True when `c` is a Python whitespace code unit other than the plain space (those need the general regex path). */
function isOtherPyWhitespace(c: number): boolean {
  return c < 32 ? c >= 9 && (c <= 13 || c >= 28) : c >= 0x85 && PY_WS_RE.test(String.fromCharCode(c));
}
const PY_WS_RE = new RegExp(`[${PY_WS}]`);

const MANUAL = new Map(Object.entries(MANUAL_MAP));
const CONTRACTION = new Map(Object.entries(CONTRACTIONS));
/** 1 for the punctuation characters of the official list (all ASCII). */
const IS_PUNCT = new Uint8Array(128);
for (const p of PUNCT) IS_PUNCT[p.charCodeAt(0)] = 1;
const PERIOD = 46;

/** `\n` and `\t` become spaces, then Python strip(): applied to every answer and prediction. */
export function cleanWhitespace(s: string): string {
  const n = s.length;
  // Fast path: nothing to replace and no whitespace at either end.
  if (n > 0 && s.charCodeAt(0) > 32 && s.charCodeAt(n - 1) > 32 && s.charCodeAt(0) < 0x85 && s.charCodeAt(n - 1) < 0x85 &&
      s.indexOf('\n') < 0 && s.indexOf('\t') < 0) {
    return s;
  }
  return pyStrip(s.replaceAll('\n', ' ').replaceAll('\t', ' '));
}

/**
 * The script loops over its punctuation list, replacing each character everywhere by '' (when that character has a space
 * beside it somewhere in the ORIGINAL text, or the text has a digit,digit comma) or by ' '. Replacements never create
 * punctuation, so one pass over the characters gives the same result; then up to 32 periods not followed by a digit go.
 */
export function processPunctuation(inText: string): string {
  const n = inText.length;
  let first = -1;
  for (let i = 0; i < n; i++) {
    const c = inText.charCodeAt(i);
    if (c < 128 && (IS_PUNCT[c] === 1 || c === PERIOD)) {
      first = i;
      break;
    }
  }
  if (first < 0) return inText;
  let out = inText;
  if (IS_PUNCT[inText.charCodeAt(first)] === 1 || hasPunct(inText, first + 1)) {
    const commaBetweenDigits = COMMA_STRIP.test(inText);
    // Per punctuation character: removed ('') or replaced by a space, decided on the original text.
    const decided = new Map<number, string>();
    out = '';
    let from = 0;
    for (let i = first; i < n; i++) {
      const c = inText.charCodeAt(i);
      if (c >= 128 || IS_PUNCT[c] !== 1) continue;
      let rep = decided.get(c);
      if (rep === undefined) {
        const p = inText[i]!;
        rep = commaBetweenDigits || inText.includes(p + ' ') || inText.includes(' ' + p) ? '' : ' ';
        decided.set(c, rep);
      }
      out += inText.slice(from, i) + rep;
      from = i + 1;
    }
    out += inText.slice(from);
  }
  // periodStrip "(?!<=\d)(\.)(?!\d)": the lookahead "(?!<=\d)" always passes, so: a period not followed by a digit.
  if (out.indexOf('.') < 0) return out;
  let removed = 0;
  let result = '';
  let from = 0;
  const m = out.length;
  for (let i = out.indexOf('.'); i >= 0 && i < m && removed < PERIOD_MAX_REPLACEMENTS; i = out.indexOf('.', i + 1)) {
    const next = i + 1 < m ? out.charCodeAt(i + 1) : -1;
    if (next >= 48 && next <= 57) continue;
    result += out.slice(from, i);
    from = i + 1;
    removed++;
  }
  return result + out.slice(from);
}

function hasPunct(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && IS_PUNCT[c] === 1) return true;
  }
  return false;
}

export function processDigitArticle(inText: string): string {
  const lower = inText.toLowerCase();
  let split = false;
  let spaces = false;
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if (c === 32) spaces = true;
    else if (isOtherPyWhitespace(c)) {
      split = true;
      break;
    }
  }
  if (!split && !spaces) {
    // One word (or none): the common case.
    if (lower === '') return '';
    const w = MANUAL.get(lower) ?? lower;
    return ARTICLES.has(w) ? '' : CONTRACTION.get(w) ?? w;
  }
  const words = split ? pySplit(lower) : lower.split(' ');
  let out = '';
  let any = false;
  for (let w of words) {
    if (w === '') continue;
    const mapped = MANUAL.get(w);
    if (mapped !== undefined) w = mapped;
    if (ARTICLES.has(w)) continue;
    const c = CONTRACTION.get(w);
    out += (any ? ' ' : '') + (c ?? w);
    any = true;
  }
  return out;
}

/** Full normalisation used when the ten answers disagree. */
export function normalizeAnswer(s: string): string {
  return processDigitArticle(processPunctuation(s));
}

/**
 * Python's round(x, ndigits): correctly rounded on the exact binary value, ties to even.
 * JS toFixed is also exact but breaks ties upwards; an exact tie at n decimals is x = j / 2^(n+1) with j odd.
 */
export function pyRound(x: number, ndigits = 2): number {
  if (!Number.isFinite(x)) return x;
  const scale2 = 2 ** (ndigits + 1);
  const j = x * scale2;
  if (Number.isInteger(j) && Math.abs(j % 2) === 1) {
    const y = x * 10 ** ndigits; // exact: j * 5^n / 2
    const lo = Math.floor(y);
    const r = lo % 2 === 0 ? lo : lo + 1;
    return r / 10 ** ndigits;
  }
  return Number(x.toFixed(ndigits));
}
