import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot } from '../helpers/cli.js';

// The README's QA app, run verbatim (it imports 'okvqa', so it runs inside the package: npm run build first).
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const library = readme.slice(readme.indexOf('\n## A QA app\n'));
const block = [...library.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!).find((code) => code.includes('createServer'));
const dir = join(repoRoot, '.okvqa', `readme-app-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README: the QA app example', () => {
  it('serves an answer with passages and candidates for a posted photo', async () => {
    expect(block, 'README ## A QA app has a js block with the QA app').toBeDefined();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'qa-app.mjs');
    writeFileSync(file, block!);
    const child = spawn(process.execPath, [file], {
      cwd: repoRoot,
      env: { ...cleanEnv(), PORT: '0', OKVQA_CACHE_PATH: join(dir, 'cache.sqlite') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += String(d);
          const m = /listening on (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.on('exit', (code) => reject(new Error(`app exited with ${code}: ${stderr}`)));
      });
      const image = readFileSync(join(repoRoot, 'test', 'fixtures', 'images', 'coffee.png'));
      const res = await fetch(`http://127.0.0.1:${port}/?q=${encodeURIComponent('What is in the cup?')}`, { method: 'POST', body: image });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { answer: string | null; error?: string; passages: { text: string }[]; candidates: { answer: string; evidence?: string }[] };
      expect(body.error).toBeUndefined();
      expect(typeof body.answer).toBe('string');
      expect(body.passages.length).toBeGreaterThan(0);
      expect(body.candidates.length).toBeGreaterThan(0);
      for (const c of body.candidates) expect(typeof c.evidence).toBe('string');
    } finally {
      child.kill();
    }
  }, 120_000);
});
