import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/report.js';
import { createRegistry } from '../../src/stages/index.js';

const blob = (html: string) => JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!);

describe('okvqa report: tolerant of what a run left', () => {
  it('works from trace.jsonl alone: no manifest, no data, sparse and torn lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'okvqa-report-sparse-'));
    writeFileSync(
      join(dir, 'trace.jsonl'),
      [
        JSON.stringify({ questionId: 'a', ok: true, prediction: { answer: 'dog' } }),
        JSON.stringify({ questionId: 'b', ok: false, error: { node: 'x', stage: 'y.z', message: 'boom' }, nodes: { x: { stage: 'y.z', ms: 3, cached: false, error: 'boom' } } }),
        JSON.stringify({ questionId: 'c', ok: true, nodes: { p: { stage: 'unknown.stage', ms: 1, cached: true, output: [{ text: 'a passage', score: 0.5 }] } }, prediction: { answer: 'cat', score: 1 }, usage: { calls: 2 } }),
        '{"questionId": "d", "ok": tr', // torn last line
      ].join('\n'),
    );
    const r = await writeReport(dir, { registry: createRegistry(), out: join(dir, 'r.html') });
    expect(r.questions).toBe(3);
    const data = blob(readFileSync(r.out, 'utf8'));
    expect(data.warnings.join(' ')).toMatch(/1 unreadable line/);
    expect(data.warnings.join(' ')).toMatch(/no manifest\.json/);
    expect(data.run).toMatchObject({ answered: 3, failed: 1, accuracy: null, usage: { calls: 2 } });
    expect(data.questions.map((q: { id: string; pred?: string; err?: string }) => [q.id, q.pred ?? q.err])).toEqual([['a', 'dog'], ['b', 'x (y.z): boom'], ['c', 'cat']]);
    expect(data.nodes.map((n: { name: string }) => n.name)).toEqual(['x', 'p']);
    expect(data.stages.find((s: { node: string }) => s.node === 'x')).toMatchObject({ runs: 1, errors: 1 });
  });

  it('an unknown folder is a clear error', async () => {
    await expect(writeReport(mkdtempSync(join(tmpdir(), 'okvqa-report-none-')))).rejects.toThrow(/no trace\.jsonl/);
  });
});

describe('compactValue', () => {
  it('keeps every attribution score as a number; cuts lists with a note; drops vectors and token lists', async () => {
    const { compactValue } = await import('../../src/report/compact.js');
    const attribution = Array.from({ length: 40 }, (_, i) => 1 / (i + 3));
    const passages = Array.from({ length: 40 }, (_, i) => ({ text: `p${i}`, score: i }));
    const out = compactValue({ answer: 'x', attribution, passages, embedding: [1, 2, 3], tokens: [{ token: 'a', logprob: -1 }], v: Array(64).fill(0.5), prompt: 'y'.repeat(50) }, { maxList: 24, maxString: 10 }) as Record<string, unknown>;
    expect(out.attribution).toEqual(attribution.map((x) => Number(x.toPrecision(4))));
    expect(out.passages).toHaveLength(25);
    expect((out.passages as unknown[])[24]).toBe('[… 16 more items in trace.jsonl]');
    expect(out.embedding).toBe('[3 items not in the report]');
    expect(out.tokens).toBe('[1 items not in the report]');
    expect(out.v).toBe('[vector of 64 numbers]');
    expect(out.prompt).toBe('[… 40 earlier characters not in the report; see trace.jsonl]\n' + 'y'.repeat(10));
  });
});
