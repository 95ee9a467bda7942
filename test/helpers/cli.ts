import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');

/** The environment without okvqa's own variables, which would override every other config layer. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(OKVQA_|OPENAI_|HF_HUB_OFFLINE$)/.test(k)) out[k] = v;
  return out;
}

/** Run the built CLI (bin/okvqa.js) and capture its output. */
export function okvqa(args: string[], env: Record<string, string> = {}, timeout = 120_000) {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'okvqa.js'), ...args], {
    cwd: repoRoot,
    env: { ...cleanEnv(), ...env },
    encoding: 'utf8',
    timeout,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
