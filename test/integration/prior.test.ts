import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { okvqa, repoRoot } from '../helpers/cli.js';

const data = join(repoRoot, 'test/fixtures/okvqa-mini/data.json');
const fixture = join(repoRoot, 'test/fixtures/okvqa-mini');

describe('okvqa CLI: run prior end to end', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'okvqa-cli-'));
  const env = { OKVQA_CACHE_PATH: join(tmp, 'cache.sqlite') };

  it('bin is executable with a node shebang', () => {
    const bin = join(repoRoot, 'bin/okvqa.js');
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    expect(statSync(bin).mode & 0o111).not.toBe(0);
  });

  it('writes the four files and scores the run like `okvqa eval`', () => {
    const out = join(tmp, 'run');
    const r = okvqa(['run', 'prior', '--data', data, '--out', out, '--no-progress'], env);
    expect(r.stderr).toContain('prior: 40 answered, 0 failed');
    expect(r.code).toBe(0);
    for (const f of ['predictions.json', 'metrics.json', 'trace.jsonl', 'manifest.json']) expect(existsSync(join(out, f))).toBe(true);
    const preds = JSON.parse(readFileSync(join(out, 'predictions.json'), 'utf8')) as { question_id: number; answer: string }[];
    expect(preds).toHaveLength(40);
    expect(typeof preds[0]!.question_id).toBe('number');
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    const e = okvqa(['eval', '--annotations', join(fixture, 'val_annotations.json'), '--predictions', join(out, 'predictions.json'), '--questions', join(fixture, 'val_questions.json'), '--json']);
    expect(e.code).toBe(0);
    const score = JSON.parse(e.stdout);
    expect(score.overall).toBe(metrics.overall);
    expect(score.perQuestion).toEqual(metrics.perQuestion);
    expect(Object.keys(score)).toEqual(expect.arrayContaining(['dataset', 'n', 'overall', 'perQuestion', 'perQuestionType', 'perAnswerType']));
    const trace = readFileSync(join(out, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(trace).toHaveLength(40);
    expect(trace[0].nodes.candidates.output.length).toBeGreaterThan(0);
    expect(trace[0].nodes.candidates.cached).toBe(false);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('complete');
    expect(manifest.okvqa.version).toBe('0.1.0');
    expect(manifest.config.cache.mode).toBe('rw');
    expect(manifest.startedAt <= manifest.endedAt).toBe(true);
  });

  it('a rerun is served from the cache; replay mode works without recomputing', () => {
    const out = join(tmp, 'rerun');
    const r = okvqa(['run', 'prior', '--data', data, '--out', out, '--cache', 'replay', '--no-progress'], env);
    expect(r.code).toBe(0);
    const trace = readFileSync(join(out, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(trace.every((t) => t.nodes.candidates.cached === true)).toBe(true);
  });

  it('replay: a missing cache file is an error; a cache miss fails each question with a clear error', () => {
    const none = okvqa(['run', 'prior', '--data', data, '--out', join(tmp, 'replay-none'), '--cache', 'replay', '--no-progress'], { OKVQA_CACHE_PATH: join(tmp, 'absent.sqlite') });
    expect(none.code).toBe(2); // input error before starting
    expect(none.stderr).toContain(`cache replay: no cache file at ${join(tmp, 'absent.sqlite')}`);
    expect(existsSync(join(tmp, 'absent.sqlite'))).toBe(false);
    const out = join(tmp, 'replay-miss');
    const r = okvqa(['run', 'prior', '--data', data, '--out', out, '--cache', 'replay', '--limit', '3', '--set', 'nodes.candidates.params.k=7', '--no-progress'], env);
    expect(r.stderr).toMatch(/failed ×3: candidates \(candidates.prior\): cache miss in replay mode/);
    expect(r.code).toBe(3); // some questions failed
  });

  it('--limit, --set on node params, --resume', () => {
    const out = join(tmp, 'limited');
    const r = okvqa(['run', 'prior', '--data', data, '--out', out, '--limit', '5', '--set', 'nodes.candidates.params.k=5', '--no-progress'], env);
    expect(r.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.nodes.find((n: { name: string }) => n.name === 'candidates').params.k).toBe(5);
    expect(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).n).toBe(5);
    const again = okvqa(['run', 'prior', '--data', data, '--out', out, '--limit', '5', '--set', 'nodes.candidates.params.k=5', '--resume', '--no-progress'], env);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('5 from the earlier run');
    expect(readFileSync(join(out, 'trace.jsonl'), 'utf8').trim().split('\n')).toHaveLength(5);
  });

  it('graph and stages print the DAG and the registry', () => {
    const g = okvqa(['graph', 'prior', '--format', 'json']);
    expect(g.code).toBe(0);
    expect(JSON.parse(g.stdout).edges).toContainEqual({ from: 'candidates', to: 'answer', input: 'candidates' });
    const s = okvqa(['stages', '--json']);
    expect(JSON.parse(s.stdout).map((x: { id: string }) => x.id)).toContain('candidates.prior');
    const bad = okvqa(['graph', 'nonexistent-pipeline']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no pipeline named "nonexistent-pipeline"/);
  });

  it('eval reports missing predictions as the official script does', () => {
    const e = okvqa(['eval', '--annotations', join(fixture, 'val_annotations.json'), '--predictions', join(repoRoot, 'test/fixtures/eval/adversarial-predictions.json')]);
    expect(e.code).toBe(2); // an input error (issue 17), as everywhere else
    expect(e.stderr).toMatch(/Results do not correspond to the annotation set: 40 annotated question\(s\) have no prediction/);
  });
});
