import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { closeRunContext, createRunContext, loadPipeline, runPipeline as runBatch } from '../../src/answerer.js';
import { resolveConfig } from '../../src/core/config.js';
import { loadDataFile, loadSamples } from '../../src/data/data-file.js';
import { writeReport } from '../../src/report/report.js';
import { createRegistry } from '../../src/stages/index.js';
import { hasChromium, launch, noChromiumReason, watchErrors } from '../helpers/browser.js';
import { repoRoot } from '../helpers/cli.js';
import { TestLlmServer } from '../llm/server.js';
import { QA_PIPELINE, scriptLlm, testOverlapReader } from '../serve/qa-fixture.js';
import { describeNeeds } from '../helpers/requires.js';

// A run whose reader gives each passage an attribution (a test double of reader.fid, as the contract defines it:
// one score per passage of its `passages` input, in order), over the REVIVE fixture data: photos, tiny KB, pool.
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-report-attr-'));
let llm: TestLlmServer;
let report: string;

beforeAll(async () => {
  llm = await new TestLlmServer().start();
  scriptLlm(llm);
  const registry = createRegistry([testOverlapReader]);
  const data = loadDataFile(join(repoRoot, 'assets', 'demo', 'data.json'));
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

describeNeeds(!hasChromium && noChromiumReason)(`report: passages with the reader's attribution${hasChromium ? '' : ` (${noChromiumReason})`}`, () => {
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
    // LLM calls per stage: the prompts node made one call per question, the rationale node one per candidate.
    const llmCells = await page.locator('#stages tbody tr').evaluateAll((rows) => Object.fromEntries(rows.map((tr) => [tr.children[0]!.textContent, tr.children[10]!.textContent])));
    expect(llmCells.prompts).toBe('3 (+0)');
    expect(llmCells.implicit).toMatch(/^[1-9]\d* \(\+\d+\)$/);
    expect(llmCells.regions).toBe('–');
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

  it('keeps passages and attribution aligned when the report shows only the start of a long passage list', async () => {
    // A hand-made run: the reader read 30 retrieved passages then 3 rationales; attribution[i] = i / 100.
    const dir = join(tmp, 'long');
    mkdirSync(dir);
    const knowledge = Array.from({ length: 30 }, (_, i) => ({ text: `entity ${i}`, score: 1 - i / 100, source: 'kb' }));
    const rationales = [0, 1, 2].map((i) => ({ text: `rationale ${i}`, score: 0.5, source: 'rationale' }));
    const attribution = Array.from({ length: 33 }, (_, i) => i / 100);
    const prediction = { answer: 'x', attribution };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({
      pipeline: { name: 'long', output: 'answer' },
      nodes: [
        { name: 'knowledge', stage: 'retrieve.entities', inputs: {} },
        { name: 'rationales', stage: 'implicit.passages', inputs: {} },
        { name: 'answer', stage: 'reader.fid', inputs: { passages: ['knowledge', 'rationales'] } },
      ],
    }));
    writeFileSync(join(dir, 'trace.jsonl'), JSON.stringify({
      questionId: 'q1', ok: true, prediction,
      nodes: { knowledge: { stage: 'retrieve.entities', ms: 1, cached: false, output: knowledge }, rationales: { stage: 'implicit.passages', ms: 1, cached: false, output: rationales }, answer: { stage: 'reader.fid', ms: 1, cached: false, output: prediction } },
    }) + '\n');
    // A tiny size budget makes the report cut lists to their first 24 items.
    const r = await writeReport(dir, { maxBytes: 1000 });
    expect(r.data.warnings.join(' ')).toMatch(/first 24 items/);
    const page = await browser.newPage();
    await page.goto(`file://${r.out}`);
    await page.waitForFunction(() => (window as unknown as { __okvqaReport?: { ready: boolean } }).__okvqaReport?.ready);
    await page.click('#qtable .row[data-qid="q1"]');
    const cells = async (node: string) =>
      page.locator(`#detail [data-node="${node}"] tbody tr`).evaluateAll((rows) => rows.map((tr) => [tr.children[1]!.textContent, tr.children[4]!.textContent!.trim()]));
    const k = await cells('knowledge');
    expect(k).toHaveLength(24);
    expect(k[23]).toEqual(['entity 23', '0.230']);
    expect(await page.locator('#detail [data-node="knowledge"] p.muted').textContent()).toContain('6 more items in trace.jsonl');
    expect(await cells('rationales')).toEqual([['rationale 0', '0.300'], ['rationale 1', '0.310'], ['rationale 2', '0.320']]);
    await page.close();
  });
});
