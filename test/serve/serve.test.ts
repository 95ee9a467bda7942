import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import type { Answerer } from '../../src/answerer.js';
import { createQaServer, type QaServer } from '../../src/serve/server.js';
import { hasChromium, launch, noChromiumReason, screenshotDir, saveShot, screenshotStats, watchErrors } from '../helpers/browser.js';
import { TestLlmServer } from '../llm/server.js';
import { IMAGES } from '../report/fixture.js';
import { qaAnswerer, scriptLlm } from './qa-fixture.js';
import { describeNeeds } from '../helpers/requires.js';

const tmp = mkdtempSync(join(tmpdir(), 'okvqa-serve-'));
const allowed = join(tmp, 'allowed');
const outside = join(tmp, 'outside');
let llm: TestLlmServer;
let answerer: Answerer;
let qa: QaServer;
let base: string;

beforeAll(async () => {
  mkdirSync(allowed);
  mkdirSync(outside);
  copyFileSync(IMAGES.coffee, join(allowed, 'coffee.png'));
  copyFileSync(IMAGES.astronaut, join(outside, 'secret.png'));
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  symlinkSync(join(outside, 'secret.png'), join(allowed, 'link-out.png'));
  llm = await new TestLlmServer().start();
  scriptLlm(llm);
  answerer = qaAnswerer(llm, join(tmp, 'cache.sqlite'));
  qa = createQaServer({ answerer, allow: [allowed], limits: { maxUploadBytes: 2_000_000, maxPixels: 1_000_000, timeoutMs: 60_000, maxQueue: 2 } });
  base = (await qa.listen(0)).url;
}, 60_000);
afterAll(async () => {
  await qa?.close();
  await answerer?.close();
  await llm?.stop();
});

