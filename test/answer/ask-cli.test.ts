import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/core/hash.js';
import { cleanEnv, okvqa, repoRoot } from '../helpers/cli.js';

const COFFEE = join(repoRoot, 'test', 'fixtures', 'images', 'coffee.png');
const MINI = join(repoRoot, 'test', 'fixtures', 'okvqa-mini', 'data.json');

// Uses the built CLI (npm run build first), as a user would.
describe('okvqa ask', () => {
  it('answers about an image file with no COCO id and prints JSON with the image identity and the candidates', () => {
    const r = okvqa(['ask', COFFEE, 'What is in the cup?', '--pipeline', 'prior', '--data', MINI, '--json', '--set', 'cache.mode=off']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.pipeline).toBe('prior');
    expect(out.ok).toBe(true);
    expect(typeof out.answer).toBe('string');
    expect(out.answer).toBe(out.candidates[0].answer);
    expect(out.image.hash).toBe(sha256(readFileSync(COFFEE)));
    expect(out.image.id).toBeUndefined();
    expect(out.timings.map((t: { node: string }) => t.node)).toEqual(['candidates', 'answer']);
  });

  it('pica-base on a photo with no captions or tags file: caption.model and whole-image tags.clip stand in, and it says so', () => {
    const r = okvqa(['ask', COFFEE, 'What is in the cup?', '--pipeline', 'pica-base', '--profile', 'tiny', '--json', '--set', 'cache.mode=off']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/node "captions" uses caption\.model instead of caption\.file \(no captions file in the data\)/);
    expect(r.stderr).toMatch(/node "tags" uses tags\.clip instead of tags\.file/);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    expect(out.adaptations.map((a: { node: string; to: string }) => `${a.node}:${a.to}`)).toEqual(['captions:caption.model', 'tags:tags.clip']);
    expect(out.captions[0].source).toBe('model:okvqa-tiny/captioner');
    expect(out.tags.length).toBe(5);
    expect(out.tags.every((t: { region?: number }) => t.region === undefined)).toBe(true); // whole-image tags
    expect(out.nodes.prompts.output[0].prompt).toContain(`${out.captions[0].text}. ${out.tags.map((t: { label: string }) => t.label).join(', ')}`);
  });

  it('kat on a photo (tiny profile, bundled KB): KAT passages read with their attribution', () => {
    const r = okvqa(['ask', COFFEE, 'What is in the cup?', '--pipeline', 'kat', '--profile', 'tiny', '--json', '--set', 'cache.mode=off']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    expect(out.pipeline).toBe('kat');
    expect(out.passages.length).toBeGreaterThan(40); // 40 explicit (cycled) + the implicit ones
    expect(out.passages[0].text).toMatch(/^title: (.+) context: \1 is a /);
    expect(out.passages.at(-1).text).toMatch(/^candidate: .* evidence: /);
    expect(out.passages.every((p: { attribution?: number }) => typeof p.attribution === 'number')).toBe(true);
  });

  it('reads the image from stdin with -', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'okvqa.js'), 'ask', '-', 'What is in the cup?', '--pipeline', 'prior', '--data', MINI, '--json', '--set', 'cache.mode=off'], {
      cwd: repoRoot,
      env: cleanEnv(),
      input: readFileSync(COFFEE),
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.image.hash).toBe(sha256(readFileSync(COFFEE)));
    expect(out.image.path).toBe(`memory:${out.image.hash}`);
  });

  it('prints a readable answer; a missing image is an error naming the file, exit code 1', () => {
    const ok = okvqa(['ask', COFFEE, 'What is in the cup?', '--pipeline', 'prior', '--data', MINI, '--set', 'cache.mode=off']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^answer: \S.*\(score /m);
    expect(ok.stdout).toMatch(/^candidates: /m);
    expect(ok.stdout).toMatch(/^time: \d+ ms — candidates \d+/m);
    const bad = okvqa(['ask', join(repoRoot, 'no-such.jpg'), 'What is this?', '--pipeline', 'prior', '--data', MINI, '--set', 'cache.mode=off']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/no answer: input \(input\): .*no-such\.jpg/);
  });
});
