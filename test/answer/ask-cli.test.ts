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
