/** A problem with an input file or value: names the file and, where known, the field and line. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(
    message: string,
    readonly file?: string,
    readonly field?: string,
    readonly line?: number,
  ) {
    super(
      [file && `${file}${line !== undefined ? `:${line}` : ''}`, field && `field "${field}"`, message]
        .filter(Boolean)
        .join(': '),
    );
  }
}

/** A pipeline definition that does not compile: names the file, node and field. */
export class PipelineError extends Error {
  override name = 'PipelineError';
  constructor(
    message: string,
    readonly file: string,
    readonly node?: string,
    readonly field?: string,
  ) {
    super(`${file}${node ? ` node "${node}"` : ''}${field ? ` field "${field}"` : ''}: ${message}`);
  }
}

/** A configuration value or key that is wrong (unknown key, bad value, conflicting flags). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The command line was used wrongly (missing argument, bad flag value). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Errors found before a run starts: exit code 2 (see README "Exit codes"). */
export function isUsageOrInputError(err: unknown): boolean {
  return err instanceof InputError || err instanceof PipelineError || err instanceof ConfigError || err instanceof UsageError;
}

/** A stage failed on one question. The runner records it and goes on with the batch. */
export class StageError extends Error {
  override name = 'StageError';
  constructor(
    readonly stage: string,
    readonly node: string,
    readonly questionId: string,
    override readonly cause: unknown,
  ) {
    super(`question ${questionId}: node "${node}" (${stage}): ${errorMessage(cause)}`);
  }
}

/** Raised in cache replay mode when a result is not in the cache. */
export class CacheMissError extends Error {
  override name = 'CacheMissError';
  constructor(readonly key: string, what: string) {
    super(`cache miss in replay mode for ${what} (key ${key.slice(0, 16)}…)`);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
