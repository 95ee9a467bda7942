import type { BatchSummary } from '../core/batch.js';
import { isUsageOrInputError } from '../core/errors.js';

/** Exit codes of the okvqa command (README, "Exit codes"). */
export const EXIT = {
  /** Everything asked for was done: every question answered. */
  ok: 0,
  /** A failure that is not the user's input (a bug, the network, a server). */
  failure: 1,
  /** Usage or input error found before starting: nothing ran. */
  usage: 2,
  /** The run finished but some questions failed; the summary lists them by kind. */
  someFailed: 3,
  /** Interrupted (Ctrl-C): finished questions are kept; `--resume` continues. */
  interrupted: 130,
} as const;

/** The pre-flight checks found problems: the run was refused before it started. */
export class PreflightError extends Error {
  override name = 'PreflightError';
}

export function runExitCode(s: Pick<BatchSummary, 'failed' | 'interrupted'>): number {
  if (s.interrupted) return EXIT.interrupted;
  return s.failed > 0 ? EXIT.someFailed : EXIT.ok;
}

/** Exit code for an error that ended a command. */
export function errorExitCode(err: unknown): number {
  return err instanceof PreflightError || isUsageOrInputError(err) ? EXIT.usage : EXIT.failure;
}
