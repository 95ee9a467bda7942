// Benchmarks exit non-zero when a section cannot run or fails (npm run bench -- <name>), and say why; the eval bench
// names where to get the official evaluator instead of carrying a copy of it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot } from '../helpers/cli.js';

const bench = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(repoRoot, 'eval', 'bench', 'index.js'), ...args], { cwd: repoRoot, env: { ...cleanEnv(), ...env }, encoding: 'utf8', timeout: 120_000 });

describe('bench exit codes', () => {
  it('the repository carries no copy of the official VQA evaluator', () => {
    expect(existsSync(join(repoRoot, 'eval', 'bench', 'vqa-official'))).toBe(false);
  });

  it('eval without the official evaluator: exit 2, how to get it', () => {
    const r = bench(['eval', '--runs', '1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/git clone https:\/\/github\.com\/GT-Vision-Lab\/VQA/);
    expect(r.stderr).toMatch(/--official|OKVQA_VQA_OFFICIAL/);
    const bad = bench(['eval', '--runs', '1', '--official', repoRoot]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/is not a checkout of GT-Vision-Lab\/VQA/);
  });

  it('a failing section fails the bench; the run of every bench reports the first failure', () => {
    const r = bench(['pipeline', 'no-such-pipeline', '--size', 'tiny', '--questions', '1']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no-such-pipeline/);
    const unknown = bench(['no-such-bench']);
    expect(unknown.status).toBe(2);
  });
});
