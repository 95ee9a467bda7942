/**
 * Issue 17 ("first contact"): what a new user hit on the first commands — each case failed before the fix.
 */
import { spawnSync } from 'node:child_process';
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

describe('npm configuration (issue 17)', () => {
  it('npm in this repository warns about no unknown project config key', () => {
    const r = spawnSync('npm', ['config', 'get', 'registry'], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, npm_config_onnxruntime_node_install: undefined, npm_config_onnxruntime_node_install_cuda: undefined } });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/Unknown (project|env) config/);
  });

  it('.ci/run skips the CUDA download the way the installed onnxruntime-node reads it', () => {
    const ci = readFileSync(join(repoRoot, '.ci/run'), 'utf8');
    expect(ci).toMatch(/^export ONNXRUNTIME_NODE_INSTALL=skip$/m);
    // the installed version's install script honours that variable: with it, the script exits before any download
    const r = spawnSync(process.execPath, [join(repoRoot, 'node_modules/onnxruntime-node/script/install.js')], {
      cwd: join(repoRoot, 'node_modules/onnxruntime-node'),
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ONNXRUNTIME_NODE_INSTALL: 'skip', HTTPS_PROXY: 'http://127.0.0.1:9', GLOBAL_AGENT_HTTPS_PROXY: 'http://127.0.0.1:9' },
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/download/i);
  });
});
