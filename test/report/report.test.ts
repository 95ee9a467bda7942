import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { okvqa } from '../helpers/cli.js';
import { hasChromium, launch, noChromiumReason, screenshotDir, saveShot, screenshotStats, watchErrors } from '../helpers/browser.js';
import { escapeHtml, jsonForScript } from '../../src/report/html.js';
import { makeReportFixture, PAYLOADS, PIPELINE, type ReportFixture } from './fixture.js';
import { describeNeeds } from '../helpers/requires.js';

let fx: ReportFixture;
let report: string;
let compare: string;

beforeAll(() => {
  fx = makeReportFixture();
  const env = { OKVQA_CACHE_PATH: join(fx.dir, 'cache.sqlite') };
  const common = ['--data', fx.dataPath, '--profile', 'tiny', '--offline', '--no-progress'];
  const a = okvqa(['run', PIPELINE, ...common, '--out', join(fx.dir, 'runA')], env);
  expect(a.stderr).toContain('4 answered, 0 failed');
  // Run B: the same pipeline voting with only the nearest training question (only candidates and answer can differ);
  // question 14 flips from "usa" (right) to "russia" (wrong).
  const b = okvqa(['run', PIPELINE, ...common, '--out', join(fx.dir, 'runB'), '--set', 'nodes.candidates.params.k=1'], env);
  expect(b.stderr).toContain('4 answered, 0 failed');
  report = join(fx.dir, 'report.html');
  compare = join(fx.dir, 'compare.html');
  const r1 = okvqa(['report', join(fx.dir, 'runA'), '--out', report]);
  expect(r1.code, r1.stderr).toBe(0);
  expect(r1.stderr).toContain('4 questions, 2 images');
  const r2 = okvqa(['report', join(fx.dir, 'runA'), '--compare', join(fx.dir, 'runB'), '--out', compare]);
  expect(r2.code, r2.stderr).toBe(0);
}, 120_000);

