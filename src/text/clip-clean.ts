/**
 * Text as openai/CLIP's tokenizer cleans it before BPE (`simple_tokenizer.py`: `ftfy.fix_text`, `html.unescape` twice,
 * strip, runs of whitespace → one space; lower-casing is left to the tokenizer, which lower-cases too). KAT embedded its
 * Wikidata entity texts through that tokenizer; transformers.js' CLIP tokenizer does only NFC, whitespace and lower case.
 *
 * `fixText` ports the steps of ftfy 6's `fix_text` (default config) that can change a Wikidata name, written from ftfy's
 * documentation (docs/fixes.rst and the fixers' docstrings, rspeer/python-ftfy): per line, repeated until nothing changes —
 * HTML entities ending in ';' (unless the text holds a '<'), C1 controls read as Windows-1252, Latin ligatures and
 * digraphs split, full-/half-width forms to standard width (U+3000 to a space), curly quotes straightened, line breaks to
 * '\n', lone surrogates to U+FFFD, ANSI terminal escapes and unintended control characters removed, then NFC.
 * Not ported: `fix_encoding` (mojibake detection: a heuristic over byte-level re-decodings, which no clean Wikidata label
 * needs) and the all-caps entity spellings (`&EACUTE;`). Hand-written because no npm package ports ftfy; the HTML entity
 * table is npm `entities` (Python's `html.unescape` follows the same HTML5 rules).
 */
import { decodeHTML, decodeHTMLStrict } from 'entities';

/** ftfy's ligature/digraph table (fix_latin_ligatures): each character → the letters it stands for. */
const LIGATURES: Readonly<Record<string, string>> = {
  'Ĳ': 'IJ', 'ĳ': 'ij', 'ŉ': 'ʼn', 'Ǳ': 'DZ', 'ǲ': 'Dz', 'ǳ': 'dz', 'Ǆ': 'DŽ', 'ǅ': 'Dž', 'ǆ': 'dž',
  'Ǉ': 'LJ', 'ǈ': 'Lj', 'ǉ': 'lj', 'Ǌ': 'NJ', 'ǋ': 'Nj', 'ǌ': 'nj',
  'ﬀ': 'ff', 'ﬁ': 'fi', 'ﬂ': 'fl', 'ﬃ': 'ffi', 'ﬄ': 'ffl', 'ﬅ': 'ſt', 'ﬆ': 'st',
};
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join('')}]`, 'gu');

/** Halfwidth and Fullwidth Forms (U+FF01–U+FFEF) whose NFKC form differs, and the ideographic space. */
const WIDTH_RE = /[\u3000\uff01-\uffef]/gu;
function standardWidth(ch: string): string {
  return ch === '\u3000' ? ' ' : ch.normalize('NFKC');
}

const SINGLE_QUOTES = /[\u02bc\u2018-\u201b]/gu;
const DOUBLE_QUOTES = /[\u201c-\u201f]/gu;
const LINE_BREAKS = /\r\n|[\r\u2028\u2029\u0085]/gu;
const ANSI_ESCAPE = /\x1b\[(?:\d|;)*[a-zA-Z]/gu;
/** ASCII controls except \t \n \f \r, DEL, deprecated Arabic format controls, BOM, interlinear annotation and U+FFFC. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/gu;
const C1 = /[\x80-\x9f]/gu;
/**
 * Windows-1252 bytes 0x80–0x9F (the five it leaves undefined keep their code point, as ftfy's sloppy codec does). A
 * table because Node's TextDecoder treats 'windows-1252' as Latin-1.
 */
const CP1252_C1 = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const HTML_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;
/** A UTF-16 surrogate without its partner (a pair is one character in a JS string already). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** ftfy's unescape_html: only complete `&…;` references; a numeric one that does not decode whole stays as it is. */
function unescapeEntities(text: string): string {
  return text.replace(HTML_ENTITY, (m) => {
    const d = m.startsWith('&#') ? decodeHTML(m) : decodeHTMLStrict(m);
    return d.includes(';') ? m : d;
  });
}

function fixSegment(segment: string, unescape: boolean): string {
  let text = segment;
  for (;;) {
    const before = text;
    if (unescape) text = unescapeEntities(text);
    text = text
      .replace(C1, (c) => CP1252_C1[c.charCodeAt(0) - 0x80]!)
      .replace(LIGATURE_RE, (c) => LIGATURES[c]!)
      .replace(WIDTH_RE, standardWidth)
      .replace(DOUBLE_QUOTES, '"')
      .replace(SINGLE_QUOTES, "'")
      .replace(LINE_BREAKS, '\n')
      .replace(LONE_SURROGATE, '\ufffd')
      .replace(ANSI_ESCAPE, '')
      .replace(CONTROL, '')
      .normalize('NFC');
    if (text === before) return text;
  }
}

/** ftfy 6 `fix_text` (default config) without its mojibake repair: see the module header. */
export function fixText(text: string): string {
  let unescape = true;
  let out = '';
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl + 1;
    const segment = text.slice(pos, end);
    // as ftfy: once a segment holds '<' (HTML, where entities are meant), entities are left alone from there on
    if (segment.includes('<')) unescape = false;
    out += fixSegment(segment, unescape);
    pos = end;
  }
  return out;
}

/** Python's `str.isspace()` characters (what `re`'s `\s` and `str.strip()` mean on str). */
const PY_SPACE_RUN = /[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/gu;

/** openai/CLIP's `whitespace_clean(basic_clean(text))`: ftfy, `html.unescape` twice, whitespace collapsed and stripped. */
export function clipCleanText(text: string): string {
  const unescaped = decodeHTML(decodeHTML(fixText(text)));
  return unescaped.replace(PY_SPACE_RUN, ' ').replace(/^ | $/g, '');
}
