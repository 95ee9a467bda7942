/** Debian's Python (python3-torch, python3-numpy, …) for reference checks; tests skip with a reason when it is absent. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = '/usr/bin/python3';

/** Why a Python reference test cannot run here (missing interpreter or module), or undefined when it can. */
export function pythonMissing(modules: readonly string[] = []): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ') || 'pass'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `${PYTHON} lacks ${modules.join(', ')}: ${r.stderr.trim().split('\n').pop()}`;
}

/** Run a Python script (source text) with arguments and optional stdin; throws with stderr on failure. */
export function runPython(script: string, args: readonly string[] = [], input?: string): string {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
