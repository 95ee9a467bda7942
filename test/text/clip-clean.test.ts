import { describe, expect, it } from 'vitest';
import { clipCleanText, fixText } from '../../src/text/clip-clean.js';
import { pythonMissing, runPython } from '../helpers/python.js';
import { itNeeds } from '../helpers/requires.js';

// Expected outputs are the examples of ftfy's documentation (the docstrings of ftfy/fixes.py, docs/fixes.rst) and what
// those documents state each fixer does.
describe("ftfy's fix_text steps that can change a Wikidata name", () => {
  it('curly quotes (uncurl_quotes), including MODIFIER LETTER APOSTROPHE', () => {
    expect(fixText('\u201chere\u2019s a test\u201d')).toBe('"here\'s a test"');
    expect(fixText('\u2018Aloha\u2019 \u201bx\u201f O\u02bcahu')).toBe("'Aloha' 'x\" O'ahu");
  });

  it('Latin ligatures and digraphs (fix_latin_ligatures); other ligatures stay', () => {
    expect(fixText('ﬂuﬃeﬆ')).toBe('fluffiest');
    expect(fixText('ĳs ǅ ǈ ǋ ﬁ ﬀ')).toBe('ijs Dž Lj Nj fi ff');
    expect(fixText('ŉ')).toBe("'n"); // ʼn, then the modifier apostrophe is uncurled
    expect(fixText('æ œ')).toBe('æ œ');
  });

  it('full-width and half-width forms (fix_character_width); U+3000 becomes a space', () => {
    expect(fixText('ＬＯＵＤ　ＮＯＩＳＥＳ')).toBe('LOUD NOISES');
    expect(fixText('Ｕﾀｰﾝ')).toBe('Uターン');
  });

  it('NFC', () => {
    expect(fixText('Pe\u0301rez')).toBe('P\u00e9rez');
    expect(fixText('Pe\u0301rez').length).toBe(5);
  });

  it('control characters (remove_control_chars, remove_terminal_escapes, fix_c1_controls, fix_surrogates)', () => {
    expect(fixText('a\u0000b\u0007c\u000bd\u001fe\u007ff\u206ag\ufeffh\ufffbi\ufffcj')).toBe('abcdefghij');
    expect(fixText('tab\there\fform')).toBe('tab\there\fform'); // whitespace controls stay
    expect(fixText('zw\u200dj rtl\u200f')).toBe('zw\u200dj rtl\u200f'); // joiners and direction marks stay
    expect(fixText("\u001b[36;44mI'm blue, da ba dee da ba doo...\u001b[0m")).toBe("I'm blue, da ba dee da ba doo...");
    expect(fixText('\u0080 \u0093x\u0094')).toBe('€ "x"'); // C1 read as Windows-1252, then uncurled
    expect(fixText('a\ud83d\udca9b \udca9\ud83d')).toBe('a\ud83d\udca9b \ufffd\ufffd');
    // NEXT LINE is a C1 control: read as Windows-1252 first (…), before line breaks are unified
    expect(clipCleanText(' a\u2003b\u0085c\u001cd ')).toBe('a b…cd');
  });

  it('line breaks (fix_line_breaks) and HTML entities (unescape_html) unless the text holds "<"', () => {
    expect(fixText('Content-type: text/plain\r\n\r\nHi.')).toBe('Content-type: text/plain\n\nHi.');
    expect(fixText('two things:\u20291. Unicode\u20282. Spite')).toBe('two things:\n1. Unicode\n2. Spite');
    expect(fixText('P&eacute;rez')).toBe('Pérez');
    expect(fixText('&lt;tag&gt;')).toBe('<tag>');
    expect(fixText('this&not that')).toBe('this&not that'); // no semicolon: left alone
    expect(fixText('<b>P&eacute;rez</b>')).toBe('<b>P&eacute;rez</b>');
  });

  it("CLIP's cleaning: fix_text, html.unescape twice, whitespace collapsed; plain names unchanged", () => {
    expect(clipCleanText('  Douglas\u00a0Adams is a\tEnglish  writer \n')).toBe('Douglas Adams is a English writer');
    expect(clipCleanText('ﬁsh &amp;amp; chips is a “dish”')).toBe('fish & chips is a "dish"');
    expect(clipCleanText('Pe\u0301rez\u3000ＦＣ')).toBe('Pérez FC');
    expect(clipCleanText('apple is a fruit of the apple tree')).toBe('apple is a fruit of the apple tree');
  });

  const missing = pythonMissing();
  itNeeds(missing)(`html.unescape twice and whitespace_clean equal Python's on strings ftfy leaves alone ${missing ? `(skipped: ${missing})` : ''}`, () => {
    const cases = ['&amp;lt;b&amp;gt; bold', 'caf&eacute &notit; x', '&#x80;&#0;&#128512;', ' a\u2003b\u00a0c\u2009d\n', 'A&amp;amp;amp;B'];
    const py = JSON.parse(
      runPython(
        `import html, json, re, sys
print(json.dumps([re.sub(r'\\s+', ' ', html.unescape(html.unescape(s)).strip()).strip() for s in json.load(sys.stdin)]))`,
        [],
        JSON.stringify(cases),
      ),
    ) as string[];
    for (const [i, c] of cases.slice(0, 4).entries()) expect(clipCleanText(c), JSON.stringify(c)).toBe(py[i]);
    // ftfy repeats its own unescaping until nothing changes, so three levels of escaping go where Python's two stop
    expect(py[4]).toBe('A&amp;B');
    expect(clipCleanText(cases[4]!)).toBe('A&B');
  });
});

describe('kb embed feeds CLIP the cleaned entity text, as KAT\'s CLIP tokenizer saw it', () => {
  it('an entity written with a ligature, curly quotes and full-width letters embeds as its plain spelling', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { KnowledgeStore } = await import('../../src/knowledge/store.js');
    const { embedKb } = await import('../../src/knowledge/embed.js');
    const { testContext } = await import('../helpers/context.js');
    const dir = mkdtempSync(join(tmpdir(), 'okvqa-clip-clean-'));
    try {
      const kb = join(dir, 'kb.sqlite');
      const store = KnowledgeStore.open(kb);
      const e = (id: string, text: string) => ({ id, label: id, description: '', text, source: 'test' });
      store.insertEntities([e('Q1', '“ﬁsh” is a ＦＯＯＤ'), e('Q2', '"fish" is a FOOD'), e('Q3', 'chips is a food')]);
      const ctx = testContext({ config: { models: { profile: 'tiny' } } });
      await embedKb(store, ctx);
      const m = store.loadMatrix('okvqa-tiny/clip');
      const row = (i: number) => Array.from(m.data.subarray(i * m.dim, (i + 1) * m.dim));
      expect(row(0)).toEqual(row(1));
      expect(row(0)).not.toEqual(row(2));
      expect(store.get('Q1')!.text).toBe('“ﬁsh” is a ＦＯＯＤ'); // the stored text is not rewritten
      store.close();
      await ctx.resources.disposeAll();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
