/**
 * Issue 17 ("first contact"): what a new user hit on the first commands — each case failed before the fix.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { okvqa, repoRoot } from '../helpers/cli.js';

const mini = join(repoRoot, 'test/fixtures/okvqa-mini/data.json');
const annotations = join(repoRoot, 'test/fixtures/okvqa-mini/val_annotations.json');

describe('first contact (issue 17)', () => {
  it('OKVQA_DATA_BASE_URL, exported for `data fetch`, does not stop other commands', () => {
    const r = okvqa(['check', 'prior', '--data', mini], { OKVQA_DATA_BASE_URL: 'http://127.0.0.1:9/' }, 60_000);
    expect(r.stderr).not.toMatch(/unknown variable/);
    expect(r.code).toBe(0);
  });

  it('okvqa eval: predictions that do not match the annotations are an input error (exit 2)', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'okvqa-eval-'));
    const anns = JSON.parse(readFileSync(annotations, 'utf8')) as { annotations: { question_id: number }[] };
    const ids = anns.annotations.map((a) => a.question_id);
    const preds = join(tmp, 'preds.json');
    // one question missing: the official script's assertion (ids must match)
    writeFileSync(preds, JSON.stringify(ids.slice(1).map((id) => ({ question_id: id, answer: 'x' }))));
    const r = okvqa(['eval', '--annotations', annotations, '--predictions', preds], {}, 60_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/preds\.json/);
    // the matching set still scores (exit 0)
    writeFileSync(preds, JSON.stringify(ids.map((id) => ({ question_id: id, answer: 'x' }))));
    expect(okvqa(['eval', '--annotations', annotations, '--predictions', preds], {}, 60_000).code).toBe(0);
  });
});