describe('okvqa report: the file', () => {
  it('is one self-contained file: no network reference, data payloads never appear as markup', () => {
    const html = readFileSync(compare, 'utf8');
    expect(statSync(compare).size).toBeLessThan(2_000_000);
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(html).toContain("default-src 'none'");
    for (const p of Object.values(PAYLOADS)) expect(html).not.toContain(p);
    expect(html).not.toContain('<script>window.__pwned');
    expect(html).not.toContain('onerror="window');
    expect(html).not.toContain('\u2028');
    expect(html.match(/<script/g)).toHaveLength(4); // index, thumbnails, one chunk of details, the page's own script
  });

  it('escapes JSON for a script element and text for HTML', () => {
    const s = jsonForScript({ a: '</script><!-- \u2028\u2029 & >' });
    expect(s).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(s)).toEqual({ a: '</script><!-- \u2028\u2029 & >' });
    expect(escapeHtml(`<a href="x" onclick='y'>&`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;');
  });
});

describeNeeds(!hasChromium && noChromiumReason)(`okvqa report in headless chromium${hasChromium ? '' : ` (${noChromiumReason})`}`, () => {
  let browser: Browser;
  const shots = screenshotDir(join(process.env.TMPDIR ?? '/tmp', 'okvqa-report-shots'));
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders, filters, sorts, shows an image with boxes; no injected script runs', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`file://${report}`);
    await page.waitForFunction(() => (window as unknown as { __okvqaReport?: { ready: boolean } }).__okvqaReport?.ready);
    expect(await page.locator('#qtable .row').count()).toBe(4);
    expect(await page.locator('#f-count').textContent()).toBe('4 of 4 questions');
    expect(await page.locator('#categories svg.chart').count()).toBeGreaterThan(0);
    expect(await page.locator('#stages table tbody tr').count()).toBe(5);
    // The run among published results: a chart, the run's bar marked, and the subset and annotation caveats said.
    expect(await page.locator('.leaderboard svg.chart').count()).toBe(1);
    expect(await page.locator('.leaderboard svg.chart rect.bar.run').count()).toBe(1);
    expect(await page.locator('.leaderboard h4').first().textContent()).toMatch(/^OK-VQA .*: #\d+ of \d+ \(this run covers 4 of 5,046 questions; scored with the official VQA accuracy on raw answers\)$/);
    expect(await page.locator('.leaderboard .caveats li').allTextContents()).toContainEqual(expect.stringMatching(/KAT large \(both knowledge, single model\): KAT's okvqa_ems metric/));
    const top = await page.screenshot({ fullPage: false });
    await saveShot(shots, 'report.png', top);

    // Filter: text search, then the outcome filter.
    await page.fill('#f-text', 'astronaut');
    const n = Number((await page.locator('#f-count').textContent())!.split(' ')[0]);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(4);
    await page.fill('#f-text', '');
    await page.selectOption('#f-outcome', 'wrong');
    const wrong = await page.locator('#qtable .row').count();
    await page.selectOption('#f-outcome', 'right');
    expect((await page.locator('#qtable .row').count()) + wrong).toBe(4);
    await page.selectOption('#f-outcome', '');

    // Sort by id descending then ascending.
    await page.click('.row.head .c-id');
    const ids = await page.locator('#qtable .rows .c-id').allTextContents();
    expect(ids).toEqual([...ids].sort());
    await page.click('.row.head .c-id');
    expect(await page.locator('#qtable .rows .c-id').allTextContents()).toEqual([...ids].reverse());

    // Details on demand: the payload question, with its photo and the detector's boxes.
    await page.click('#qtable .row[data-qid="11"]');
    const detail = page.locator('#detail .details');
    await detail.waitFor();
    expect(await detail.locator('h3').textContent()).toContain(PAYLOADS.question);
    expect(await detail.locator('[data-node="captions"] q').textContent()).toBe(PAYLOADS.caption);
    expect(await detail.locator('.answers .pred b').textContent()).toBe(PAYLOADS.answer);
    expect(await detail.locator('svg.pic image').count()).toBe(1);
    expect(await detail.locator('svg.pic rect.box').count()).toBeGreaterThan(1);
    expect(await detail.locator('svg.pic text.boxlbl').first().textContent()).toMatch(/\w/);
    expect(await detail.locator('details.prompt').count()).toBe(0);
    // No element the payloads would have created exists, and nothing they would run has run.
    expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await page.locator('img[src="x"], img[src="y"], #app script, svg[onload]').count()).toBe(0);
    expect(errors).toEqual([]); // no page error, and no CSP violation (nothing injected even tried to run)

    const detailPng = await detail.screenshot();
    await saveShot(shots, 'report-detail.png', detailPng);
    for (const p of [top, detailPng]) {
      const s = await screenshotStats(p);
      expect(s.maxStdev).toBeGreaterThan(20);
      expect(s.distinctish).toBeGreaterThan(8);
    }
    await page.close();
  });

  it('compares two runs: flips, deltas per category, nodes that differ', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`file://${compare}`);
    await page.waitForFunction(() => (window as unknown as { __okvqaReport?: { ready: boolean } }).__okvqaReport?.ready);
    const png = await page.screenshot({ fullPage: false });
    await saveShot(shots, 'report-compare.png', png);
    expect((await screenshotStats(png)).maxStdev).toBeGreaterThan(20);
    const text = await page.locator('#compare').textContent();
    expect(text).toContain('4 questions in both runs; answer changed on 1; 0 flipped wrong → right, 1 right → wrong');
    expect(text).toContain('candidates'); // the node whose params differ
    expect(await page.locator('#categories').textContent()).toMatch(/82\.50 → 57\.50\s+n=4\s+Δ -25\.00/);
    expect(await page.locator('.summaries .summary').count()).toBe(2);
    expect(await page.locator('#categories .chart rect.bar.b').count()).toBeGreaterThan(0);
    await page.selectOption('#f-cmp', 'towrong');
    expect(await page.locator('#qtable .rows .c-id').allTextContents()).toEqual(['14']);
    expect(await page.locator('#qtable .rows .c-bpred').allTextContents()).toEqual(['russia']);
    await page.selectOption('#f-cmp', 'toright');
    expect(await page.locator('#qtable .rows .row').count()).toBe(0);
    await page.selectOption('#f-cmp', 'nodediff');
    const differing = await page.locator('#qtable .rows .row').count();
    expect(differing).toBeGreaterThan(0);
    for (const d of await page.locator('#qtable .rows .c-diff').allTextContents()) expect(Number(d)).toBeGreaterThan(0);
    await page.locator('#qtable .rows .row').first().click();
    expect(await page.locator('#detail .bside').textContent()).toContain('nodes whose outputs differ: candidates');
    await page.selectOption('#f-cmp', '');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(errors).toEqual([]); // no page error, and no CSP violation (nothing injected even tried to run)
    await page.close();
  });
});
