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
