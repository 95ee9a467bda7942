import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { closeRunContext, createRunContext, loadPipeline } from '../../src/api.js';
import { runBatch } from '../../src/core/batch.js';
import { resolveConfig } from '../../src/core/config.js';
import { loadDataFile, loadSamples } from '../../src/data/data-file.js';
import { writeReport } from '../../src/report/report.js';
import { createRegistry } from '../../src/stages/index.js';
import { hasChromium, launch, noChromiumReason, watchErrors } from '../helpers/browser.js';
import { repoRoot } from '../helpers/cli.js';
import { TestLlmServer } from '../llm/server.js';
import { QA_PIPELINE, scriptLlm, testOverlapReader } from '../serve/qa-fixture.js';

// A run whose reader gives each passage an attribution (a test double of reader.fid, as the contract defines it:
// one score per passage of its `passages` input, in order), over the REVIVE fixture data: photos, tiny KB, pool.
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-report-attr-'));
let llm: TestLlmServer;
let report: string;

beforeAll(async () => {
  llm = await new TestLlmServer().start();
  scriptLlm(llm);
  const registry = createRegistry([testOverlapReader]);
  const data = loadDataFile(join(repoRoot, 'test', 'fixtures', 'revive', 'data.json'));
  const config = resolveConfig({ overrides: { models: { profile: 'tiny', offline: true }, llm: { baseURL: llm.baseURL, apiKey: 'test', model: 'test-davinci', maxRetries: 0 }, cache: { path: join(tmp, 'cache.sqlite') } }, env: {} });
  const ctx = createRunContext({ config, data });
  try {
    const summary = await runBatch({ pipeline: loadPipeline(QA_PIPELINE, { registry }), samples: loadSamples(data), ctx, outDir: join(tmp, 'run'), manifest: { data } });
    expect(summary.failed).toBe(0);
  } finally {
    await closeRunContext(ctx);
  }
  report = (await writeReport(join(tmp, 'run'), { registry })).out;
}, 120_000);
afterAll(async () => {
  await llm?.stop();
});

describe.skipIf(!hasChromium)(`report: passages with the reader's attribution${hasChromium ? '' : ` (${noChromiumReason})`}`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows each passage of the reader with its attribution, rationales, prompts collapsed, regions on the photo', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`file://${report}`);
    await page.waitForFunction(() => (window as unknown as { __okvqaReport?: { ready: boolean } }).__okvqaReport?.ready);
    expect(await page.locator('#categories').textContent()).toContain('with retrieved knowledge');
    await page.click('#qtable .row[data-qid="10"]');
    const d = page.locator('#detail .details');
    await d.waitFor();
    // Both passage nodes feeding the reader get an attribution column with one meter per passage.
    for (const node of ['entities', 'rationales']) {
      const table = d.locator(`[data-node="${node}"] table`);
      expect(await table.locator('th').allTextContents()).toContain('attribution');
      const rows = await table.locator('tbody tr').count();
      expect(rows).toBeGreaterThan(0);
      expect(await table.locator('tbody .meter').count()).toBe(rows);
    }
    expect(await d.locator('[data-node="implicit"] table').textContent()).toContain('a cup of coffee is on the saucer');
    expect(await d.locator('details.prompt').count()).toBeGreaterThan(0);
    expect(await d.locator('details.prompt[open]').count()).toBe(0);
    expect(await d.locator('svg.pic rect.box').count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
