import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRunContext, createRunContext, loadPipeline } from '../../src/answerer.js';
import { runPipeline as runBatch } from '../../src/answerer.js';
import { resolveConfig } from '../../src/core/config.js';
import { loadSamples } from '../../src/data/data-file.js';
import { completionReply, TestLlmServer } from './server.js';
import { FIXTURES, fixtureData } from './helpers.js';

let server: TestLlmServer;
beforeAll(async () => {
  server = await new TestLlmServer().start();
});
afterAll(async () => {
  await server.stop();
});

describe('implicit knowledge through the runner', () => {
  it('traces PICa prompts, rationale prompts and passages per question', async () => {
    server.handler = (body) => {
      const p: string = body.prompt;
      if (p.endsWith('This is because')) return completionReply(body, { text: ' of what it is used for.' });
      const q = p.slice(p.lastIndexOf('Q: ') + 3);
      return completionReply(body, { text: q.length % 2 ? ' fern' : ' Moss', tokens: [{ token: 'x', logprob: -(q.length % 5) / 10 }] });
    };
    const data = fixtureData();
    const config = resolveConfig({ overrides: { llm: { baseURL: server.baseURL, model: 'm', maxRetries: 0 } }, env: {} });
    const out = mkdtempSync(join(tmpdir(), 'okvqa-implicit-'));
    const ctx = createRunContext({ config: { ...config, cache: { ...config.cache, path: join(out, "cache.sqlite") } }, data });
    try {
      const pipeline = loadPipeline(join(FIXTURES, 'implicit.yaml'));
      const summary = await runBatch({ pipeline, samples: loadSamples(data), ctx, outDir: out });
      expect(summary).toMatchObject({ ok: 3, failed: 0 });
      const trace = readFileSync(join(out, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      for (const q of trace) {
        expect(q.nodes.prompts.output).toHaveLength(3);
        const cands = q.nodes.implicit.output;
        expect(cands.length).toBeGreaterThan(0);
        for (const c of cands) expect(c.evidence).toBe('of what it is used for.');
        expect(Object.keys(q.nodes.implicit.notes).some((k) => k.startsWith('rationale:'))).toBe(true);
        const best = [...q.nodes.prompts.output].sort((a, b) => b.logprob - a.logprob)[0];
        expect(q.prediction.answer).toBe(best.answer);
        expect(cands[0].answer).toBe(best.answer);
        expect(q.usage.calls).toBe(3 + cands.length);
      }
    } finally {
      await closeRunContext(ctx);
    }
  });
});
