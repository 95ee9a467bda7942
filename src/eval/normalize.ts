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

function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** `\n` and `\t` become spaces, then Python strip(): applied to every answer and prediction. */
export function cleanWhitespace(s: string): string {
  return pyStrip(s.replaceAll('\n', ' ').replaceAll('\t', ' '));
}

export function processPunctuation(inText: string): string {
  let out = inText;
  const commaBetweenDigits = COMMA_STRIP.test(inText);
  for (const p of PUNCT) {
    if (inText.includes(p + ' ') || inText.includes(' ' + p) || commaBetweenDigits) out = out.replaceAll(p, '');
    else out = out.replaceAll(p, ' ');
  }
  // periodStrip "(?!<=\d)(\.)(?!\d)": the lookahead "(?!<=\d)" always passes, so: a period not followed by a digit.
  let n = 0;
  return out.replace(/\.(?![0-9])/g, (m) => (n++ < PERIOD_MAX_REPLACEMENTS ? '' : m));
}

export function processDigitArticle(inText: string): string {
  const words: string[] = [];
  for (let w of pySplit(inText.toLowerCase())) {
    if (hasOwn(MANUAL_MAP, w)) w = MANUAL_MAP[w]!;
    if (!ARTICLES.has(w)) words.push(w);
  }
  return words.map((w) => (hasOwn(CONTRACTIONS, w) ? CONTRACTIONS[w]! : w)).join(' ');
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
