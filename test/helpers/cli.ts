import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');

/** Run the built CLI (bin/okvqa.js) and capture its output. */
export function okvqa(args: string[], env: Record<string, string> = {}, timeout = 120_000) {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'okvqa.js'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, OKVQA_CACHE_MODE: '', ...env },
    encoding: 'utf8',
    timeout,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
