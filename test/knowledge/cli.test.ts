import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { packagePaths } from '../../src/core/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'okvqa-kbcli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());
const root = packagePaths().root;

async function cli(...args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
  try {
    const program = await buildProgram();
    program.exitOverride();
    await program.parseAsync(['node', 'okvqa', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { out, err };
}

const json = (s: string) => JSON.parse(s) as Record<string, any>;

describe('okvqa kb', () => {
  it('build --wikidata, stats, get: JSON on stdout only; malformed lines reported on stderr with their number', async () => {
    const kb = join(dir, 'wd.sqlite');
    const dump = join(root, 'test', 'fixtures', 'wikidata', 'mini-dump.json');
    const b = await cli('kb', 'build', '--wikidata', dump, '--out', kb, '--json');
    expect(json(b.out)).toMatchObject({ kept: 7, malformed: 1 });
    expect(b.err).toMatch(/mini-dump\.json:6: malformed line skipped/);
    expect(json((await cli('kb', 'stats', '--kb', kb, '--json')).out)).toMatchObject({ entities: 7, embedded: {} });
    const got = json((await cli('kb', 'get', '--kb', kb, 'Q9003', '--json')).out);
    expect(got).toMatchObject({ id: 'Q9003', label: 'Rex', description: 'famous lap dog', text: 'Rex is a famous lap dog', source: 'wikidata' });
    await expect(cli('kb', 'get', '--kb', kb, 'Q1', '--json')).rejects.toThrow(/no entity "Q1"/);
  });

  it('WordNet end to end offline with the tiny CLIP: build, embed (resumable), stats, search by text and image', async () => {
    const kb = join(dir, 'wn.sqlite');
    const tiny = ['--profile', 'tiny', '--set', 'cache.mode=off'];
    await cli('kb', 'build', '--wordnet', '--pos', 'noun', '--limit', '60', '--out', kb, '--quiet');
    const first = json((await cli('kb', 'embed', '--kb', kb, '--limit', '25', '--quiet', '--json', ...tiny)).out);
    expect(first).toMatchObject({ model: 'okvqa-tiny/clip', embedded: 25, total: 60 });
    const rest = json((await cli('kb', 'embed', '--kb', kb, '--quiet', '--json', ...tiny)).out);
    expect(rest.embedded).toBe(35);
    expect(json((await cli('kb', 'stats', '--kb', kb, '--json')).out)).toMatchObject({
      entities: 60,
      embedded: { 'okvqa-tiny/clip': 60 },
    });
    const byText = json((await cli('kb', 'search', '--kb', kb, '--text', 'a physical entity', '-k', '4', '--json', ...tiny)).out);
    expect(byText.model).toBe('okvqa-tiny/clip');
    expect(byText.hits).toHaveLength(4);
    expect(Object.keys(byText.hits[0])).toEqual(expect.arrayContaining(['id', 'label', 'description', 'text', 'source', 'score']));
    const img = join(root, 'test', 'fixtures', 'images', 'coffee.png');
    const byImage = json((await cli('kb', 'search', '--kb', kb, '--image', img, '-k', '3', '--approximate', '--json', ...tiny)).out);
    expect(byImage.hits).toHaveLength(3);
    const exact = json((await cli('kb', 'search', '--kb', kb, '--image', img, '-k', '3', '--exact', '--json', ...tiny)).out);
    expect(exact.hits[0].id).toBe(byImage.hits[0].id);
    const fts = json((await cli('kb', 'search', '--kb', kb, '--fts', 'physical existence', '--json')).out);
    expect(fts.hits[0].id).toBe('wn:n00001930');
  });
});
