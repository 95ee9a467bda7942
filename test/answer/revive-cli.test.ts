import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { okvqa, repoRoot } from '../helpers/cli.js';

// The "done" commands, offline, through the built CLI: tiny models and the embedded tiny LLM (no server).
const dir = mkdtempSync(join(tmpdir(), 'okvqa-revive-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { OKVQA_CACHE_PATH: join(dir, 'cache.sqlite') };

describe('REVIVE from the command line (tiny profile, offline)', () => {
  it('okvqa run revive --data assets/demo/data.json answers every question with regions, tags, entities, rationales', () => {
    const out = join(dir, 'run');
    const r = okvqa(['run', 'revive', '--data', 'assets/demo/data.json', '--out', out, '--profile', 'tiny', '--no-progress'], env, 300_000);
    expect(r.stderr).toMatch(/revive: 3 answered, 0 failed/);
    expect(r.code).toBe(0);
    const trace = readFileSync(join(out, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(trace).toHaveLength(3);
    for (const q of trace) {
      expect(q.ok).toBe(true);
      expect(q.nodes.regions.output.length).toBeGreaterThan(0);
      expect(q.nodes.tags.output.every((t: { region?: number }) => typeof t.region === 'number')).toBe(true);
      expect(q.nodes.entities.output.every((p: { region?: number }) => typeof p.region === 'number')).toBe(true);
      expect(q.nodes.implicit.output.every((c: { evidence?: string }) => typeof c.evidence === 'string')).toBe(true);
      expect(q.nodes.answer.notes.regions).toBe(`${q.nodes.regions.output.length} visual tokens`);
    }
    expect(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).overall).toBeTypeOf('number');
  }, 300_000);

  it('okvqa ask <photo> --pipeline revive --profile tiny prints regions with tags, rationales, passages and the region note', () => {
    const photo = join(repoRoot, 'test', 'fixtures', 'images', 'coffee.png');
    const r = okvqa(['ask', photo, 'What is in the cup?', '--pipeline', 'revive', '--profile', 'tiny'], env, 300_000);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/profile tiny without --data: knowledge base and example pool from .*assets\/demo\/data\.json/);
    expect(r.stdout).toMatch(/^answer: /m);
    expect(r.stdout).toMatch(/^regions \(\d+\):\n {2,3}0 .*\[\d+, \d+, \d+, \d+\] {2}tags: /m);
    expect(r.stdout).toMatch(/^candidates \(implicit knowledge\):\n {2}.+ — /m);
    expect(r.stdout).toMatch(/^passages read \(\d+/m);
    expect(r.stdout).toMatch(/^note answer\.regions: \d+ visual tokens$/m);
    expect(r.stdout).toMatch(/^time: \d+ ms — regions \d+/m);
    const j = okvqa(['ask', photo, 'What is in the cup?', '--pipeline', 'revive', '--profile', 'tiny', '--json'], env, 300_000);
    expect(j.code).toBe(0);
    const res = JSON.parse(j.stdout);
    // same photo and question: the expensive nodes come from the cache
    const cached = Object.fromEntries(res.timings.map((t: { node: string; cached: boolean }) => [t.node, t.cached]));
    for (const n of ['regions', 'tags', 'entities', 'prompts', 'implicit']) expect(cached[n], n).toBe(true);
    // caption.auto itself is uncached (its notes must say where every caption came from); the model's caption is
    expect(res.notes.captions).toMatchObject({ captionSource: 'model', modelCached: true });
    expect(res.image.hash).toMatch(/^[0-9a-f]{64}$/);
  }, 300_000);
});
