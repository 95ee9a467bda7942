import { main } from '../../src/cli/main.js';

/**
 * Run the CLI inside the test process (no Node start-up per call): captures stdout/stderr and the exit code.
 * `env` replaces okvqa's own variables (OKVQA_*, OPENAI_*, HF_HUB_OFFLINE) for the call, as the spawned CLI helper does.
 */
export async function okvqaIn(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (/^(OKVQA_|OPENAI_|HF_HUB_OFFLINE$)/.test(k)) delete process.env[k];
  Object.assign(process.env, env);
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => (err.push(String(s)), true)) as typeof process.stderr.write;
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await main(['node', 'okvqa', ...args]);
    return { code: Number(process.exitCode ?? 0), stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
    process.exitCode = before;
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}
