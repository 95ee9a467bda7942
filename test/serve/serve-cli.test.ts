import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot } from '../helpers/cli.js';

let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGTERM');
});

/** Start `okvqa serve` on a free port and wait for its URL. */
function serve(args: string[]): Promise<{ url: string; log: () => string }> {
  return new Promise((resolve, reject) => {
    let log = '';
    child = spawn(process.execPath, [join(repoRoot, 'bin', 'okvqa.js'), 'serve', '--port', '0', ...args], { cwd: repoRoot, env: { ...cleanEnv(), OKVQA_CACHE_PATH: ':memory:' } });
    const timer = setTimeout(() => reject(new Error(`no URL within 60 s:\n${log}`)), 60_000);
    child.stderr!.on('data', (d) => {
      log += d;
      const m = /at (http:\/\/\S+\/)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, log: () => log });
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${log}`)));
  });
}

describe('okvqa serve (CLI)', () => {
  it('listens on loopback, serves the page and the API, refuses paths outside --allow, stops on SIGTERM', async () => {
    const allowed = join(repoRoot, 'test', 'fixtures', 'images');
    const { url, log } = await serve(['--pipeline', 'prior', '--data', join(repoRoot, 'test/fixtures/okvqa-mini/data.json'), '--allow', allowed]);
    expect(new URL(url).hostname).toBe('127.0.0.1');
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain("connect-src 'self'");
    expect(await (await fetch(new URL('/api/health', url))).json()).toMatchObject({ ok: true, pipeline: 'prior' });
    const post = (image: string) => fetch(new URL('/api/answer', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image, question: 'What sport is this?' }) });
    const ok = await post(join(allowed, 'coffee.png'));
    const body = (await ok.json()) as { answer: string; image: { width: number } };
    expect(ok.status).toBe(200);
    expect(body.answer).toMatch(/\S/);
    expect(body.image.width).toBe(600);
    expect((await post(join(repoRoot, 'package.json'))).status).toBe(403);
    expect((await post(join(allowed, '..', '..', '..', 'package.json'))).status).toBe(403);
    expect(log()).toMatch(/POST \/api\/answer 403/);
    const exited = new Promise((r) => child!.once('exit', r));
    child!.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;
  }, 90_000);
});