function upload(image: Buffer | undefined, question: string | undefined, name = 'photo.png'): Promise<Response> {
  const form = new FormData();
  if (question !== undefined) form.append('question', question);
  if (image) form.append('image', new Blob([new Uint8Array(image)]), name);
  return fetch(new URL('/api/answer', base), { method: 'POST', body: form });
}
const postJson = (body: unknown) => fetch(new URL('/api/answer', base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('okvqa serve: POST /api/answer', () => {
  it('listens on loopback and answers an uploaded photo with its knowledge', async () => {
    expect(new URL(base).hostname).toBe('127.0.0.1');
    const res = await upload(readFileSync(IMAGES.coffee), 'What is in the cup?');
    const body = (await res.json()) as Record<string, any>;
    expect(res.status, JSON.stringify(body).slice(0, 400)).toBe(200);
    expect(body.answer).toBe('coffee');
    expect(body.image).toMatchObject({ width: 600, height: 400 });
    expect(body.image.path).toBeUndefined(); // the server's temp path is not disclosed
    expect(body.captions.length).toBeGreaterThan(0); // no caption file: the captioning model made one
    expect(body.regions.length).toBeGreaterThan(0);
    expect(body.regions.some((r: { label?: string }) => r.label === 'cup')).toBe(true);
    expect(body.candidates[0].evidence).toContain('a cup of coffee is on the saucer');
    expect(body.passages.length).toBeGreaterThan(0);
    expect(body.passages.every((p: { attribution?: number }) => typeof p.attribution === 'number')).toBe(true);
    expect(body.nodes).toBeUndefined();
  });

  it('reads an image path inside the allowed folders, and nothing outside them', async () => {
    const ok = await postJson({ image: join(allowed, 'coffee.png'), question: 'What is in the cup?' });
    expect(ok.status).toBe(200);
    expect((await postJson({ image: 'coffee.png', question: 'What is in the cup?' })).status).toBe(200); // relative to the first folder
    const refused = [
      [join(outside, 'secret.png'), 403],
      [join(allowed, '..', 'outside', 'secret.png'), 403],
      ['../outside/secret.png', 403],
      ['../../../../../../etc/passwd', 403],
      ['/etc/passwd', 403],
      [join(allowed, 'link-out.png'), 403], // a symlink whose target lies outside
      [join(allowed, 'missing.png'), 404],
      ['file:///etc/passwd', 400],
      ['http://127.0.0.1/x.png', 400],
      [`coffee.png\0.txt`, 400],
    ] as const;
    for (const [image, status] of refused) {
      const res = await postJson({ image, question: 'What is it?' });
      const body = (await res.json()) as { error: string };
      expect(res.status, `${image}: ${body.error}`).toBe(status);
      expect(body.error).not.toContain('secret');
    }
  });

  it('refuses bad requests with a 4xx and a clear message', async () => {
    const png = readFileSync(IMAGES.coffee);
    const cases: [Promise<Response>, number, RegExp][] = [
      [upload(png, undefined), 400, /"question" is required/],
      [upload(png, '   '), 400, /"question" is required/],
      [upload(undefined, 'What?'), 400, /"image" is required/],
      [upload(Buffer.from('not an image at all'), 'What?'), 415, /not an image/],
      [upload(Buffer.alloc(2_100_000, 1), 'What?'), 413, /upload limit/],
      [upload(await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#888' } }).png().toBuffer(), 'What?'), 413, /1200×1000 = 1200000 pixels; the limit is 1000000/],
      [upload(png, 'x'.repeat(600)), 413, /question over 500/],
      [postJson({ image: 'coffee.png', question: 'q', extra: 1 }), 400, /unknown field/],
      [fetch(new URL('/api/answer', base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' }), 400, /not valid JSON/],
      [fetch(new URL('/api/answer', base), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }), 415, /multipart\/form-data/],
      [fetch(new URL('/api/answer', base)), 405, /POST/],
      [fetch(new URL('/nope', base)), 404, /no such endpoint/],
    ];
    for (const [p, status, msg] of cases) {
      const res = await p;
      const body = (await res.json()) as { error: string };
      expect(res.status, body.error).toBe(status);
      expect(body.error).toMatch(msg);
    }
  });

  it('queues concurrent requests and answers 503 beyond the queue limit', async () => {
    const png = readFileSync(IMAGES.astronaut);
    // Distinct questions so nothing is cached; concurrency 1, at most 2 waiting: of 4 at once, 3 are answered, 1 refused.
    const all = await Promise.all(Array.from({ length: 4 }, (_, i) => upload(png, `Who is this person number ${i}?`)));
    const codes = all.map((r) => r.status).sort();
    expect(codes).toEqual([200, 200, 200, 503]);
    const busy = all.find((r) => r.status === 503)!;
    expect(busy.headers.get('retry-after')).toBe('5');
    expect(((await busy.json()) as { error: string }).error).toMatch(/^busy: 1 question\(s\) running and 2 waiting/);
  }, 120_000);
});

describeNeeds(!hasChromium && noChromiumReason)(`okvqa serve page in headless chromium${hasChromium ? '' : ` (${noChromiumReason})`}`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('answers an uploaded photo: answer, regions on the image, passages with attribution, rationales', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    const errors = watchErrors(page);
    await page.goto(base);
    await page.waitForFunction(() => (window as unknown as { __okvqaServe?: { ready: boolean } }).__okvqaServe?.ready);
    await page.setInputFiles('#file', IMAGES.coffee);
    await page.fill('#question', 'What is in the cup?');
    await page.click('#ask');
    await page.waitForSelector('#answer', { timeout: 60_000 });
    expect(await page.locator('#answer').textContent()).toBe('coffee');
    expect(await page.locator('#status').textContent()).toMatch(/^Answered in/);
    expect(await page.locator('#pic image').count()).toBe(1);
    expect(await page.locator('#pic rect.box').count()).toBeGreaterThan(0);
    expect(await page.locator('#caption').textContent()).toMatch(/\S/);
    expect(await page.locator('table.passages tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('table.passages .meter').count()).toBeGreaterThan(0);
    expect(await page.locator('table.cands').textContent()).toContain('a cup of coffee is on the saucer');
    expect(errors).toEqual([]);
    const png = await page.screenshot({ fullPage: true });
    await saveShot(screenshotDir(join(tmp, 'shots')), 'serve.png', png);
    const s = await screenshotStats(png);
    expect(s.maxStdev).toBeGreaterThan(20);
    expect(s.distinctish).toBeGreaterThan(8);
    await page.close();
  }, 90_000);
});

describe('okvqa serve: request timeout', () => {
  it('answers 504 when the answer takes too long, and drops questions still waiting', async () => {
    let calls = 0;
    const slow = {
      pipeline: { name: 'slow' } as Answerer['pipeline'],
      adaptations: [],
      answer: async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 600));
        throw new Error('not reached in time');
      },
    } as unknown as Answerer;
    const server = createQaServer({ answerer: slow, limits: { timeoutMs: 300, maxQueue: 4 } });
    const url = (await server.listen(0)).url;
    try {
      const post = () => {
        const form = new FormData();
        form.append('question', 'Slow?');
        form.append('image', new Blob([readFileSync(IMAGES.coffee)]), 'c.png');
        return fetch(new URL('/api/answer', url), { method: 'POST', body: form });
      };
      const [a, b] = await Promise.all([post(), post()]);
      for (const r of [a, b]) {
        expect(r.status).toBe(504);
        expect(((await r.json()) as { error: string }).error).toBe('no answer within 0.3 s');
      }
      await new Promise((r) => setTimeout(r, 800));
      expect(calls).toBe(1); // the second question timed out while waiting and never ran
    } finally {
      await server.close();
    }
  });
});

describe('okvqa serve over the real revive pipeline (tiny profile, loopback LLM)', () => {
  it('answers an uploaded photo with reader.fid attribution over the passages', async () => {
    const { createAnswerer } = await import('../../src/answerer.js');
    const revive = createAnswerer({
      pipeline: 'revive',
      profile: 'tiny',
      config: { models: { offline: true }, llm: { baseURL: llm.baseURL, apiKey: 'test', model: 'test-davinci', maxRetries: 0 }, cache: { path: join(tmp, 'revive-cache.sqlite') } },
    });
    const server = createQaServer({ answerer: revive });
    const url = (await server.listen(0)).url;
    try {
      const form = new FormData();
      form.append('question', 'What is in the cup?');
      form.append('image', new Blob([readFileSync(IMAGES.coffee)]), 'coffee.png');
      const res = await fetch(new URL('/api/answer', url), { method: 'POST', body: form });
      const body = (await res.json()) as Record<string, any>;
      expect(res.status, String(body.error)).toBe(200);
      expect(body.pipeline).toBe('revive');
      expect(typeof body.answer).toBe('string');
      expect(body.captions.length).toBeGreaterThan(0);
      expect(body.regions.length).toBeGreaterThan(0);
      expect(body.candidates.some((c: { evidence?: string }) => c.evidence)).toBe(true);
      expect(body.passages.length).toBeGreaterThan(0);
      const att = body.passages.map((p: { attribution?: number }) => p.attribution);
      expect(att.every((a: unknown) => typeof a === 'number')).toBe(true);
    } finally {
      await server.close();
      await revive.close();
    }
  }, 120_000);
});
